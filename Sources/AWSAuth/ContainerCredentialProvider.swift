// Container credentials: ECS tasks (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) and EKS Pod Identity
// (AWS_CONTAINER_CREDENTIALS_FULL_URI with an authorization token file), as botocore fetches them.
import CurlTransport
import Foundation

/// Credentials from the container credentials endpoint of ECS or EKS Pod Identity: a GET answered with
/// `AccessKeyId`, `SecretAccessKey`, `Token` and `Expiration` in JSON.
public struct ContainerCredentialProvider: CredentialProvider {
    /// Where the `Authorization` header comes from.
    public enum Authorization: Sendable, Equatable {
        case none
        /// `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
        case token(String)
        /// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`, read on every fetch: EKS rotates the token in it.
        case tokenFile(String)
    }

    /// The ECS agent's address, to which `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` is relative.
    public static let ecsEndpoint = "http://169.254.170.2"

    public let url: String
    public let authorization: Authorization
    let http: any CredentialHTTP
    /// Each attempt's limit; the agent answers locally, so a few seconds mean it is not there.
    let timeout: Duration
    /// One retry: the agent can refuse while the task starts.
    let attempts: Int

    public var source: String { "container credentials (\(url))" }

    public init(
        url: String, authorization: Authorization = .none, http: any CredentialHTTP,
        timeout: Duration = .seconds(2), attempts: Int = 2
    ) {
        self.url = url; self.authorization = authorization; self.http = http
        self.timeout = timeout; self.attempts = attempts
    }

    /// The provider the environment asks for, or nil when neither `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`
    /// nor `AWS_CONTAINER_CREDENTIALS_FULL_URI` is set. The relative URI wins, as in botocore. A full URI
    /// must be https, or http to a loopback address or the EKS Pod Identity agent (169.254.170.23,
    /// fd00:ec2::23) or the ECS agent: credentials are never fetched in clear text from elsewhere.
    public static func fromEnvironment(
        _ environment: [String: String], http: any CredentialHTTP
    ) throws(CredentialProviderError) -> ContainerCredentialProvider? {
        func env(_ name: String) -> String? {
            guard let value = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
            return value
        }
        let url: String
        if let relative = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") {
            url = ecsEndpoint + (relative.hasPrefix("/") ? relative : "/" + relative)
        } else if let full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI") {
            try checkFullURI(full)
            url = full
        } else {
            return nil
        }
        let authorization: Authorization
        if let path = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") {
            authorization = .tokenFile(path)
        } else if let token = env("AWS_CONTAINER_AUTHORIZATION_TOKEN") {
            authorization = .token(token)
        } else {
            authorization = .none
        }
        return ContainerCredentialProvider(url: url, authorization: authorization, http: http)
    }

    /// Hosts an http:// full URI may name besides loopback: the ECS and EKS Pod Identity agents.
    static let allowedPlainHosts: Set<String> = ["169.254.170.2", "169.254.170.23", "fd00:ec2::23", "localhost"]

    static func checkFullURI(_ text: String) throws(CredentialProviderError) {
        let source = "container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI)"
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            var host = components.host?.lowercased(), !host.isEmpty
        else {
            throw CredentialProviderError(source: source, reason: "\"\(text)\" is not an http:// or https:// URL with a host")
        }
        if components.user != nil || components.password != nil {
            throw CredentialProviderError(
                source: source, reason: "the URL carries a user name or password; give the token in AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE) instead")
        }
        if scheme == "https" { return }
        guard scheme == "http" else {
            throw CredentialProviderError(source: source, reason: "\"\(text)\" must be an http:// or https:// URL")
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if allowedPlainHosts.contains(host) || isLoopback(host) { return }
        throw CredentialProviderError(
            source: source,
            reason:
                "the host \(host) is neither loopback nor the ECS or EKS Pod Identity agent (169.254.170.2, 169.254.170.23, fd00:ec2::23); use https for any other host"
        )
    }

    /// 127.0.0.0/8 and ::1.
    static func isLoopback(_ host: String) -> Bool {
        if host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    public func fetch() async throws -> ExpiringCredentials {
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        switch authorization {
        case .none: break
        case .token(let token):
            let checked = try checkedToken(token, from: "AWS_CONTAINER_AUTHORIZATION_TOKEN")
            headers.append(("Authorization", checked))
        case .tokenFile(let path):
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
                throw CredentialProviderError(
                    source: source, reason: "cannot read the authorization token file \(path) (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)")
            }
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            let checked = try checkedToken(token, from: path)
            headers.append(("Authorization", checked))
        }
        let response: HTTPResponse
        do {
            response = try await CredentialFetching.send(
                http, HTTPRequest(method: "GET", url: url, headers: headers, body: [], timeout: timeout), attempts: attempts)
        } catch {
            throw CredentialProviderError(source: source, reason: "the endpoint did not answer (\(error))")
        }
        guard response.status == 200 else {
            throw CredentialProviderError(source: source, reason: "the endpoint answered \(CredentialFetching.statusReason(response))")
        }
        switch CredentialFetching.metadataCredentials(response.body) {
        case .success(let credentials): return credentials
        case .failure(let problem): throw CredentialProviderError(source: source, reason: problem.reason)
        }
    }

    /// A token with a line break would end the header early and smuggle another one in.
    private func checkedToken(_ token: String, from origin: String) throws(CredentialProviderError) -> String {
        guard !token.isEmpty else {
            throw CredentialProviderError(source: source, reason: "the authorization token from \(origin) is empty")
        }
        guard !token.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else {
            throw CredentialProviderError(source: source, reason: "the authorization token from \(origin) contains a line break")
        }
        return token
    }
}
