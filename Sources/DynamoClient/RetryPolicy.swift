import CurlTransport
import Synchronization

/// How a failed attempt is treated. ``ErrorCatalog`` assigns one to every error type; docs/errors.md lists them.
public enum RetryClass: String, Sendable, Equatable, CaseIterable {
    /// DynamoDB asked us to slow down: retried with backoff, counted as a throttle.
    case throttling
    /// A failure that a new attempt may not see (5xx, broken connection, corrupted answer, a write refused
    /// because of a conflicting transaction): retried with backoff.
    case transient
    /// Retrying cannot help (bad request, missing table, permissions): thrown at once.
    case fatal
    /// The table, backup or account is busy with something that passes (ResourceInUseException,
    /// LimitExceededException, ...): thrown at once, because only the caller knows whether to wait and send again.
    case waits
    /// Temporary credentials have expired: thrown at once; refreshing them from their source and sending
    /// once more is the credential provider's job.
    case credentials

    /// Whether the client itself sends the request again.
    public var isRetriedByClient: Bool { self == .throttling || self == .transient }
}

/// Retry policy modelled on the AWS SDKs: capped exponential backoff with full jitter, and a
/// retry budget shared by every call of one client so a storm of failures slows the whole client down.
public struct RetryPolicy: Sendable {
    /// Attempts per call, the first one included.
    public var maxAttempts: Int
    /// Backoff base: the n-th retry waits a random time in [0, min(cap, base * 2^n)).
    public var base: Duration
    public var cap: Duration
    /// Budget tokens; a retry costs `retryCost` (timeouts and resets `timeoutCost`), a success refills one.
    public var budgetCapacity: Int
    public var retryCost: Int
    public var timeoutCost: Int

    public init(
        maxAttempts: Int = 10, base: Duration = .milliseconds(25), cap: Duration = .seconds(20),
        budgetCapacity: Int = 500, retryCost: Int = 5, timeoutCost: Int = 10
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.base = base; self.cap = cap
        self.budgetCapacity = budgetCapacity; self.retryCost = retryCost; self.timeoutCost = timeoutCost
    }

    public static let `default` = RetryPolicy()

    /// The first attempt whose retry is announced as a warning; earlier retries are logged at info level.
    public static let warnFromAttempt = 3

    /// Timeouts tolerated per call before giving up, whatever `maxAttempts` says.
    public static let maxTimeoutsPerCall = 3

    /// Classifies an error answer: see ``ErrorCatalog/classify(type:httpStatus:)``.
    public static func classify(type: String, httpStatus: Int) -> RetryClass {
        ErrorCatalog.classify(type: type, httpStatus: httpStatus)
    }

    /// Classifies a failure below HTTP.
    public static func classify(_ error: TransportError) -> RetryClass {
        switch error {
        case .connectionReset, .timedOut, .checksumMismatch, .connectFailed: .transient
        case .other: .transient
        case .shutDown: .fatal
        }
    }

    /// The full-jitter delay before retry number `retry` (1 for the first retry).
    public func delay(beforeRetry retry: Int, using random: inout some RandomNumberGenerator) -> Duration {
        let exponent = min(retry - 1, 30)
        let ceiling = min(cap, base * (1 << exponent))
        let nanos = ceiling.components.seconds * 1_000_000_000 + ceiling.components.attoseconds / 1_000_000_000
        guard nanos > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0..<nanos, using: &random))
    }
}

/// The shared retry budget of one client: a token bucket that retries drain and successes refill.
/// When it is empty, retries wait for tokens instead of failing, which slows every caller down.
final class RetryBudget: Sendable {
    private let state: Mutex<Int>
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        self.state = Mutex(capacity)
    }

    /// Takes `cost` tokens; returns how many were missing (0 when the budget covered the retry).
    func withdraw(_ cost: Int) -> Int {
        state.withLock { tokens in
            if tokens >= cost { tokens -= cost; return 0 }
            let missing = cost - tokens
            tokens = 0
            return missing
        }
    }

    func refund(_ amount: Int = 1) {
        state.withLock { tokens in tokens = min(capacity, tokens + amount) }
    }

    var available: Int { state.withLock { $0 } }
}
