import AWSAuth
import Foundation

/// Polls until a condition holds or a deadline passes, backing off between polls: the one way this tool
/// waits for DynamoDB to finish something (a table ACTIVE, a table gone, a backup AVAILABLE).
public struct Waiter: Sendable {
    public var clock: any RunClock
    /// How long to wait in all; the deadline is measured on `clock`.
    public var timeout: Duration
    /// The wait after the first poll; each later wait is `backoff` times the one before, up to `maxPollInterval`.
    public var pollInterval: Duration
    public var maxPollInterval: Duration
    public var backoff: Double

    public init(
        clock: any RunClock = SystemClock(), timeout: Duration, pollInterval: Duration = .milliseconds(500),
        maxPollInterval: Duration = .seconds(5), backoff: Double = 1.5
    ) {
        self.clock = clock; self.timeout = timeout; self.pollInterval = pollInterval
        self.maxPollInterval = max(pollInterval, maxPollInterval); self.backoff = max(1, backoff)
    }

    /// Calls `poll` until it returns a value, and returns it. Once the deadline has passed (or the wait
    /// is cancelled) it throws ``DynamoDBError/waitTimedOut(table:waitingFor:after:)`` naming `subject`
    /// and `state`. The last wait is cut short at the deadline, so the final poll happens at it.
    public func wait<T>(
        for state: String, of subject: String,
        _ poll: () async throws(DynamoDBError) -> T?
    ) async throws(DynamoDBError) -> T {
        let deadline = clock.now + timeout
        var interval = pollInterval
        while true {
            if let value = try await poll() { return value }
            let now = clock.now
            guard now < deadline else { throw .waitTimedOut(table: subject, waitingFor: state, after: timeout) }
            do {
                try await clock.sleep(for: min(interval, deadline - now))
            } catch {
                throw .waitTimedOut(table: subject, waitingFor: state, after: timeout)
            }
            interval = min(maxPollInterval, interval * backoff)
        }
    }
}
