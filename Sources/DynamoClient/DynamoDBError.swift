import AWSAuth
import CurlTransport

/// Everything a DynamoDB call can fail with, with the context an operator needs to act on it.
public enum DynamoDBError: Error, Sendable, CustomStringConvertible {
    /// DynamoDB answered with an error (`__type` and message), after `attempts` tries.
    case service(ServiceError)
    /// Nothing usable came back from the endpoint.
    case transport(TransportError, context: CallContext)
    /// The answer was not the JSON DynamoDB sends.
    case malformedResponse(reason: String, context: CallContext)
    /// A waiter gave up.
    case waitTimedOut(table: String, waitingFor: String, after: Duration)
    /// The request breaks one of DynamoDB's limits; it was not sent.
    case invalidRequest(operation: String, reason: String)
    /// No credentials to sign with: the provider (STS, SSO, IMDS, ...) failed. Nothing was sent.
    case credentials(CredentialProviderError, context: CallContext)

    /// The short error type (`ResourceNotFoundException`, ...) when DynamoDB sent one.
    public var errorType: String? {
        if case .service(let e) = self { return e.type }
        return nil
    }

    /// How ``ErrorCatalog`` classifies the answer, for DynamoDB's error answers.
    public var serviceErrorClass: RetryClass? {
        if case .service(let e) = self { return e.retryClass }
        return nil
    }

    /// The table, backup or account was busy with something that passes: the caller may wait and send again.
    public var isTransitional: Bool { serviceErrorClass == .waits }

    /// Temporary credentials have expired: refreshing them and sending once more may succeed.
    public var needsFreshCredentials: Bool { serviceErrorClass == .credentials }

    public var isResourceNotFound: Bool { errorType == "ResourceNotFoundException" }
    public var isConditionalCheckFailed: Bool { errorType == "ConditionalCheckFailedException" }
    /// DynamoDB asked us to slow down (ProvisionedThroughputExceededException, ThrottlingException, ...).
    public var isThrottling: Bool { serviceErrorClass == .throttling }

    /// Whether DynamoDB may have applied the request although this error came back: the answer was
    /// lost or garbled on the way (reset, timeout, corrupted or unreadable answer) or the server failed
    /// mid-way (5xx). Not for refusals (4xx) or a connection that was never made.
    public var mayHaveBeenApplied: Bool {
        switch self {
        case .service(let e): return e.httpStatus >= 500
        case .transport(let t, _):
            if case .connectFailed = t { return false }
            if case .shutDown = t { return false }
            return true
        case .malformedResponse: return true
        case .waitTimedOut, .invalidRequest, .credentials: return false
        }
    }

    public var description: String {
        switch self {
        case .service(let e):
            return e.description
        case .transport(let t, let c):
            let hint: String
            switch t {
            case .connectFailed: hint = " Is the endpoint right and reachable? (--endpoint-url, AWS_ENDPOINT_URL_DYNAMODB)"
            case .timedOut: hint = " The endpoint did not answer in time."
            default: hint = ""
            }
            return "\(c.operation)\(c.tableSuffix) failed after \(c.attempts) attempt\(c.attempts == 1 ? "" : "s"): \(t.operatorMessage).\(hint)"
        case .malformedResponse(let reason, let c):
            return "\(c.operation)\(c.tableSuffix): the endpoint's answer is not valid DynamoDB JSON (\(reason)); attempts: \(c.attempts)"
        case .waitTimedOut(let table, let state, let after):
            return "table \(table) did not become \(state) within \(after)"
        case .invalidRequest(let operation, let reason):
            return "\(operation) not sent: \(reason)"
        case .credentials(let error, let c):
            return error.nothingConfigured ? error.reason : "\(c.operation)\(c.tableSuffix) not sent: \(error)"
        }
    }
}

/// Which call failed: operation, table and how many attempts were made.
public struct CallContext: Sendable, Equatable {
    public var operation: String
    public var table: String?
    public var attempts: Int
    /// The region and endpoint called, for errors that only make sense with them ("no such table here").
    public var region: String?
    public var endpoint: String?
    public init(operation: String, table: String?, attempts: Int, region: String? = nil, endpoint: String? = nil) {
        self.operation = operation; self.table = table; self.attempts = attempts
        self.region = region; self.endpoint = endpoint
    }
    var tableSuffix: String { table.map { " on table \($0)" } ?? "" }
}

/// An error answer from DynamoDB.
public struct ServiceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Short type, e.g. `ValidationException` (the part of `__type` after `#`).
    public var type: String
    public var message: String
    public var httpStatus: Int
    public var requestId: String?
    public var context: CallContext

    public var description: String {
        var details = "\(type): \(message) (HTTP \(httpStatus)"
        if let requestId { details += ", request id \(requestId)" }
        details += ", \(context.attempts) attempt\(context.attempts == 1 ? "" : "s"))"
        if let missing = missingTable {
            return "table \(missing) does not exist in \(context.region ?? "this region") at \(context.endpoint ?? "this endpoint")"
                + " (\(context.operation) failed: \(details)). Check the table name, --region and --endpoint-url."
        }
        var text = "\(context.operation)\(context.tableSuffix) failed: \(details)"
        if let hint = ErrorCatalog.hint(type: type, httpStatus: httpStatus) { text += ". \(hint)" }
        return text
    }

    /// How the client treats this answer (see ``ErrorCatalog``).
    public var retryClass: RetryClass { ErrorCatalog.classify(type: type, httpStatus: httpStatus) }

    /// The table a ResourceNotFoundException is about, when the call named the table it works on.
    /// (RestoreTableFromBackup names the table it creates: there the missing resource is the backup.)
    var missingTable: String? {
        guard type == "ResourceNotFoundException", context.operation != "RestoreTableFromBackup" else { return nil }
        return context.table
    }
}

extension TransportError {
    /// A one-line explanation for an operator.
    var operatorMessage: String {
        switch self {
        case .connectFailed(let url, let reason): "could not connect to \(url) (\(reason))"
        case .connectionReset(let url, let reason): "the connection to \(url) broke (\(reason))"
        case .timedOut(let url, let after): "no answer from \(url) within \(after)"
        case .checksumMismatch(let url, let expected, let actual):
            "the answer from \(url) was corrupted on the way (x-amz-crc32 \(expected), body \(actual))"
        case .other(let url, let code, let reason): "HTTP transfer to \(url) failed (curl \(code): \(reason))"
        case .shutDown: "the HTTP transport was shut down"
        }
    }
}
