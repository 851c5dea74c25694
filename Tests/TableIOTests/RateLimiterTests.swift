import RunState
import Synchronization
import TableIO
import TestSupport
import Testing

@Suite struct RateLimiterTests {
    @Test func throttlingCutsTheRateByAThirdDownToOneUnit() {
        let limiter = RateLimiter(unitsPerSecond: 300)
        #expect(limiter.currentRate == 300)
        limiter.noteThrottle()
        #expect(limiter.currentRate == 200)
        limiter.noteThrottle()
        #expect(limiter.currentRate.map { ($0 * 1000).rounded() / 1000 } == 133.333)
        for _ in 0..<40 { limiter.noteThrottle() }
        #expect(limiter.currentRate == 1)
        #expect(limiter.throttleCount == 42)
    }

    @Test func anUnlimitedLimiterStartsAtTwoThirdsOfWhatItAchieved() async throws {
        let time = TestClock()
        let limiter = RateLimiter(unitsPerSecond: nil, clock: time)
        #expect(limiter.currentRate == nil)
        try await limiter.acquire(900)
        time.advance(by: .seconds(3))
        limiter.noteThrottle()
        // 900 units in 3 s is 300/s; two thirds of that.
        #expect(limiter.currentRate == 200)
    }

    @Test func anUnlimitedLimiterSpreadsABurstOverAtLeastHalfASecond() async throws {
        let time = TestClock()
        let limiter = RateLimiter(unitsPerSecond: nil, clock: time)
        try await limiter.acquire(900)
        time.advance(by: .milliseconds(200))
        limiter.noteThrottle()
        // 900 units counted over 0.5 s (not 0.2 s) is 1800/s; two thirds of that.
        #expect(limiter.currentRate == 1200)
    }

    @Test func aSecondWithoutThrottlingRaisesTheRateByFivePercentUpToTheCeiling() async throws {
        let time = TestClock()
        let limiter = RateLimiter(unitsPerSecond: 300, clock: time)
        limiter.noteThrottle()
        #expect(limiter.currentRate == 200)
        time.advance(by: .milliseconds(900))
        try await limiter.acquire(1)
        #expect(limiter.currentRate == 200, "less than a second: no increase")
        time.advance(by: .milliseconds(200))
        try await limiter.acquire(1)
        #expect(limiter.currentRate == 210)
        for _ in 0..<20 {
            time.advance(by: .milliseconds(1001))
            try await limiter.acquire(1)
        }
        #expect(limiter.currentRate == 300, "never above the configured ceiling")
    }
}
