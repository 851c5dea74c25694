// The one table of DynamoDB error types and how the client treats each. docs/errors.md carries the
// same table for operators; ErrorCatalogTests parses it and fails when the two disagree.
import Foundation

/// One error type DynamoDB (or something in front of it) sends, and what we do with it.
public struct ErrorCatalogEntry: Sendable, Equatable {
    /// The short type, as it appears after `#` in `__type` or before `:` in `x-amzn-ErrorType`.
    public var type: String
    public var retryClass: RetryClass
    /// What an operator should do when the error reaches them; nil when DynamoDB's message says it all.
    public var hint: String?

    init(_ type: String, _ retryClass: RetryClass, hint: String? = nil) {
        self.type = type; self.retryClass = retryClass; self.hint = hint
    }
}

/// Every error type the client knows, with its ``RetryClass``; the only place that decides how an error
/// answer is treated (``RetryPolicy/classify(type:httpStatus:)`` asks it).
public enum ErrorCatalog {
    /// The table, grouped by class. Sources: DynamoDB API reference "Common Errors" and each operation's
    /// Errors section, the developer guide's "Error handling", and the SDKs' retry rules.
    public static let entries: [ErrorCatalogEntry] = [
        // DynamoDB asks us to slow down: retried with backoff, and the writer's rate limiter slows down.
        .init(
            "ProvisionedThroughputExceededException", .throttling,
            hint: "The table or an index is throttled: lower --write-rate, --read-percent or --write-percent, or raise the table's capacity."),
        .init(
            "ThrottlingException", .throttling,
            hint: "DynamoDB throttled the control-plane calls: wait and run again."),
        .init(
            "RequestLimitExceeded", .throttling,
            hint: "The account's throughput quota is reached: lower --write-rate or ask AWS for a higher quota."),
        .init("TransactionInProgressException", .throttling),
        // Not DynamoDB's own names, but what proxies and the SDKs' throttling rules use.
        .init("Throttling", .throttling),
        .init("TooManyRequestsException", .throttling),
        .init("RequestThrottledException", .throttling),

        // A failure a new attempt may not see: retried with backoff.
        .init("InternalServerError", .transient),
        .init("InternalFailure", .transient),
        .init("ServiceUnavailable", .transient),
        // The write was refused, not applied: the item is part of a transaction still running.
        .init(
            "TransactionConflictException", .transient,
            hint: "Another application keeps the item in transactions: run again when they are done."),
        // Global tables with multi-Region strong consistency: another Region is writing the item.
        .init(
            "ReplicatedWriteConflictException", .transient,
            hint: "Another Region keeps writing the same items: run again when it is done."),

        // Transitional: the table, backup or account is busy. The client hands these to the caller at once,
        // because only the caller knows whether the state will pass (ResourceInUseException on CreateTable
        // can also mean "the table exists"); migrate, enforce and decommission wait and send again.
        .init(
            "ResourceInUseException", .waits,
            hint: "The table is busy with another change (CREATING, UPDATING or DELETING) or already exists: wait until it is ACTIVE and run again."),
        .init(
            "LimitExceededException", .waits,
            hint:
                "Too many control-plane operations run at once in this account (CreateTable, UpdateTable, DeleteTable, restores): wait for some to finish and run again."
        ),
        .init(
            "ContinuousBackupsUnavailableException", .waits,
            hint: "Point-in-time recovery cannot be changed yet, typically right after the table was created: wait a few minutes and run again."),
        .init(
            "BackupInUseException", .waits,
            hint: "Another backup operation on this table is running: wait for it to finish and run again."),
        .init(
            "TableInUseException", .waits,
            hint: "The table is busy with another operation: wait and run again."),

        // Temporary credentials ran out: refresh them from their source and send once more.
        .init(
            "ExpiredTokenException", .credentials,
            hint: "The session token has expired: refresh the credentials."),

        // Retrying cannot help: the request, the credentials or the resource is wrong. One clear error.
        .init(
            "AccessDeniedException", .fatal,
            hint: "The credentials lack permission for this operation on this table."),
        .init(
            "UnrecognizedClientException", .fatal,
            hint: "The access key is not known to this endpoint: check the credentials or --profile."),
        .init(
            "InvalidSignatureException", .fatal,
            hint: "The secret key does not match the access key: check the credentials or --profile."),
        .init(
            "IncompleteSignature", .fatal,
            hint: "The request's signature is incomplete: check the credentials or --profile."),
        .init(
            "IncompleteSignatureException", .fatal,
            hint: "The request's signature is incomplete: check the credentials or --profile."),
        .init(
            "MissingAuthenticationToken", .fatal,
            hint: "No credentials were sent: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or use --profile."),
        .init(
            "MissingAuthenticationTokenException", .fatal,
            hint: "No credentials were sent: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or use --profile."),
        .init(
            "InvalidClientTokenId", .fatal,
            hint: "The access key is not known to this endpoint: check the credentials or --profile."),
        .init(
            "NotAuthorized", .fatal,
            hint: "The credentials lack permission for this operation on this table."),
        .init("OptInRequired", .fatal),
        .init(
            "RequestExpired", .fatal,
            hint: "The request's time stamp is more than 15 minutes off: check this machine's clock."),
        .init("ValidationException", .fatal),
        .init("ValidationError", .fatal),
        .init("SerializationException", .fatal),
        .init(
            "UnknownOperationException", .fatal,
            hint: "The endpoint does not know this operation: is it DynamoDB, or an emulator that lacks it?"),
        .init("InvalidAction", .fatal),
        .init("InvalidParameterCombination", .fatal),
        .init("InvalidParameterValue", .fatal),
        .init("InvalidQueryParameter", .fatal),
        .init("MalformedQueryString", .fatal),
        .init("MissingAction", .fatal),
        .init("MissingParameter", .fatal),
        .init("InvalidEndpointException", .fatal),
        .init("ConditionalCheckFailedException", .fatal),
        .init(
            "ResourceNotFoundException", .fatal,
            hint: "Check the table name and the region (--region) or endpoint (--endpoint-url)."),
        .init("IndexNotFoundException", .fatal),
        .init(
            "ItemCollectionSizeLimitExceededException", .fatal,
            hint: "An item collection of a table with local secondary indexes is over 10 GB: retrying cannot make room."),
        .init("TransactionCanceledException", .fatal),
        .init("IdempotentParameterMismatchException", .fatal),
        .init("DuplicateItemException", .fatal),
        .init("BackupNotFoundException", .fatal),
        .init(
            "PointInTimeRecoveryUnavailableException", .fatal,
            hint: "Point-in-time recovery is not enabled on the table."),
        .init(
            "InvalidRestoreTimeException", .fatal,
            hint: "The restore time is outside the table's point-in-time recovery window."),
        .init("TableAlreadyExistsException", .fatal),
        .init("TableNotFoundException", .fatal),
        .init("ExportConflictException", .fatal),
        .init("ExportNotFoundException", .fatal),
        .init("InvalidExportTimeException", .fatal),
        .init("ImportConflictException", .fatal),
        .init("ImportNotFoundException", .fatal),
        .init("GlobalTableNotFoundException", .fatal),
        .init("GlobalTableAlreadyExistsException", .fatal),
        .init("ReplicaAlreadyExistsException", .fatal),
        .init("ReplicaNotFoundException", .fatal),
        .init("PolicyNotFoundException", .fatal),
        // DynamoDB Streams: both go to the follower, which knows what to do (see Follow).
        .init(
            "ExpiredIteratorException", .fatal,
            hint: "A shard iterator is older than 15 minutes: the follower takes a new one from its last applied record."),
        .init(
            "TrimmedDataAccessException", .fatal,
            hint: "The stream position is older than the stream's 24-hour window: records were lost, the copy must restart."),
    ]

