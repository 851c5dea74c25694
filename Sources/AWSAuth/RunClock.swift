import Foundation

/// Time as the tool sees it: the instant deadlines, rates and backoff are measured on, the wall-clock
/// date records carry, and waiting. Production passes ``SystemClock``; tests pass a clock they control,
/// so nothing they check depends on how fast the machine is.
public protocol RunClock: Sendable {
    /// Monotonic time: deadlines, token buckets and elapsed times.
    var now: ContinuousClock.Instant { get }
    /// Wall-clock time, for what is recorded (checkpoints, reports).
    var date: Date { get }
    /// Waits `duration` on this clock.
    func sleep(for duration: Duration) async throws
}

/// The continuous clock and the system's date.
public struct SystemClock: RunClock {
    public init() {}
    public var now: ContinuousClock.Instant { ContinuousClock.now }
    public var date: Date { Date() }
    public func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration)
    }
}
