import CurlTransport
import Synchronization

/// How a failed attempt is treated.
public enum RetryClass: Sendable, Equatable {
    /// DynamoDB asked us to slow down.
    case throttling
    /// A failure that a new attempt may not see (5xx, broken connection, corrupted answer).
    case transient
    /// Retrying cannot help (bad request, missing table, permissions).
    case fatal
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

    public init(maxAttempts: Int = 10, base: Duration = .milliseconds(25), cap: Duration = .seconds(20),
                budgetCapacity: Int = 500, retryCost: Int = 5, timeoutCost: Int = 10) {
        self.maxAttempts = max(1, maxAttempts)
        self.base = base; self.cap = cap
        self.budgetCapacity = budgetCapacity; self.retryCost = retryCost; self.timeoutCost = timeoutCost
    }

    public static let `default` = RetryPolicy()

    /// The first attempt whose retry is announced as a warning; earlier retries are logged at info level.
    public static let warnFromAttempt = 3

    /// Timeouts tolerated per call before giving up, whatever `maxAttempts` says.
    public static let maxTimeoutsPerCall = 3

    /// Error types that mean "slow down".
    public static let throttlingErrorTypes: Set<String> = [
        "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
        "LimitExceededException", "TransactionInProgressException", "Throttling",
        "RequestThrottledException", "TooManyRequestsException",
    ]
    /// Error types DynamoDB documents as safe to retry.
    public static let transientErrorTypes: Set<String> = [
        "InternalServerError", "InternalFailure", "ServiceUnavailable", "InternalServerErrorException",
    ]

    /// Classifies an error answer.
    public static func classify(type: String, httpStatus: Int) -> RetryClass {
        if throttlingErrorTypes.contains(type) { return .throttling }
        if transientErrorTypes.contains(type) { return .transient }
        if [500, 502, 503, 504].contains(httpStatus) { return .transient }
        return .fatal
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
