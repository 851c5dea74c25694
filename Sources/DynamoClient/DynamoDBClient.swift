// DynamoClient: typed DynamoDB operations with retries, errors an operator understands, and waiters.
import AWSAuth
import CurlTransport
import DynamoCore
import Foundation
import Logging
import Synchronization

/// A DynamoDB client: signs each request, sends it over an ``HTTPTransport``, classifies failures,
/// retries what can be retried, and decodes answers into typed values.
///
/// One client is meant to be shared by every task of a run; its retry budget and statistics are shared too.
public final class DynamoDBClient: Sendable {
    public let configuration: AWSConfiguration
    public let retryPolicy: RetryPolicy
    let transport: any HTTPTransport
    let ownsTransport: Bool
    /// The credentials every request is signed with, refreshed before they expire.
    public let credentials: RefreshingCredentials
    /// The signer of the current credentials: rebuilt only when they change, so its cached signing key
    /// is reused request after request.
    let signer: Mutex<SigV4Signer?> = Mutex(nil)
    /// What retries and waiters wait on and measure deadlines against.
    public let clock: any RunClock
    public let logger: Logger
    let budget: RetryBudget
    let url: String
    let hostHeader: String
    let counters = Mutex(ClientStatistics())
    /// Paces ListBackups to its AWS rate; shared by every caller of this client.
    let listBackupsPacer = CallPacer(callsPerSecond: DynamoDBClient.listBackupsCallsPerSecond)

    /// Creates a client.
    /// - Parameters:
    ///   - transport: defaults to a new ``CurlTransport`` owned (and shut down) by this client.
    ///   - clock: what retries and waiters wait on and measure deadlines against, and what credential
    ///     expiry is measured on; tests pass a clock they control.
    ///   - credentials: the credential cache to sign with; by default the configuration's provider in a
    ///     ``RefreshingCredentials`` on `clock` (or the configuration's own one, when it is already a cache,
    ///     so clients made from one configuration share it).
    public init(
        configuration: AWSConfiguration, transport: (any HTTPTransport)? = nil,
        retryPolicy: RetryPolicy = .default, clock: any RunClock = SystemClock(),
        logger: Logger = Logger(label: "dynamo-migrate.client"),
        credentials: RefreshingCredentials? = nil
    ) {
        self.configuration = configuration
        self.retryPolicy = retryPolicy
        if let transport {
            self.transport = transport
            self.ownsTransport = false
        } else {
            self.transport = CurlTransport()
            self.ownsTransport = true
        }
        self.credentials =
            credentials ?? (configuration.credentialProvider as? RefreshingCredentials)
            ?? RefreshingCredentials(configuration.credentialProvider, clock: clock)
        self.clock = clock
        self.logger = logger
        self.budget = RetryBudget(capacity: retryPolicy.budgetCapacity)
        var endpoint = configuration.endpoint
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        self.url = endpoint + "/"
        self.hostHeader = Self.hostHeader(for: endpoint)
    }

    deinit {
        if ownsTransport, let curl = transport as? CurlTransport { curl.shutdown() }
    }

    /// Counters since the client was created.
    public var statistics: ClientStatistics { counters.withLock { $0 } }

    static func hostHeader(for endpoint: String) -> String {
        guard let components = URLComponents(string: endpoint), let host = components.host else { return endpoint }
        let bracketed = host.contains(":") ? "[\(host)]" : host
        if let port = components.port {
            let isDefault = (components.scheme == "https" && port == 443) || (components.scheme == "http" && port == 80)
            if !isDefault { return "\(bracketed):\(port)" }
        }
        return bracketed
    }

