// S3Client: S3 over the same libcurl transport and SigV4 signer as DynamoDB, with retries, region
// redirects and errors an operator understands.
import AWSAuth
import CurlTransport
import DynamoClient
import Foundation
import Logging
import Synchronization

/// Server-side encryption of the objects a client writes (`--sse AES256|aws:kms --kms-key ID`).
public enum S3ServerSideEncryption: Sendable, Equatable, CustomStringConvertible {
    /// SSE-S3: keys managed by S3.
    case aes256
    /// SSE-KMS with the given key (nil: the account's default `aws/s3` key).
    case kms(keyId: String?)

    /// Reads the `--sse` and `--kms-key` options; the error names the flag.
    public static func parse(sse: String?, kmsKey: String?) throws(S3Error) -> S3ServerSideEncryption? {
        switch sse {
        case nil:
            if kmsKey != nil { throw .invalidRequest("--kms-key needs --sse aws:kms") }
            return nil
        case "AES256":
            if kmsKey != nil { throw .invalidRequest("--kms-key needs --sse aws:kms, not --sse AES256") }
            return .aes256
        case "aws:kms": return .kms(keyId: kmsKey)
        case let other?: throw .invalidRequest("--sse must be AES256 or aws:kms, not \(other)")
        }
    }

    /// The request headers that ask for this encryption.
    var headers: [(name: String, value: String)] {
        switch self {
        case .aes256: [("x-amz-server-side-encryption", "AES256")]
        case .kms(let key?): [("x-amz-server-side-encryption", "aws:kms"), ("x-amz-server-side-encryption-aws-kms-key-id", key)]
        case .kms(nil): [("x-amz-server-side-encryption", "aws:kms")]
        }
    }

    /// The value of `x-amz-server-side-encryption`.
    public var algorithm: String {
        switch self {
        case .aes256: "AES256"
        case .kms: "aws:kms"
        }
    }

    public var kmsKeyId: String? {
        if case .kms(let key) = self { return key }
        return nil
    }

    public var description: String {
        switch self {
        case .aes256: "AES256"
        case .kms(let key): "aws:kms\(key.map { " (key \($0))" } ?? "")"
        }
    }
}

/// One S3 request before signing. `key` is the raw key; the client encodes it.
struct S3Request: Sendable {
    var operation: String
    var method: String
    var bucket: String?
    var key: String?
    /// Sub-resources and parameters, raw (encoded by the client); a nil value is a bare name (`?uploads`).
    var query: [(name: String, value: String?)] = []
    var headers: [(name: String, value: String)] = []
    var body: [UInt8] = []
}

/// An S3 client: signs each request (SigV4 for `s3`), sends it over an ``HTTPTransport``, retries
/// throttling (`SlowDown`) and server errors with the DynamoDB client's ``RetryPolicy``, follows a
/// bucket's region once when S3 names it, and turns error answers into ``S3Error``.
///
/// Addressing: a configured endpoint (``AWSConfiguration/s3Endpoint``, e.g. moto) is addressed
/// path-style (`http://host/bucket/key`); AWS's own endpoints virtual-host style
/// (`https://bucket.s3.region.amazonaws.com/key`), path-style only for bucket names with dots, which
/// TLS certificates do not cover.
///
/// One client is meant to be shared by every task of a run.
public final class S3Client: Sendable {
    public let region: String
    /// The configured endpoint, or nil for AWS's regional endpoints.
    public let endpoint: String?
    public let retryPolicy: RetryPolicy
    public let credentials: RefreshingCredentials
    public let clock: any RunClock
    public let logger: Logger
    let transport: any HTTPTransport
    let ownsTransport: Bool
    /// Regions learnt from redirects, so later requests for the bucket go straight there.
    let bucketRegions = Mutex<[String: String]>([:])
    let counters = Mutex(S3Statistics())

    /// - Parameters:
    ///   - configuration: credentials, region and ``AWSConfiguration/s3Endpoint``.
    ///   - transport: defaults to a new ``CurlTransport`` (2-minute request timeout, for parts of
    ///     several MiB on slow links) owned by this client.
    public init(
        configuration: AWSConfiguration, transport: (any HTTPTransport)? = nil,
        retryPolicy: RetryPolicy = .default, clock: any RunClock = SystemClock(),
        logger: Logger = Logger(label: "dynamo-migrate.s3"), credentials: RefreshingCredentials? = nil
    ) {
        self.region = configuration.region
        self.endpoint = configuration.s3Endpoint.map(AWSConfiguration.normalizedEndpoint)
        self.retryPolicy = retryPolicy
        self.clock = clock
        self.logger = logger
        self.credentials =
            credentials ?? (configuration.credentialProvider as? RefreshingCredentials)
            ?? RefreshingCredentials(configuration.credentialProvider, clock: clock)
        if let transport {
            self.transport = transport
            self.ownsTransport = false
        } else {
            var settings = CurlTransportConfiguration()
            settings.requestTimeout = .seconds(120)
            settings.crc32Header = nil
            self.transport = CurlTransport(configuration: settings)
            self.ownsTransport = true
        }
    }

