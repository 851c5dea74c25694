import RunState
import Synchronization
import TableIO
import TestSupport
import Testing

/// The adaptive limiter's state machine, driven on a test clock: no real time passes.
@Suite struct RateLimiterTests {
    /// Reports `unitsPerSecond` accepted for `seconds`, in ten answers a second, advancing the clock.
    func feed(_ limiter: RateLimiter, _ time: TestClock, unitsPerSecond: Double, seconds: Int) {
        for _ in 0..<(seconds * 10) {
            time.advance(by: .milliseconds(100))
            limiter.record(consumed: unitsPerSecond / 10)
        }
    }

    func close(_ a: Double?, _ b: Double, within tolerance: Double = 1e-6) -> Bool {
        guard let a else { return false }
        return abs(a - b) <= tolerance * max(1, abs(b))
    }

    @Test func aCeilingIsTheRateUntilDynamoDBThrottlesAndWaitsAreOnTheInjectedClock() async throws {
        let time = TestClock()
        let limiter = RateLimiter(unitsPerSecond: 100, clock: time)
        #expect(limiter.currentRate == 100)
        try await limiter.acquire(100)  // one second's worth is in the bucket
        #expect(time.recorded.isEmpty)
        try await limiter.acquire(50)
        #expect(time.recorded == [.milliseconds(500)])
        #expect(limiter.currentRate == 100)
    }

    @Test func withoutACeilingEverythingPassesUntilTheFirstThrottle() async throws {
        let time = TestClock()
        let limiter = RateLimiter(unitsPerSecond: nil, clock: time)
        for _ in 0..<100 { try await limiter.acquire(1_000) }
        #expect(time.recorded.isEmpty)
        #expect(limiter.currentRate == nil)
        feed(limiter, time, unitsPerSecond: 400, seconds: 10)
        limiter.note(.throttled)
        #expect(limiter.currentRate != nil)
    }

    @Test func aThrottledCallCutsToEightyPercentOfTheMeasuredRateNotTheConfiguredOne() {
        let time = TestClock()
        let limiter = RateLimiter(unitsPerSecond: 1_000, clock: time)
        feed(limiter, time, unitsPerSecond: 250, seconds: 20)
        let measured = limiter.measuredRate
        #expect(abs(measured - 250) < 250 * 0.05, "the measure follows what DynamoDB accepted: \(measured)")
        limiter.note(.throttled)
        #expect(close(limiter.currentRate, 0.8 * measured))
        #expect(limiter.throttleCount == 1)
        #expect(limiter.cutCount == 1)
    }

    @Test func unprocessedItemsForPartOfABatchCutLessThanAThrottledCall() {
        let time = TestClock()
        let limiter = RateLimiter(unitsPerSecond: 1_000, clock: time)
        feed(limiter, time, unitsPerSecond: 250, seconds: 20)
        let measured = limiter.measuredRate
        limiter.note(.unprocessed)
        #expect(close(limiter.currentRate, 0.9 * measured))
        #expect(limiter.unprocessedCount == 1)
        #expect(limiter.throttleCount == 0)
    }

    @Test func theRateClimbsBackOnACubicCurveThenProbesBeyond() {
        let time = TestClock()
        let limiter = RateLimiter(unitsPerSecond: nil, clock: time)
        feed(limiter, time, unitsPerSecond: 200, seconds: 20)
        let base = limiter.measuredRate
        limiter.note(.throttled)
        #expect(close(limiter.currentRate, 0.8 * base))
        // Keep DynamoDB accepting what the limiter allows, so only the curve bounds the rate.
        feed(limiter, time, unitsPerSecond: base, seconds: 1)
        // Half-way: most of the way back already (concave): 1 - 0.2/8 of the old rate.
        #expect(close(limiter.currentRate, base * (1 - 0.2 / 8)))
        feed(limiter, time, unitsPerSecond: base, seconds: 1)
        #expect(close(limiter.currentRate, base), "back at the rate throttling began after `recovery` (2 s)")
        feed(limiter, time, unitsPerSecond: base * 1.1, seconds: 2)
        #expect(close(limiter.currentRate, base * 1.2), "then probing beyond it, faster and faster")
    }

    @Test func probingNeverPassesTheCeilingNorTwiceWhatThePipelineUses() {
        let time = TestClock()
        let limiter = RateLimiter(unitsPerSecond: 300, clock: time)
        feed(limiter, time, unitsPerSecond: 280, seconds: 20)
        limiter.note(.throttled)
        feed(limiter, time, unitsPerSecond: 280, seconds: 20)
        #expect(limiter.currentRate == 300, "the configured ceiling (--write-percent) still caps")

        let idle = RateLimiter(unitsPerSecond: nil, clock: time)
        feed(idle, time, unitsPerSecond: 100, seconds: 20)
        let base = idle.measuredRate
        idle.note(.throttled)
        // Nothing more accepted for a minute (the pipeline had nothing to write): no rate built up unused.
        time.advance(by: .seconds(60))
        #expect(close(idle.currentRate, 0.8 * base))
    }

