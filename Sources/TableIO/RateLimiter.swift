import AWSAuth
import DynamoClient
import Foundation
import RunState
import Synchronization

/// An adaptive token bucket of capacity units per second, shared by all tasks of one side (the reads of
/// one source, or the writes of one target), modelled on the AWS SDKs' adaptive retry mode (CUBIC):
///
/// - Until DynamoDB first throttles, a limiter without a ceiling lets everything through; a ceiling
///   (`--write-percent`, `--max-write-units`, ...) is never exceeded, whatever happens.
/// - Every answer reports what DynamoDB accepted (``record(consumed:)``); the limiter keeps a smoothed
///   measure of that rate. When a call is throttled, the rate drops to `beta` times the rate *measured*
///   (what the table actually took), not the configured one. `UnprocessedItems` for part of a batch is a
///   weaker signal (the table took the rest): the cut is smaller (`weakBeta`).
/// - After a cut the rate follows a cubic curve: back to the rate where throttling began within
///   `recovery` (quickly at first, flattening as it gets there), then probing beyond it ever faster until
///   the table says no again; never above twice the measured rate, so a slow pipeline does not build up a
///   rate it never uses.
/// - A signal from a call sent before the last cut reports the congestion already reacted to: it is
///   counted but does not cut again, so many tasks in flight make one cut per congestion event; and the
///   rate is cut at most once per `minimumCutInterval`.
///
/// Everything is computed on the injected clock: tests drive the state machine without sleeping.
public final class RateLimiter: Sendable {
    /// The constants of the adaptive behaviour.
    public struct Tuning: Sendable, Equatable {
        /// The fraction of the measured rate kept after a throttled call. The SDKs' CUBIC keeps 0.7 of the
        /// rate they *sent*, refused calls included; this is a fraction of the rate DynamoDB *accepted*,
        /// which is already at or below the table's capacity, so less needs to go.
        public var beta = 0.8
        /// The fraction kept after `UnprocessedItems` for part of a batch.
        public var weakBeta = 0.9
        /// How long the cubic curve takes to climb back to the rate where throttling began.
        public var recovery: Duration = .seconds(2)
        /// Signals within this time after a cut do not cut again: the rate falls at most once a second,
        /// however many calls a burst of throttling (or a flaky endpoint) refuses. Resends meanwhile are
        /// paced at the rate just cut to, so nothing is sent faster for it.
        public var minimumCutInterval: Duration = .seconds(1)
        /// Time constant of the measured rate (an exponentially decaying average).
        public var measureWindow: Duration = .seconds(2)
        /// The rate never drops below this many units per second.
        public var minimumRate = 1.0
        /// The most the bucket holds, in seconds of the current rate (at least one request's units).
        public var burstSeconds = 1.0
        public init() {}
    }

    /// What a caller learned from DynamoDB about a call.
    public enum Signal: Sendable, Equatable {
        /// The whole call was refused (ProvisionedThroughputExceededException, ThrottlingException).
        case throttled
        /// Part of a batch came back as `UnprocessedItems`: the table took the rest.
        case unprocessed
    }

    struct State {
        /// The rate the bucket fills at; nil while unlimited (no ceiling and never throttled).
        var rate: Double?
        var tokens: Double
        var last: ContinuousClock.Instant
        /// Where the current cubic curve is anchored: the rate throttling began at, and when it was cut.
        var lastMax: Double = 0
        var drop: Double = 0
        var lastCut: ContinuousClock.Instant?
        /// Decaying sum of accepted units, as of `measuredAt`.
        var decayed: Double = 0
        var measuredAt: ContinuousClock.Instant
        let started: ContinuousClock.Instant
        /// Smoothed units of one accepted call.
        var averageCost: Double = 0
        var throttles = 0
        var unprocessedSignals = 0
        var cuts = 0
    }
    private let state: Mutex<State>
    /// The most this limiter ever allows; nil is unlimited.
    public let ceiling: Double?
    public let tuning: Tuning
    /// The time the rates are computed against and waits are taken on (the system's, or a test's).
    private let clock: any RunClock

    /// - Parameters:
    ///   - unitsPerSecond: the ceiling; nil (or anything not a positive finite number) is unlimited until
    ///     DynamoDB throttles.
    ///   - clock: tests pass a clock they control.
    public init(unitsPerSecond: Double?, clock: any RunClock = SystemClock(), tuning: Tuning = Tuning()) {
        let unitsPerSecond = unitsPerSecond.flatMap { $0.isFinite && $0 > 0 ? $0 : nil }
        ceiling = unitsPerSecond
        self.clock = clock
        self.tuning = tuning
        let now = clock.now
        state = Mutex(
            State(rate: unitsPerSecond, tokens: (unitsPerSecond ?? 0) * tuning.burstSeconds, last: now, measuredAt: now, started: now))
    }

