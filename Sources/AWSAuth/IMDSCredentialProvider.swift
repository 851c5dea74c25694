// The EC2 instance metadata service, version 2 (session tokens), as botocore uses it: the instance
// profile's role credentials, and the instance's region when nothing else names one.
import CurlTransport
import Foundation
import Synchronization

/// Credentials of the EC2 instance profile through IMDSv2: `PUT /latest/api/token`, then the role name
/// from `/latest/meta-data/iam/security-credentials/` and its credentials from `.../<role>`.
///
/// Every request has a 1 s limit and one retry, so on a laptop (where nothing answers at
/// 169.254.169.254) the chain moves on within seconds. The session token is kept for its lifetime
/// (6 hours) and fetched again when the service refuses it.
public final class IMDSCredentialProvider: CredentialProvider {
    /// IMDS's IPv4 address; `AWS_EC2_METADATA_SERVICE_ENDPOINT` overrides it.
    public static let defaultEndpoint = "http://169.254.169.254"
    /// IMDS's IPv6 address, for `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6`.
    public static let ipv6Endpoint = "http://[fd00:ec2::254]"
    /// The session token lifetime asked for: 6 hours, as botocore asks.
    static let tokenTTLSeconds = 21600

    /// The service's base URL, without a trailing slash.
    public let endpoint: String
    let http: any CredentialHTTP
    let clock: any RunClock
    let timeout: Duration
    let attempts: Int
    private let token = Mutex<(value: String, expires: ContinuousClock.Instant)?>(nil)

    public var source: String { "EC2 instance metadata (\(endpoint))" }

    public init(
        endpoint: String = IMDSCredentialProvider.defaultEndpoint, http: any CredentialHTTP,
        clock: any RunClock = SystemClock(), timeout: Duration = .seconds(1), attempts: Int = 2
    ) {
        var endpoint = endpoint
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        self.endpoint = endpoint; self.http = http; self.clock = clock
        self.timeout = timeout; self.attempts = attempts
    }

    /// The provider the environment allows: nil when `AWS_EC2_METADATA_DISABLED` is `true`; the address
    /// from `AWS_EC2_METADATA_SERVICE_ENDPOINT`, else `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE` (`IPv4`
    /// or `IPv6`), else 169.254.169.254.
    public static func fromEnvironment(
        _ environment: [String: String], http: any CredentialHTTP,
        clock: any RunClock = SystemClock()
    ) throws(CredentialProviderError) -> IMDSCredentialProvider? {
        func env(_ name: String) -> String? {
            guard let value = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
            return value
        }
        if env("AWS_EC2_METADATA_DISABLED")?.lowercased() == "true" { return nil }
        if let endpoint = env("AWS_EC2_METADATA_SERVICE_ENDPOINT") {
            guard let components = URLComponents(string: endpoint), let scheme = components.scheme?.lowercased(),
                scheme == "http" || scheme == "https", components.host?.isEmpty == false
            else {
                throw CredentialProviderError(
                    source: "EC2 instance metadata (AWS_EC2_METADATA_SERVICE_ENDPOINT)",
                    reason: "\"\(endpoint)\" is not an http:// or https:// URL with a host")
            }
            return IMDSCredentialProvider(endpoint: endpoint, http: http, clock: clock)
        }
        switch env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE")?.lowercased() {
        case nil, "ipv4": return IMDSCredentialProvider(http: http, clock: clock)
        case "ipv6": return IMDSCredentialProvider(endpoint: ipv6Endpoint, http: http, clock: clock)
        case let other?:
            throw CredentialProviderError(
                source: "EC2 instance metadata (AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE)",
                reason: "\"\(other)\" is neither IPv4 nor IPv6")
        }
    }

    public func fetch() async throws -> ExpiringCredentials {
        let roles = try await get("/latest/meta-data/iam/security-credentials/", what: "the instance profile's role")
        guard let role = roles.split(whereSeparator: \.isNewline).first.map({ $0.trimmingCharacters(in: .whitespaces) }),
            !role.isEmpty
        else {
            throw CredentialProviderError(source: source, reason: "the instance has no IAM role (instance profile) attached")
        }
        let body = try await get("/latest/meta-data/iam/security-credentials/\(role)", what: "the credentials of the role \(role)")
        switch CredentialFetching.metadataCredentials(Array(body.utf8)) {
        case .success(let credentials): return credentials
        case .failure(let problem): throw CredentialProviderError(source: source, reason: "for the role \(role), \(problem.reason)")
        }
    }

    /// The instance's region (`/latest/meta-data/placement/region`), for when neither flags, environment
    /// nor profile name one.
    public func region() async throws(CredentialProviderError) -> String {
        let region = try await get("/latest/meta-data/placement/region", what: "the instance's region")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard !region.isEmpty else { throw CredentialProviderError(source: source, reason: "the instance's region is empty") }
        return region
    }

    /// GET `path` with the session token; once more with a new token when the service refuses the kept
    /// one (401: it expired or the instance was stopped and started).
    private func get(_ path: String, what: String) async throws(CredentialProviderError) -> String {
        for attempt in 0..<2 {
            let sessionToken = try await currentToken()
            let response: HTTPResponse
            do {
                response = try await CredentialFetching.send(
                    http,
                    HTTPRequest(
                        method: "GET", url: endpoint + path, headers: [("X-aws-ec2-metadata-token", sessionToken)],
                        body: [], timeout: timeout), attempts: attempts)
            } catch {
                throw CredentialProviderError(source: source, reason: "no answer for \(what) (\(error))")
            }
            if response.status == 401 && attempt == 0 {
                token.withLock { $0 = nil }
                continue
            }
            guard response.status == 200 else {
                let hint = response.status == 404 ? "; is an IAM role (instance profile) attached to the instance?" : ""
                throw CredentialProviderError(source: source, reason: "asking for \(what), the service answered HTTP \(response.status)\(hint)")
            }
            return String(decoding: response.body, as: UTF8.self)
        }
        throw CredentialProviderError(source: source, reason: "the service refused a new session token for \(what) (HTTP 401)")
    }

    /// The kept session token while it has a minute left, else a new one.
    private func currentToken() async throws(CredentialProviderError) -> String {
        let now = clock.now
        if let kept = token.withLock({ $0 }), now < kept.expires { return kept.value }
        let response: HTTPResponse
        do {
            response = try await CredentialFetching.send(
                http,
                HTTPRequest(
                    method: "PUT", url: endpoint + "/latest/api/token",
                    headers: [("X-aws-ec2-metadata-token-ttl-seconds", String(Self.tokenTTLSeconds))],
                    body: [], timeout: timeout), attempts: attempts)
        } catch {
            throw CredentialProviderError(
                source: source, reason: "the metadata service did not answer (\(error)); not on EC2, or set AWS_EC2_METADATA_DISABLED=true")
        }
        guard response.status == 200 else {
            let hint = response.status == 403 ? " (the metadata service is turned off for this instance, or a proxy refuses it: not on EC2?)" : ""
            throw CredentialProviderError(
                source: source, reason: "the session token request (PUT /latest/api/token) was answered HTTP \(response.status)\(hint)")
        }
        let value = String(decoding: response.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !value.isEmpty else {
            throw CredentialProviderError(source: source, reason: "the session token answer (PUT /latest/api/token) is empty")
        }
        let expires = now + .seconds(Self.tokenTTLSeconds - 60)
        token.withLock { $0 = (value, expires) }
        return value
    }
}
