import AWSAuth
import DynamoClient
import Foundation
import RunState
import Synchronization

/// A token bucket of capacity units per second, shared by all tasks of one side (reads or writes).
///
/// When DynamoDB throttles, the rate drops by a third; every second without throttling it grows by
/// 5% again, up to the configured ceiling (additive-increase would be too slow to recover on big tables).
public final class RateLimiter: Sendable {
    struct State {
        var rate: Double?
        var tokens: Double
        var last: ContinuousClock.Instant
        var lastIncrease: ContinuousClock.Instant
        var observedUnits: Double = 0
        var observedSince: ContinuousClock.Instant
        var throttles = 0
    }
    private let state: Mutex<State>
    /// The most this limiter ever allows; nil is unlimited.
    public let ceiling: Double?
    /// The time the rates are computed against and waits are taken on (the system's, or a test's).
    private let clock: any RunClock

    /// - Parameters:
    ///   - unitsPerSecond: nil (or anything not a positive finite number) is unlimited.
    ///   - clock: tests pass a clock they control.
    public init(unitsPerSecond: Double?, clock: any RunClock = SystemClock()) {
        let unitsPerSecond = unitsPerSecond.flatMap { $0.isFinite && $0 > 0 ? $0 : nil }
        ceiling = unitsPerSecond
        self.clock = clock
        let now = clock.now
        state = Mutex(State(rate: unitsPerSecond, tokens: unitsPerSecond ?? 0, last: now, lastIncrease: now, observedSince: now))
    }

    /// The current rate (nil while unlimited).
    public var currentRate: Double? { state.withLock { $0.rate } }
    public var throttleCount: Int { state.withLock { $0.throttles } }

    /// Waits until `units` may be consumed.
    public func acquire(_ units: Double) async throws {
        while true {
            let wait: Duration? = state.withLock { s in
                let now = clock.now
                guard let rate = s.rate else {
                    s.observedUnits += units
                    return nil
                }
                let elapsed = Double((now - s.last).components.attoseconds) / 1e18 + Double((now - s.last).components.seconds)
                s.last = now
                // A burst of at most one second's worth, and at least one request's worth.
                s.tokens = min(max(rate, units), s.tokens + elapsed * rate)
                if now - s.lastIncrease > .seconds(1), let ceiling, rate < ceiling {
                    s.rate = min(ceiling, rate * 1.05)
                    s.lastIncrease = now
                } else if now - s.lastIncrease > .seconds(1), ceiling == nil {
                    s.rate = rate * 1.05
                    s.lastIncrease = now
                }
                if s.tokens >= units {
                    s.tokens -= units
                    s.observedUnits += units
                    return nil
                }
                return .milliseconds(Int64(max(1, (units - s.tokens) / rate * 1000)))
            }
            guard let wait else { return }
            try await clock.sleep(for: wait)
        }
    }

    /// DynamoDB throttled us: slow down.
    public func noteThrottle() {
        state.withLock { s in
            s.throttles += 1
            let now = clock.now
            if let rate = s.rate {
                s.rate = max(1, rate * 2 / 3)
            } else {
                // Unlimited so far: start from two thirds of what we achieved recently.
                let seconds = max(0.5, Double((now - s.observedSince).components.seconds))
                s.rate = max(1, s.observedUnits / seconds * 2 / 3)
                s.tokens = 0
                s.last = now
            }
            s.lastIncrease = now
        }
    }
}
