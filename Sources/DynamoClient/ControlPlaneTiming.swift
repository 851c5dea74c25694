import AWSAuth
import Foundation
import Synchronization

// AWS's control-plane timing, which a local server does not have: a table that has just turned ACTIVE
// is not yet ready for point-in-time recovery, a table in a transitional state (CREATING, UPDATING)
// refuses UpdateTable and DeleteTable, the account's concurrent control-plane operations are limited,
// and ListBackups answers about five calls a second. Each is waited out here, on the client's clock.

/// Paces calls to one operation on a ``RunClock``: a token bucket that holds `burst` calls and
/// refills one every `interval`. A call that finds the bucket empty waits for its slot instead of
/// being throttled by DynamoDB and leaning on retries. Slots are reserved in order, so concurrent
/// callers share the rate rather than each getting it.
public final class CallPacer: Sendable {
    /// The time between two calls once the burst is spent.
    public let interval: Duration
    /// Calls that may go at once after a quiet spell.
    public let burst: Int
    private let nextSlot = Mutex<ContinuousClock.Instant?>(nil)

    public init(callsPerSecond: Double, burst: Int = 1) {
        interval = .nanoseconds(Int64((1_000_000_000 / max(callsPerSecond, 0.001)).rounded()))
        self.burst = max(1, burst)
    }

    /// Waits on `clock` until this call's slot comes. A cancelled wait lets the call go: the call
    /// itself then fails for the cancellation.
    public func pace(on clock: any RunClock) async {
        let now = clock.now
        let wait: Duration = nextSlot.withLock { next in
            let earliest = now - interval * (burst - 1)
            let slot = max(next ?? earliest, earliest)
            next = slot + interval
            return slot > now ? slot - now : .zero
        }
        if wait > .zero { try? await clock.sleep(for: wait) }
    }
}

/// How long to wait out DynamoDB's "not now" answers to a control-plane call.
public struct ControlPlaneWait: Sendable {
    /// How long to keep trying in all.
    public var timeout: Duration
    /// The first wait; each later one doubles, up to `maxPollInterval`.
    public var pollInterval: Duration
    public var maxPollInterval: Duration

    public init(
        timeout: Duration = .seconds(1800), pollInterval: Duration = .seconds(1),
        maxPollInterval: Duration = .seconds(20)
    ) {
        self.timeout = timeout; self.pollInterval = pollInterval; self.maxPollInterval = maxPollInterval
    }

    public static let `default` = ControlPlaneWait()
}

extension DynamoDBClient {
    /// ListBackups' rate on AWS (about 5 calls a second per account).
    public static let listBackupsCallsPerSecond = 5.0

    /// Error types with which DynamoDB says "not now" to any control-plane call: too many
    /// CreateTable/UpdateTable/DeleteTable/restores at once in the account. They queue.
    public static let controlPlaneLimitErrorTypes: Set<String> = ["LimitExceededException"]

    /// Sends `call` until DynamoDB accepts it, waiting (with backoff, on the client's clock, until
    /// `wait.timeout`) while it answers one of `busy`. Any other failure is thrown at once. At the
    /// deadline, ``DynamoDBError/waitTimedOut(table:waitingFor:after:)`` names the last answer.
    public func whenAccepted<T>(
        _ operation: String, table: String, busy: Set<String>,
        wait: ControlPlaneWait = .default,
        _ call: () async throws(DynamoDBError) -> T?
    ) async throws(DynamoDBError) -> T {
        let waitable = busy.union(Self.controlPlaneLimitErrorTypes)
        var last: String?
        let waiter = Waiter(
            clock: clock, timeout: wait.timeout, pollInterval: wait.pollInterval,
            maxPollInterval: wait.maxPollInterval, backoff: 2)
        do throws(DynamoDBError) {
            return try await waiter.wait(for: "\(operation) to be accepted", of: table) { () async throws(DynamoDBError) -> T? in
                do throws(DynamoDBError) {
                    return try await call()
                } catch  where waitable.contains(error.errorType ?? "") {
                    if last == nil {
                        logger.info(
                            "\(operation) on \(table): DynamoDB answered \(error.errorType ?? "busy"); waiting and trying again (up to \(wait.timeout))")
                    }
                    last = error.errorType
                    return nil
                }
            }
        } catch {
            if case .waitTimedOut(let subject, let state, let after) = error, let last {
                throw .waitTimedOut(table: subject, waitingFor: "\(state) (DynamoDB kept answering \(last))", after: after)
            }
            throw error
        }
    }

    /// Turns point-in-time recovery on. Right after a table turns ACTIVE, AWS answers
    /// `ContinuousBackupsUnavailableException` for a while: that is waited out, not a failure.
    @discardableResult
    public func enablePointInTimeRecovery(
        table: String, recoveryPeriodInDays: Int? = nil,
        wait: ControlPlaneWait = .default
    ) async throws(DynamoDBError) -> ContinuousBackups {
        try await whenAccepted("UpdateContinuousBackups", table: table, busy: ["ContinuousBackupsUnavailableException"], wait: wait) {
            () async throws(DynamoDBError) -> ContinuousBackups? in
            try await updateContinuousBackups(table: table, pointInTimeRecovery: true, recoveryPeriodInDays: recoveryPeriodInDays)
        }
    }

    /// UpdateTable once the table accepts it (`ResourceInUseException` while it is CREATING or
    /// UPDATING is waited out), then waits until the table is ACTIVE again, so the next control-plane
    /// call (DeleteTable after turning deletion protection off) finds it ready.
    @discardableResult
    public func updateTableWhenReady(_ input: UpdateTableInput, wait: ControlPlaneWait = .default) async throws(DynamoDBError) -> TableDescription {
        _ = try await whenAccepted("UpdateTable", table: input.name, busy: ["ResourceInUseException"], wait: wait) {
            () async throws(DynamoDBError) -> TableDescription? in
            try await updateTable(input)
        }
        return try await waitUntilActive(input.name, timeout: wait.timeout, pollInterval: wait.pollInterval)
    }

    /// DeleteTable once the table accepts it: `ResourceInUseException` on a table that is CREATING or
    /// UPDATING is waited out. A table already DELETING (or gone) after a `ResourceInUseException` was
    /// being deleted by our own earlier request whose answer was lost: that counts as accepted.
    public func deleteTableWhenReady(_ name: String, wait: ControlPlaneWait = .default) async throws(DynamoDBError) {
        _ = try await whenAccepted("DeleteTable", table: name, busy: [], wait: wait) { () async throws(DynamoDBError) -> Bool? in
            do throws(DynamoDBError) {
                try await deleteTable(name)
                return true
            } catch  where error.errorType == "ResourceInUseException" {
                guard let table = try await describeTableIfExists(name), table.status != "DELETING" else { return true }
                logger.info("DeleteTable on \(name): the table is \(table.status); waiting until it accepts DeleteTable")
                return nil
            }
        }
    }
}