    @Test func signalsFromCallsSentBeforeTheLastCutDoNotCutAgain() async throws {
        let time = TestClock()
        let limiter = RateLimiter(unitsPerSecond: 1_000, clock: time)
        feed(limiter, time, unitsPerSecond: 500, seconds: 20)
        // Four writers had calls in flight when the table filled up.
        var inFlight: [ContinuousClock.Instant] = []
        for _ in 0..<4 { inFlight.append(try await limiter.acquire(25)) }
        time.advance(by: .milliseconds(10))
        for sent in inFlight { limiter.note(.throttled, sentAt: sent) }
        #expect(limiter.throttleCount == 4)
        #expect(limiter.cutCount == 1, "one congestion event, one cut")
        let afterOneCut = limiter.currentRate
        // A call sent after the cut that is throttled again is news (once the minimum interval has passed).
        time.advance(by: .milliseconds(1_000))
        let later = try await limiter.acquire(25)
        time.advance(by: .milliseconds(10))
        limiter.note(.throttled, sentAt: later)
        #expect(limiter.cutCount == 2)
        #expect(limiter.currentRate! < afterOneCut!)
    }

    @Test func theRateIsCutAtMostOnceASecond() {
        let time = TestClock()
        let limiter = RateLimiter(unitsPerSecond: 1_000, clock: time)
        feed(limiter, time, unitsPerSecond: 500, seconds: 20)
        // A flaky endpoint refuses every call for half a second: one cut.
        for _ in 0..<50 {
            limiter.note(.throttled)
            time.advance(by: .milliseconds(10))
        }
        #expect(limiter.cutCount == 1)
        #expect(limiter.throttleCount == 50)
        time.advance(by: .milliseconds(500))
        limiter.note(.unprocessed)
        #expect(limiter.cutCount == 2)
    }

    @Test func refundedUnitsCanBeTakenAgainWithoutWaiting() async throws {
        let time = TestClock()
        let limiter = RateLimiter(unitsPerSecond: 100, clock: time)
        try await limiter.acquire(100)
        limiter.refund(40)  // DynamoDB handed back items worth 40 units
        try await limiter.acquire(40)
        #expect(time.recorded.isEmpty)
    }

    @Test func theRateNeverDropsBelowTheMinimum() {
        let time = TestClock()
        let limiter = RateLimiter(unitsPerSecond: 300, clock: time)
        for _ in 0..<50 {
            time.advance(by: .seconds(1))
            limiter.note(.throttled)
        }
        #expect(limiter.currentRate == 1)
        #expect(limiter.throttleCount == 50)
    }

    /// The whole control loop against a simulated provisioned table (a token bucket of 250 WCU that
    /// banks up to 300 s of unused capacity, answering UnprocessedItems and throttling as DynamoDB does):
    /// over a minute of the test clock the limiter keeps the table at least 90 % busy.
    @Test func aSimulatedProvisionedTableIsKeptAtLeastNinetyPercentBusy() async throws {
        let time = TestClock()
        let limiter = RateLimiter(unitsPerSecond: nil, clock: time)
        let capacity = 250.0
        var tokens = capacity
        var last = time.now
        func table(_ units: Int) -> Int {
            let now = time.now
            tokens = min(capacity * 300, tokens + Double((now - last).components.attoseconds) * 1e-18 * capacity
                + Double((now - last).components.seconds) * capacity)
            last = now
            let taken = min(units, Int(tokens))
            tokens -= Double(taken)
            return taken
        }
        let start = time.now
        var written = 0
        var pending = 0
        while time.now - start < .seconds(60) {
            let batch = pending > 0 ? pending : 25
            let sent = try await limiter.acquire(Double(batch))
            time.advance(by: .milliseconds(5))  // the round trip
            let taken = table(batch)
            written += taken
            pending = batch - taken
            // As the writer does: every send stays paid, what was accepted is recorded.
            if taken == 0 {
                limiter.note(.throttled, sentAt: sent)
            } else {
                limiter.record(consumed: Double(taken))
                if pending > 0 { limiter.note(.unprocessed, sentAt: sent) }
            }
        }
        // The table starts with one second of capacity in its bucket.
        let seconds = Double((time.now - start).components.seconds) + 1
        let utilization = Double(written) / (capacity * seconds)
        #expect(utilization >= 0.9, "utilization \(utilization)")
        #expect(utilization <= 1, "never more than the table gives: \(utilization)")
        #expect(limiter.cutCount > 0)
    }
}
