import RunState
import TableIO
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

    @Test func anUnlimitedLimiterGetsARateAtTheFirstThrottle() async throws {
        let limiter = RateLimiter(unitsPerSecond: nil)
        #expect(limiter.currentRate == nil)
        try await limiter.acquire(900)
        limiter.noteThrottle()
        // Two thirds of what was used, spread over at least half a second.
        let rate = try #require(limiter.currentRate)
        #expect(rate > 0 && rate <= 1200)
    }
}