    /// The current rate (nil while unlimited).
    public var currentRate: Double? { state.withLock { s in rate(&s, at: clock.now) } }
    /// Throttled calls reported (``Signal/throttled``), whether or not they cut the rate.
    public var throttleCount: Int { state.withLock { $0.throttles } }
    /// Partly unprocessed batches reported (``Signal/unprocessed``).
    public var unprocessedCount: Int { state.withLock { $0.unprocessedSignals } }
    /// How many signals cut the rate.
    public var cutCount: Int { state.withLock { $0.cuts } }
    /// Units per second DynamoDB accepted recently (the smoothed measure the cuts start from).
    public var measuredRate: Double { state.withLock { s in measured(&s, at: clock.now) } }
    /// What one accepted call cost recently (0 before the first): the estimate for a call whose cost is
    /// known only from its answer (a Scan page), so it is paced like the calls before it.
    public var averageCost: Double { state.withLock { $0.averageCost } }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }

    /// The measured rate: the decaying sum over its time constant, corrected for a run shorter than it.
    private func measured(_ s: inout State, at now: ContinuousClock.Instant) -> Double {
        let tau = Self.seconds(tuning.measureWindow)
        decay(&s, to: now)
        // A steady rate r gives a sum of r·tau·(1 - e^(-t/tau)) after t seconds; at least half a second,
        // so the very first answers do not read as an enormous rate.
        let elapsed = max(0.5, Self.seconds(now - s.started))
        return s.decayed / (tau * (1 - exp(-elapsed / tau)))
    }

    private func decay(_ s: inout State, to now: ContinuousClock.Instant) {
        guard now > s.measuredAt else { return }
        s.decayed *= exp(-Self.seconds(now - s.measuredAt) / Self.seconds(tuning.measureWindow))
        s.measuredAt = now
    }

    /// The rate now: on the cubic curve since the last cut, within the ceiling and twice the measured rate.
    private func rate(_ s: inout State, at now: ContinuousClock.Instant) -> Double? {
        guard let lastCut = s.lastCut else { return s.rate }
        let k = Self.seconds(tuning.recovery)
        let t = Self.seconds(now - lastCut)
        let x = (t - k) / k
        var r = s.lastMax * (1 + s.drop * x * x * x)
        // Probing up is bounded by what the pipeline can use; the floor keeps the curve's start reachable.
        r = min(r, max(2 * measured(&s, at: now), s.lastMax * (1 - s.drop)))
        if let ceiling { r = min(r, ceiling) }
        r = max(tuning.minimumRate, r)
        s.rate = r
        return r
    }

    /// Waits until `units` may be consumed, and takes them.
    /// - Returns: when they were granted: pass it to ``note(_:sentAt:)`` if the call is throttled.
    @discardableResult
    public func acquire(_ units: Double) async throws -> ContinuousClock.Instant {
        while true {
            let (wait, granted): (Duration?, ContinuousClock.Instant) = state.withLock { s in
                let now = clock.now
                guard let rate = rate(&s, at: now) else { return (nil, now) }
                let elapsed = Self.seconds(now - s.last)
                s.last = now
                // A burst of at most `burstSeconds` of the rate, and at least one request's worth.
                s.tokens = min(max(rate * tuning.burstSeconds, units), s.tokens + elapsed * rate)
                if s.tokens >= units {
                    s.tokens -= units
                    return (nil, now)
                }
                return (.milliseconds(Int64(max(1, ((units - s.tokens) / rate * 1000).rounded(.up)))), now)
            }
            guard let wait else { return granted }
            try await clock.sleep(for: wait)
        }
    }

    /// Gives back units taken by ``acquire(_:)`` that DynamoDB did not consume (items it handed back).
    public func refund(_ units: Double) {
        guard units > 0 else { return }
        state.withLock { s in
            guard let rate = s.rate else { return }
            s.tokens = min(max(rate * tuning.burstSeconds, s.tokens), s.tokens + units)
        }
    }

    /// DynamoDB accepted `units` (a write's or read's consumed capacity): feeds the measured rate.
    public func record(consumed units: Double) {
        guard units > 0 else { return }
        state.withLock { s in
            decay(&s, to: clock.now)
            s.decayed += units
            s.averageCost = s.averageCost == 0 ? units : 0.8 * s.averageCost + 0.2 * units
        }
    }

    /// DynamoDB throttled a call, or handed part of a batch back.
    /// - Parameter sentAt: when the call's units were granted (``acquire(_:)``'s result); a call sent
    ///   before the last cut does not cut again. Nil counts as sent now.
    public func note(_ signal: Signal, sentAt: ContinuousClock.Instant? = nil) {
        state.withLock { s in
            let now = clock.now
            switch signal {
            case .throttled: s.throttles += 1
            case .unprocessed: s.unprocessedSignals += 1
            }
            if let lastCut = s.lastCut {
                if let sentAt, sentAt < lastCut { return }
                if now - lastCut < tuning.minimumCutInterval { return }
            }
            // From the rate DynamoDB actually accepted; while limited, never from more than the limit.
            var base = measured(&s, at: now)
            let current = rate(&s, at: now)
            if let current { base = base > 0 ? min(base, current) : current }
            // Unlimited and nothing accepted yet: no rate to cut from (the caller's backoff spaces its retries).
            guard base > 0 else { return }
            s.lastMax = base
            s.drop = 1 - (signal == .throttled ? tuning.beta : tuning.weakBeta)
            s.lastCut = now
            s.cuts += 1
            let cut = max(tuning.minimumRate, base * (1 - s.drop))
            s.rate = ceiling.map { min($0, cut) } ?? cut
            s.last = now
            s.tokens = min(s.tokens, s.rate! * tuning.burstSeconds)
        }
    }

    /// DynamoDB throttled a call: see ``note(_:sentAt:)``.
    public func noteThrottle(sentAt: ContinuousClock.Instant? = nil) { note(.throttled, sentAt: sentAt) }
}
