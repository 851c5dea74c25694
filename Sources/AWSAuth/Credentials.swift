// AWSAuth: AWS Signature Version 4, credentials, and region/endpoint resolution like aws-cli's.
import Foundation

/// AWS access keys. `description`, `debugDescription` and the mirror never show the secret or the token.
public struct Credentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var accessKeyId: String
    public var secretAccessKey: String
    public var sessionToken: String?
    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }
    public var description: String { "Credentials(accessKeyId: \(accessKeyId), secret: <redacted>\(sessionToken == nil ? "" : ", session token: <redacted>"))" }
    public var debugDescription: String { description }
    // `dump()` and debuggers walk the mirror; keep the secrets out of it too.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "accessKeyId": accessKeyId, "secretAccessKey": "<redacted>",
                "sessionToken": sessionToken == nil ? "nil" : "<redacted>",
            ])
    }
}

/// Where the tool talks to and as whom: the result of resolving flags, environment and config files.
///
/// Credentials are a provider, not keys: temporary credentials (assumed roles, web identity, SSO,
/// container and instance credentials) are fetched when first needed and refreshed by
/// ``RefreshingCredentials`` while a run goes on.
public struct AWSConfiguration: Sendable, Equatable, CustomStringConvertible {
    /// Where the credentials come from: the first provider of the chain that applies.
    public var credentialProvider: any CredentialProvider
    public var region: String
    /// Full endpoint URL, e.g. `https://dynamodb.eu-west-1.amazonaws.com` or `http://127.0.0.1:5000`,
    /// always in ``normalizedEndpoint(_:)`` form: it is recorded in checkpoints and verification records
    /// and compared with them, so `http://h:8000/` and `http://h:8000` must be one endpoint.
    public var endpoint: String {
        didSet { endpoint = Self.normalizedEndpoint(endpoint) }
    }
    /// The profile used, if any.
    public var profile: String?
    /// Where the region came from (`--region`, `AWS_REGION`, a profile's `region`...), for `whoami`.
    public var regionSource: String
    /// Where the endpoint came from (`--endpoint-url`, `AWS_ENDPOINT_URL_DYNAMODB`, ... or `default`).
    public var endpointSource: String
    /// The STS endpoint (`whoami`, assumed roles) and where it came from.
    public var stsEndpoint: String
    public var stsEndpointSource: String
    /// A configured S3 endpoint (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, a profile's `endpoint_url`),
    /// addressed path-style; nil for AWS's own regional endpoints, addressed virtual-host style.
    public var s3Endpoint: String?
    public var s3EndpointSource = "regional endpoint"

    /// A configuration with static keys (tests, tools).
    public init(credentials: Credentials, region: String, endpoint: String, profile: String?) {
        self.init(
            credentialProvider: StaticCredentialProvider(credentials, source: "static keys"),
            region: region, endpoint: endpoint, profile: profile)
    }

    public init(
        credentialProvider: any CredentialProvider, region: String, endpoint: String, profile: String?,
        regionSource: String = "given", endpointSource: String = "given",
        stsEndpoint: String? = nil, stsEndpointSource: String = "default"
    ) {
        self.credentialProvider = credentialProvider
        self.region = region; self.endpoint = Self.normalizedEndpoint(endpoint); self.profile = profile
        self.regionSource = regionSource; self.endpointSource = endpointSource
        self.stsEndpoint = stsEndpoint ?? STSClient.defaultEndpoint(region: region)
        self.stsEndpointSource = stsEndpointSource
    }

    /// The keys when they are static (environment or profile keys), nil for providers that fetch
    /// temporary credentials.
    public var staticCredentials: Credentials? {
        (credentialProvider as? StaticCredentialProvider)?.credentials
    }

    /// Same region, endpoint and profile, and the same static keys (or, for providers that fetch
    /// credentials, the same source).
    public static func == (lhs: AWSConfiguration, rhs: AWSConfiguration) -> Bool {
        guard lhs.region == rhs.region, lhs.endpoint == rhs.endpoint, lhs.profile == rhs.profile else { return false }
        if lhs.staticCredentials != nil || rhs.staticCredentials != nil {
            return lhs.staticCredentials == rhs.staticCredentials
        }
        return lhs.credentialProvider.source == rhs.credentialProvider.source
    }

    /// The one form of an endpoint URL, used wherever an endpoint is kept or compared: scheme and host
    /// lowercased, the scheme's default port dropped (80 for http, 443 for https), trailing slashes of
    /// the path removed. `HTTP://Local.Host:80/` becomes `http://local.host`; `http://h:8000/` becomes
    /// `http://h:8000`. Text that is not a URL comes back trimmed, otherwise unchanged. Idempotent.
    public static func normalizedEndpoint(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard var components = URLComponents(string: trimmed), let scheme = components.scheme?.lowercased(),
            let host = components.percentEncodedHost, !host.isEmpty
        else { return trimmed }
        components.scheme = scheme
        components.percentEncodedHost = host.lowercased()
        if (scheme == "http" && components.port == 80) || (scheme == "https" && components.port == 443) {
            components.port = nil
        }
        var path = components.percentEncodedPath
        while path.hasSuffix("/") { path.removeLast() }
        components.percentEncodedPath = path
        return components.string ?? trimmed
    }
    public var description: String {
        "AWSConfiguration(credentials: \(staticCredentials.map { "\($0)" } ?? credentialProvider.source), region: \(region), endpoint: \(endpoint), profile: \(profile ?? "none"))"
    }
}