    /// Sends one DynamoDB operation with retries and returns the answer's body.
    ///
    /// - Parameters:
    ///   - operation: the `X-Amz-Target` operation name, e.g. `"Scan"`.
    ///   - table: named in errors.
    ///   - idempotent: false for a call that must not be sent twice blindly (CreateBackup): a failure
    ///     after which DynamoDB may have applied the request (see ``DynamoDBError/mayHaveBeenApplied``)
    ///     is thrown at once, so the caller can look up what happened before sending it again.
    public func perform(
        _ operation: String, table: String?, body: [UInt8],
        idempotent: Bool = true
    ) async throws(DynamoDBError) -> [UInt8] {
        var attempt = 0
        var timeouts = 0
        var refreshedAfterRefusal = false
        var random = SystemRandomNumberGenerator()
        while true {
            attempt += 1
            let context = CallContext(
                operation: operation, table: table, attempts: attempt,
                region: configuration.region, endpoint: configuration.endpoint)
            let (used, signer) = try await currentSigner(context: context)
            var request = signedRequest(signer, operation: operation, body: body)
            // Only we may decide to send a non-idempotent call again (libcurl resends on reused connections).
            request.freshConnection = !idempotent
            counters.withLock { $0.requests += 1 }
            let retryClass: RetryClass
            let failure: DynamoDBError
            var cost = retryPolicy.retryCost
            do {
                let response = try await transport.send(request)
                if response.status == 200 {
                    budget.refund()
                    return response.body
                }
                let error = Self.serviceError(from: response, context: context)
                // Credentials that expired under us (a refresh lost a race with the clock, or the
                // provider's expiration was optimistic): one forced refresh and one more try, outside the
                // retry budget. Nothing was applied: DynamoDB checks credentials before anything else.
                if !refreshedAfterRefusal, Self.mayBeExpiredCredentials(error, used: used) {
                    refreshedAfterRefusal = true
                    credentials.invalidate(used.credentials)
                    let fresh = try? await credentials.credentials()
                    if let fresh, fresh.credentials != used.credentials {
                        logger.info("\(operation): \(error.type) with credentials from \(credentials.source); refreshed them and retrying")
                        attempt -= 1
                        continue
                    }
                }
                retryClass = RetryPolicy.classify(type: error.type, httpStatus: error.httpStatus)
                failure = .service(error)
            } catch {
                retryClass = RetryPolicy.classify(error)
                failure = .transport(error, context: context)
                if case .timedOut = error {
                    cost = retryPolicy.timeoutCost
                    timeouts += 1
                    // An endpoint that accepts connections but never answers would otherwise hold the
                    // operator for attempts × timeout: three silent timeouts are enough to say so.
                    if timeouts >= RetryPolicy.maxTimeoutsPerCall { throw failure }
                }
                if case .connectionReset = error { cost = retryPolicy.timeoutCost }
            }
            if retryClass == .throttling { counters.withLock { $0.throttles += 1 } }
            // Fatal, transitional and expired-credential answers go to the caller at once (see RetryClass).
            guard retryClass.isRetriedByClient, attempt < retryPolicy.maxAttempts, !Task.isCancelled else { throw failure }
            if !idempotent, failure.mayHaveBeenApplied { throw failure }

            counters.withLock { $0.retries += 1 }
            if case .transport(let error, _) = failure {
                // The network is failing, not DynamoDB throttling: say so while retrying. One or two failed
                // attempts are routine on any network and would only alarm: they show with --verbose (info);
                // from the third attempt on they are a warning.
                logger.log(
                    level: attempt + 1 >= RetryPolicy.warnFromAttempt ? .warning : .info,
                    "\(operation)\(table.map { " on \($0)" } ?? ""): \(error.operatorMessage); retrying (attempt \(attempt + 1) of \(retryPolicy.maxAttempts))")
            }
            var delay = retryPolicy.delay(beforeRetry: attempt, using: &random)
            let missing = budget.withdraw(cost)
            if missing > 0 {
                // The shared budget is spent: everyone waits longer, so a storm cannot turn into a stampede.
                delay = min(retryPolicy.cap, delay + retryPolicy.base * missing)
            }
            logger.debug(
                "retrying \(operation)",
                metadata: [
                    "table": .string(table ?? "-"), "attempt": .stringConvertible(attempt),
                    "delay": .string("\(delay)"), "reason": .string(failure.description),
                ])
            do { try await clock.sleep(for: delay) } catch { throw failure }
        }
    }

