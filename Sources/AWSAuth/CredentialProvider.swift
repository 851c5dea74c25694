import CurlTransport
import Foundation

/// Credentials with the moment they stop working (nil: they do not expire, e.g. static keys).
public struct ExpiringCredentials: Sendable, Equatable {
    public var credentials: Credentials
    public var expiration: Date?
    public init(credentials: Credentials, expiration: Date? = nil) {
        self.credentials = credentials; self.expiration = expiration
    }
}

/// One way of obtaining credentials, as aws-cli and the SDKs have them: environment keys, a web identity
/// token through STS, an assumed role, `credential_process`, SSO, container credentials (ECS, EKS Pod
/// Identity), the EC2 instance metadata service (IMDSv2).
///
/// A provider fetches anew on every call; caching and refreshing before expiry is the job of the one
/// wrapper that sits between the providers and the clients, so every provider is refreshed the same way.
public protocol CredentialProvider: Sendable {
    /// Where the credentials come from, for `whoami` and error messages (e.g. `container credentials
    /// (http://169.254.170.23/v1/credentials)`). Never contains a secret.
    var source: String { get }
    /// Fresh credentials, or an error saying what is wrong and what to do.
    func fetch() async throws -> ExpiringCredentials
}

/// Why a credential provider could not give credentials. Descriptions never contain a secret.
public struct CredentialProviderError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The provider's ``CredentialProvider/source``.
    public var source: String
    /// What went wrong and what to do, in a sentence.
    public var reason: String
    /// Nothing was configured at all: the chain ended at the instance metadata service and that gave
    /// nothing either. Then `reason` is the whole message ("No AWS credentials found. Looked in: …"),
    /// and it is the operator's input that is missing (exit 2), not a failure of a configured source.
    public var nothingConfigured: Bool
    public init(source: String, reason: String, nothingConfigured: Bool = false) {
        self.source = source; self.reason = reason; self.nothingConfigured = nothingConfigured
    }
    public var description: String { nothingConfigured ? reason : "cannot get credentials from \(source): \(reason)" }
}

/// Static keys (environment, `aws_access_key_id` in a profile): they never expire.
public struct StaticCredentialProvider: CredentialProvider {
    public let credentials: Credentials
    public let source: String
    public init(_ credentials: Credentials, source: String) {
        self.credentials = credentials; self.source = source
    }
    public func fetch() async throws -> ExpiringCredentials { ExpiringCredentials(credentials: credentials) }
}

/// The HTTP seam credential providers use (IMDS, container credentials, STS, SSO): the project's
/// libcurl transport in production, a real local HTTP server in tests.
public typealias CredentialHTTP = HTTPTransport
