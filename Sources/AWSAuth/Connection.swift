import CurlTransport
import Foundation

/// Where one side of a run talks to and as whom: the settings aws-cli takes for one call
/// (`--profile`, `--region`, `--endpoint-url`) plus a role to assume on top of them.
///
/// A field left nil falls back the way aws-cli's does (environment, then the profile); ``overlaid(on:)``
/// fills it from a wider setting first (a mapping's per-side connection over `--source-*`/`--target-*`
/// flags over the global flags). Resolved by ``AWSConfigurationResolver/resolve(connection:environment:http:)``.
public struct Connection: Sendable, Hashable, Codable, CustomStringConvertible {
    public var profile: String?
    public var region: String?
    /// A role assumed with STS `AssumeRole` using the credentials the profile (or the default chain) gives.
    public var roleArn: String?
    public var externalId: String?
    public var sessionName: String?
    /// The DynamoDB endpoint URL.
    public var endpoint: String?

    public init(
        profile: String? = nil, region: String? = nil, roleArn: String? = nil, externalId: String? = nil,
        sessionName: String? = nil, endpoint: String? = nil
    ) {
        self.profile = profile; self.region = region; self.roleArn = roleArn
        self.externalId = externalId; self.sessionName = sessionName; self.endpoint = endpoint
    }

    /// Whether nothing is set (the default chain, as a command without any connection flag).
    public var isEmpty: Bool { self == Connection() }

    /// This connection with every field it leaves nil taken from `base`. A role is one setting with its
    /// external id and session name: a connection naming its own role does not inherit those.
    public func overlaid(on base: Connection) -> Connection {
        var merged = Connection(
            profile: profile ?? base.profile, region: region ?? base.region, roleArn: roleArn ?? base.roleArn,
            externalId: externalId, sessionName: sessionName, endpoint: endpoint ?? base.endpoint)
        if roleArn == nil {
            merged.externalId = base.externalId
            merged.sessionName = base.sessionName
        }
        return merged
    }

    /// `profile dev, region eu-west-1, role arn:…` (only what is set), or `the default credentials`.
    public var description: String {
        var parts: [String] = []
        if let profile { parts.append("profile \(profile)") }
        if let region { parts.append("region \(region)") }
        if let roleArn { parts.append("role \(roleArn)") }
        if let endpoint { parts.append("endpoint \(endpoint)") }
        return parts.isEmpty ? "the default credentials" : parts.joined(separator: ", ")
    }

    /// What is wrong with a role ARN as written, or nil: `arn:<partition>:iam::<12-digit account>:role/<name>`.
    public static func roleArnProblem(_ arn: String) -> String? {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", !parts[1].isEmpty, parts[2] == "iam", parts[3].isEmpty,
            parts[4].count == 12, parts[4].allSatisfy(\.isNumber), parts[5].hasPrefix("role/"), parts[5].count > 5
        else {
            return "'\(arn)' is not a role ARN; expected arn:aws:iam::<12-digit account>:role/<name>"
        }
        return nil
    }
}

/// Who a connection calls AWS as, and where: the evidence `verify` and `decommission` record, so proof
/// taken in one account or region is never used to delete in another.
public struct ConnectionIdentity: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The 12-digit account (STS `GetCallerIdentity`); nil when STS could not be asked.
    public var account: String?
    /// The caller's ARN (an assumed role shows as `arn:aws:sts::…:assumed-role/<role>/<session>`).
    public var arn: String?
    public var region: String
    public var endpoint: String

    public init(account: String?, arn: String?, region: String, endpoint: String) {
        self.account = account; self.arn = arn; self.region = region
        self.endpoint = AWSConfiguration.normalizedEndpoint(endpoint)
    }

    /// The same place: same region and endpoint, and the same account when both are known. An identity
    /// whose account is unknown only matches another whose account is unknown too (nothing proves it is
    /// the same account otherwise).
    public func isSamePlace(as other: ConnectionIdentity) -> Bool {
        region == other.region && endpoint == other.endpoint && account == other.account
    }

    public var description: String {
        "account \(account ?? "unknown")\(arn.map { " (\($0))" } ?? ""), region \(region), endpoint \(endpoint)"
    }
}

extension AWSConfigurationResolver {
    /// Resolves a ``Connection`` exactly as aws-cli resolves `--profile/--region/--endpoint-url`
    /// (``resolve(profile:region:endpointURL:environment:http:)``), then, with `roleArn`, wraps the
    /// credentials found in an STS `AssumeRole` of that role (the profile's credentials are the source,
    /// as `source_profile` would make them), at the STS endpoint aws-cli would use.
    public static func resolve(
        connection: Connection,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        http: (any HTTPTransport)? = nil
    ) throws(AWSConfigurationError) -> AWSConfiguration {
        var configuration = try resolve(
            profile: connection.profile, region: connection.region, endpointURL: connection.endpoint,
            environment: environment, http: http)
        guard let roleArn = connection.roleArn else { return configuration }
        let sts = STSClient(endpoint: configuration.stsEndpoint, region: configuration.region, http: http ?? LazyCurlTransport())
        configuration.credentialProvider = AssumeRoleCredentialProvider(
            roleArn: roleArn, sessionName: connection.sessionName, externalId: connection.externalId,
            sourceCredentials: configuration.credentialProvider, sts: sts, profile: configuration.profile)
        return configuration
    }
}