    deinit {
        if ownsTransport, let curl = transport as? CurlTransport { curl.shutdown() }
    }

    /// Counters since the client was created.
    public var statistics: S3Statistics { counters.withLock { $0 } }

    /// The endpoint a message should name for `bucket`.
    public func endpointDescription(for bucket: String?) -> String {
        endpoint ?? "https://s3.\(regionFor(bucket)).amazonaws.com"
    }

    /// The region requests for `bucket` are signed for: the client's, or the one a redirect named.
    public func knownRegion(of bucket: String) -> String { regionFor(bucket) }

    func regionFor(_ bucket: String?) -> String {
        guard let bucket else { return region }
        return bucketRegions.withLock { $0[bucket] } ?? region
    }

    // MARK: - Sending

    /// The URL, `Host` header and path (as signed) of a request to `region`.
    func address(_ request: S3Request, region: String) -> (url: String, host: String, path: String) {
        let encodedKey = request.key.map { SigV4Signer.uriEncoded($0, keepSlash: true) }
        var base: String
        var path: String
        if let endpoint {
            base = endpoint
            path = request.bucket.map { "/" + $0 + (encodedKey.map { "/" + $0 } ?? "") } ?? "/"
            // An endpoint with a path of its own (a proxy mount) keeps it in front.
            if let components = URLComponents(string: endpoint), !components.percentEncodedPath.isEmpty {
                path = components.percentEncodedPath + path
                var root = components
                root.percentEncodedPath = ""
                base = root.string ?? endpoint
            }
        } else {
            let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
            if let bucket = request.bucket, !bucket.contains(".") {
                base = "https://\(bucket).s3.\(region).\(suffix)"
                path = "/" + (encodedKey ?? "")
            } else {
                base = "https://s3.\(region).\(suffix)"
                path = request.bucket.map { "/" + $0 + (encodedKey.map { "/" + $0 } ?? "") } ?? "/"
            }
        }
        let host = Self.hostHeader(for: base)
        return (base + path, host, path)
    }

    static func hostHeader(for base: String) -> String {
        guard let components = URLComponents(string: base), let host = components.host else { return base }
        if let port = components.port {
            let isDefault = (components.scheme == "https" && port == 443) || (components.scheme == "http" && port == 80)
            if !isDefault { return "\(host):\(port)" }
        }
        return host
    }

    static func queryString(_ query: [(name: String, value: String?)]) -> String {
        query.map { pair in
            let name = SigV4Signer.uriEncoded(pair.name, keepSlash: false)
            return pair.value.map { name + "=" + SigV4Signer.uriEncoded($0, keepSlash: false) } ?? name
        }.joined(separator: "&")
    }

    /// Sends `request` with retries; returns the 2xx answer. Error answers become ``S3Error``; a
    /// redirect that names the bucket's region is followed once (and logged).
    func send(_ request: S3Request) async throws(S3Error) -> HTTPResponse {
        var attempt = 0
        var redirected = false
        var random = SystemRandomNumberGenerator()
        let query = Self.queryString(request.query)
        while true {
            attempt += 1
            let region = regionFor(request.bucket)
            let signer = try await currentSigner(region: region)
            let (url, host, path) = address(request, region: region)
            var headers = request.headers
            headers.append(("Host", host))
            let signing = SigningRequest(method: request.method, path: path, query: query, headers: headers, body: request.body)
            var signed = signer.signedHeaders(for: signing, date: clock.date)
            signed.append(("User-Agent", "dynamo-migrate/0.1"))
            let http = HTTPRequest(method: request.method, url: query.isEmpty ? url : url + "?" + query, headers: signed, body: request.body)
            counters.withLock { $0.requests += 1; $0.bytesSent += request.body.count }
            let failure: S3Error
            let retryClass: RetryClass
            do {
                let response = try await transport.send(http)
                if (200..<300).contains(response.status) {
                    counters.withLock { $0.bytesReceived += response.body.count }
                    return response
                }
                let answer = Self.errorAnswer(response)
                // A bucket in another region: S3 names it in a header (or the body); go there once.
                if !redirected, let bucket = request.bucket, Self.isRegionRedirect(response.status, code: answer.code),
                    let bucketRegion = response.header("x-amz-bucket-region") ?? answer.region, bucketRegion != region
                {
                    redirected = true
                    bucketRegions.withLock { $0[bucket] = bucketRegion }
                    logger.warning("S3 bucket \(bucket) is in region \(bucketRegion), not \(region): sending its requests to \(bucketRegion)")
                    attempt -= 1
                    continue
                }
                failure = error(for: request, status: response.status, answer: answer, region: region)
                retryClass = Self.classify(code: answer.code, status: response.status)
            } catch {
                failure = .transport(error, operation: request.operation, bucket: request.bucket)
                retryClass = RetryPolicy.classify(error)
            }
            if retryClass == .throttling { counters.withLock { $0.throttles += 1 } }
            guard retryClass.isRetriedByClient, attempt < retryPolicy.maxAttempts, !Task.isCancelled else { throw failure }
            counters.withLock { $0.retries += 1 }
            logger.log(
                level: attempt + 1 >= RetryPolicy.warnFromAttempt ? .warning : .info,
                "\(failure); retrying (attempt \(attempt + 1) of \(retryPolicy.maxAttempts))")
            do { try await clock.sleep(for: retryPolicy.delay(beforeRetry: attempt, using: &random)) } catch { throw failure }
        }
    }