    /// Error types with which AWS refuses credentials that have expired. `ExpiredTokenException` says so;
    /// the other two are sent for an expired session token by some endpoints, so they count only for
    /// temporary credentials (those with an expiration).
    static let expiredTokenErrorTypes: Set<String> = ["ExpiredTokenException", "ExpiredToken", "RequestExpired"]
    static let refusedCredentialsErrorTypes: Set<String> = ["UnrecognizedClientException", "InvalidSignatureException"]

    static func mayBeExpiredCredentials(_ error: ServiceError, used: ExpiringCredentials) -> Bool {
        if expiredTokenErrorTypes.contains(error.type) { return true }
        return used.expiration != nil && refusedCredentialsErrorTypes.contains(error.type)
    }

    /// The current credentials and their signer (rebuilt only when the credentials changed).
    func currentSigner(context: CallContext) async throws(DynamoDBError) -> (ExpiringCredentials, SigV4Signer) {
        let current: ExpiringCredentials
        do {
            current = try await credentials.credentials()
        } catch let error as CredentialProviderError {
            throw .credentials(error, context: context)
        } catch {
            throw .credentials(CredentialProviderError(source: credentials.source, reason: "\(error)"), context: context)
        }
        let signer = signer.withLock { cached -> SigV4Signer in
            if let existing = cached, existing.credentials == current.credentials { return existing }
            let made = SigV4Signer(credentials: current.credentials, region: configuration.region, service: "dynamodb")
            cached = made
            return made
        }
        return (current, signer)
    }

    func signedRequest(_ signer: SigV4Signer, operation: String, body: [UInt8]) -> HTTPRequest {
        let headers: [(name: String, value: String)] = [
            ("Host", hostHeader),
            ("Content-Type", "application/x-amz-json-1.0"),
            ("X-Amz-Target", Self.target(of: operation)),
        ]
        let signing = SigningRequest(method: "POST", path: "/", headers: headers, body: body)
        var signed = signer.signedHeaders(for: signing, date: Date())
        signed.append(("User-Agent", "dynamo-migrate/0.1"))
        return HTTPRequest(method: "POST", url: url, headers: signed, body: body)
    }

    /// Reads an error answer. The type comes from the body's `__type` (or `code`), else from the
    /// `x-amzn-ErrorType` header, which some front ends send with an empty or non-JSON body; an answer with
    /// neither is named by its status (`HTTP503`) and classified by it (see ``ErrorCatalog``).
    static func serviceError(from response: HTTPResponse, context: CallContext) -> ServiceError {
        let json = try? JSON.parse(response.body)
        let wireType = json?["__type"]?.stringValue ?? json?["code"]?.stringValue ?? response.header("x-amzn-errortype")
        var type = wireType.map { ErrorCatalog.shortType($0) } ?? ""
        if type.isEmpty { type = "HTTP\(response.status)" }
        let nonJSONPage = json == nil && response.body.contains(UInt8(ascii: "<"))
        let message: String
        if let text = json?["message"]?.stringValue ?? json?["Message"]?.stringValue {
            message = text
        } else if let text = ErrorCatalog.statusMessage(response.status, nonJSONPage: nonJSONPage) {
            message = text
        } else if nonJSONPage {
            message = "the endpoint answered HTTP \(response.status) with a non-JSON page: is it a DynamoDB endpoint?"
        } else if response.body.isEmpty {
            message = "(no message)"
        } else {
            message = String(decoding: response.body.prefix(200), as: UTF8.self)
        }
        let requestId = response.header("x-amzn-requestid") ?? response.header("x-amz-request-id")
        return ServiceError(
            type: type, message: message, httpStatus: response.status,
            requestId: requestId, context: context)
    }
}

/// Request counters of one client.
public struct ClientStatistics: Sendable, Equatable {
    public var requests = 0
    public var retries = 0
    public var throttles = 0
}