/// What can be wrong with credentials, profiles and config files; messages name the file or variable.
///
/// No case carries a secret access key or session token, so descriptions are safe to print and log.
public enum AWSConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No credentials anywhere; `searched` lists each place looked at, in order.
    case noCredentials(searched: [String])
    /// A profile named by `--profile` or `AWS_PROFILE` is in neither file.
    case unknownProfile(String, files: [String])
    /// A config or credentials file that aws-cli would also refuse; `line` is 1-based.
    case malformedFile(path: String, line: Int, reason: String)
    /// A profile sets one of `aws_access_key_id`/`aws_secret_access_key` but not the other.
    case incompleteProfile(profile: String, file: String, missing: String)
    case noRegion
    case invalidEndpoint(String)
    /// The endpoint URL carries a user name or password (shown without them).
    case endpointWithCredentials(String)
    /// `AWS_ACCESS_KEY_ID` without `AWS_SECRET_ACCESS_KEY` or the other way round.
    case incompleteEnvironment(missing: String)
    /// The profile gets credentials in a way this tool does not implement (assume role, SSO, process...).
    case unsupportedCredentialSource(profile: String, file: String, setting: String)
    /// A config or credentials file exists but cannot be read.
    case unreadableFile(path: String, reason: String)
    /// A region that cannot be a region name (`source` says where it came from).
    case invalidRegion(String, source: String)
    /// A role profile sets `mfa_serial`: an unattended run cannot prompt for a code.
    case mfaRequired(profile: String, file: String)
    /// `source_profile` references that come back to a profile already in the chain.
    case roleChainLoop(profiles: [String])
    /// A role or web identity profile that cannot work as written (`reason` says why).
    case invalidRoleProfile(profile: String, file: String, reason: String)
    /// `credential_source = Ec2InstanceMetadata | EcsContainer` where that provider is not available.
    case credentialSourceUnavailable(profile: String, file: String, source: String)
    /// `AWS_WEB_IDENTITY_TOKEN_FILE` without `AWS_ROLE_ARN`.
    case webIdentityWithoutRole(tokenFileSource: String)
    /// A provider (SSO, `credential_process`, container credentials, IMDS) refused its settings.
    case credentialProvider(CredentialProviderError)

    public var description: String {
        switch self {
        case .noCredentials(let searched):
            return "No AWS credentials found. Looked in:\n"
                + searched.map { "  - \($0)" }.joined(separator: "\n")
                + "\nSet AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, run `aws configure`, or pass --profile NAME"
                + " (an SSO profile needs `aws sso login --profile NAME` first). `dynamo-migrate whoami` shows what is used."
        case .unknownProfile(let name, let files):
            return "The profile \"\(name)\" was not found in \(files.joined(separator: " or "))."
                + " Check the spelling of --profile / AWS_PROFILE, or list profiles with `aws configure list-profiles`."
        case .malformedFile(let path, let line, let reason):
            return "Cannot parse \(path), line \(line): \(reason)."
        case .incompleteProfile(let profile, let file, let missing):
            return "The profile \"\(profile)\" in \(file) has no \(missing)."
                + " A profile with static keys needs both aws_access_key_id and aws_secret_access_key."
        case .noRegion:
            return "No AWS region is set. Pass --region (e.g. --region eu-west-1), set AWS_REGION or"
                + " AWS_DEFAULT_REGION, or add `region = eu-west-1` to the profile in ~/.aws/config"
                + " (`aws configure set region eu-west-1`)."
        case .endpointWithCredentials(let endpoint):
            return "The endpoint URL carries a user name or password, which DynamoDB endpoints do not take: use \"\(endpoint)\""
                + " and give credentials through AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile."
        case .invalidEndpoint(let endpoint):
            return "The endpoint URL \"\(endpoint)\" is not valid: it must be an http:// or https:// URL with a"
                + " host, e.g. https://dynamodb.eu-west-1.amazonaws.com or http://localhost:8000."
                + " It comes from --endpoint-url, AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL or the profile's endpoint_url."
        case .incompleteEnvironment(let missing):
            let other = missing == "AWS_ACCESS_KEY_ID" ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID"
            return "The environment sets \(other) but not \(missing). Set both, or unset \(other) to use a profile."
        case .unsupportedCredentialSource(let profile, let file, let setting):
            return "The profile \"\(profile)\" in \(file) gets credentials through \(setting), which this tool does not"
                + " support. Export temporary keys first:"
                + " eval \"$(aws configure export-credentials --profile \(profile) --format env)\"."
        case .unreadableFile(let path, let reason):
            return "Cannot read \(path): \(reason)."
        case .invalidRegion(let region, let source):
            return "The region \"\(region)\" from \(source) is not a valid region name (expected something like eu-west-1)."
        case .mfaRequired(let profile, let file):
            return "The profile \"\(profile)\" in \(file) sets mfa_serial: this tool runs unattended and cannot ask for an MFA code."
                + " Use a role without an MFA condition for automation, or export temporary keys first:"
                + " eval \"$(aws configure export-credentials --profile \(profile) --format env)\"."
        case .roleChainLoop(let profiles):
            return "The profiles' source_profile settings form a loop: \(profiles.joined(separator: " -> "))."
                + " End the chain with a profile that has keys or a credential_source."
        case .invalidRoleProfile(let profile, let file, let reason):
            return "The profile \"\(profile)\" in \(file) cannot give credentials: \(reason)."
        case .credentialSourceUnavailable(let profile, let file, let source):
            return "The profile \"\(profile)\" in \(file) sets credential_source = \(source), which is not available here"
                + " (Ec2InstanceMetadata: AWS_EC2_METADATA_DISABLED is true; EcsContainer: neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor _FULL_URI is set)."
                + " Use source_profile or credential_source = Environment, or export temporary keys first."
        case .webIdentityWithoutRole(let tokenFileSource):
            return "\(tokenFileSource) is set but AWS_ROLE_ARN is not: a web identity token needs the ARN of the role to assume."
        case .credentialProvider(let error):
            return error.description
        }
    }
}