    /// Throttling (`SlowDown`, 503) and server errors are retried; everything else is the caller's.
    static func classify(code: String, status: Int) -> RetryClass {
        switch code {
        case "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException": return .throttling
        case "InternalError", "ServiceUnavailable", "RequestTimeout", "RequestTimeTooSkewed", "OperationAborted": return .transient
        default: break
        }
        if status == 503 || status == 429 { return .throttling }
        if status >= 500 { return .transient }
        return .fatal
    }

    static func isRegionRedirect(_ status: Int, code: String) -> Bool {
        status == 301 || status == 307 || code == "PermanentRedirect" || code == "AuthorizationHeaderMalformed"
            || code == "IllegalLocationConstraintException"
    }

    struct ErrorAnswer {
        var code: String
        var message: String
        var region: String?
        var requestId: String?
    }

    /// S3's `<Error><Code>…</Code><Message>…</Message></Error>`; a body-less answer (HEAD) is named by its status.
    static func errorAnswer(_ response: HTTPResponse) -> ErrorAnswer {
        let text = Substring(String(decoding: response.body, as: UTF8.self))
        let code =
            S3XML.value("Code", in: text)
            ?? {
                switch response.status {
                case 301: "PermanentRedirect"
                case 403: "AccessDenied"
                case 404: "NotFound"
                case 503: "SlowDown"
                default: "HTTP\(response.status)"
                }
            }()
        let message = S3XML.value("Message", in: text) ?? (response.body.isEmpty ? "(no message)" : String(text.prefix(200)))
        return ErrorAnswer(
            code: code, message: message, region: S3XML.value("Region", in: text),
            requestId: response.header("x-amz-request-id") ?? S3XML.value("RequestId", in: text))
    }

    func error(for request: S3Request, status: Int, answer: ErrorAnswer, region: String) -> S3Error {
        let bucket = request.bucket ?? ""
        switch answer.code {
        case "NoSuchBucket":
            return .noSuchBucket(bucket: bucket, endpoint: endpointDescription(for: request.bucket))
        case "NoSuchKey":
            return .noSuchKey(bucket: bucket, key: request.key ?? "")
        case "NotFound" where request.key == nil:
            return .noSuchBucket(bucket: bucket, endpoint: endpointDescription(for: request.bucket))
        case "NotFound":
            return .noSuchKey(bucket: bucket, key: request.key ?? "")
        case "AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch":
            return .accessDenied(
                bucket: bucket, key: request.key, operation: request.operation,
                message: answer.code == "AccessDenied" ? answer.message : "\(answer.code): \(answer.message)")
        default:
            if Self.isRegionRedirect(status, code: answer.code), request.bucket != nil {
                return .wrongRegion(bucket: bucket, triedRegion: region, bucketRegion: answer.region)
            }
            return .service(
                code: answer.code, message: answer.message, status: status, operation: request.operation,
                bucket: request.bucket, key: request.key, requestId: answer.requestId)
        }
    }

    func currentSigner(region: String) async throws(S3Error) -> SigV4Signer {
        do {
            let current = try await credentials.credentials()
            return SigV4Signer.s3(credentials: current.credentials, region: region)
        } catch let error as CredentialProviderError {
            throw .credentials(error.description)
        } catch {
            throw .credentials("\(error)")
        }
    }
}

/// Request counters of one S3 client.
public struct S3Statistics: Sendable, Equatable {
    public var requests = 0
    public var retries = 0
    public var throttles = 0
    public var bytesSent = 0
    public var bytesReceived = 0
}