    static let byType: [String: ErrorCatalogEntry] = Dictionary(entries.map { ($0.type, $0) }, uniquingKeysWith: { first, _ in first })

    /// The entry for a short error type, if the catalog knows it.
    public static func entry(for type: String) -> ErrorCatalogEntry? { byType[type] }

    /// How an answer whose type the catalog does not know (or that has no type) is treated, by HTTP status.
    /// 429 is a proxy's or load balancer's "slow down"; 413 a request too large for something on the way;
    /// 500/502/503/504 a server-side failure, whatever the body looks like (an HTML page from a load balancer
    /// is still a server error, not proof the endpoint is not DynamoDB). Everything else is fatal.
    public static let statusRules: [(status: Int, retryClass: RetryClass)] = [
        (429, .throttling), (413, .fatal), (500, .transient), (502, .transient), (503, .transient), (504, .transient),
    ]

    /// The class of an answer: the type's when the catalog knows it, else by HTTP status.
    public static func classify(type: String, httpStatus: Int) -> RetryClass {
        if let entry = byType[type] { return entry.retryClass }
        return statusRules.first { $0.status == httpStatus }?.retryClass ?? .fatal
    }

    /// The short type from a wire value: `com.amazonaws.dynamodb.v20120810#ThrottlingException` and
    /// `ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.service/` both give
    /// `ThrottlingException` (what the part before `:` holds, after any `namespace#`), as the SDKs do.
    public static func shortType(_ raw: String) -> String {
        var value = Substring(raw)
        if let colon = value.firstIndex(of: ":") { value = value[..<colon] }
        if let hash = value.firstIndex(of: "#") { value = value[value.index(after: hash)...] }
        return value.trimmingCharacters(in: .whitespaces)
    }

    /// What an error answer without a message of its own says, by status.
    static func statusMessage(_ status: Int, nonJSONPage: Bool) -> String? {
        switch status {
        case 413:
            return "the request was too large for the endpoint (HTTP 413 Request Entity Too Large)"
        case 429:
            return "the endpoint asked to slow down (HTTP 429 Too Many Requests)"
        case 500...599:
            return nonJSONPage
                ? "the endpoint answered HTTP \(status) with a non-JSON page: a server-side failure (DynamoDB or a load balancer or proxy in front of it)"
                : "the endpoint answered HTTP \(status) without a message: a server-side failure"
        default:
            return nil
        }
    }

    /// The operator hint for a type, or for a status when the type is unknown.
    static func hint(type: String, httpStatus: Int) -> String? {
        if let entry = byType[type] { return entry.hint }
        if httpStatus == 413 {
            return "DynamoDB takes requests up to 16 MB and items up to 400 KB; a proxy between here and DynamoDB may allow less."
        }
        return nil
    }
}

extension RetryClass {
    /// The word docs/errors.md uses for the class.
    public var label: String {
        switch self {
        case .throttling: "throttling"
        case .transient: "retried"
        case .fatal: "fatal"
        case .waits: "waits"
        case .credentials: "credentials"
        }
    }
}
