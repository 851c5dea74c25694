// AWSAuth: AWS Signature Version 4, credentials, and region/endpoint resolution like aws-cli's.
import Foundation

/// AWS access keys. `description` never shows the secret.
public struct Credentials: Sendable, Equatable, CustomStringConvertible {
    public var accessKeyId: String
    public var secretAccessKey: String
    public var sessionToken: String?
    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }
    public var description: String { "Credentials(accessKeyId: \(accessKeyId), secret: <redacted>\(sessionToken == nil ? "" : ", session token: <redacted>"))" }
}

/// Where the tool talks to and as whom: the result of resolving flags, environment and config files.
public struct AWSConfiguration: Sendable, Equatable {
    public var credentials: Credentials
    public var region: String
    /// Full endpoint URL, e.g. `https://dynamodb.eu-west-1.amazonaws.com` or `http://127.0.0.1:5000`.
    public var endpoint: String
    /// The profile used, if any.
    public var profile: String?
    public init(credentials: Credentials, region: String, endpoint: String, profile: String?) {
        self.credentials = credentials; self.region = region; self.endpoint = endpoint; self.profile = profile
    }
}

/// What can be wrong with credentials, profiles and config files; messages name the file or variable.
public enum AWSConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    case noCredentials(searched: [String])
    case unknownProfile(String, files: [String])
    case malformedFile(path: String, line: Int, reason: String)
    case incompleteProfile(profile: String, file: String, missing: String)
    case noRegion
    case invalidEndpoint(String)

    // STUB: the auth work may refine these messages.
    public var description: String { "\(self)" }
}

// STUB: the auth work replaces this with aws-cli compatible resolution.
public enum AWSConfigurationResolver {
    /// Resolves credentials, region and endpoint in aws-cli's order.
    /// - Parameters:
    ///   - profile: `--profile`, else `AWS_PROFILE`, else `default`.
    ///   - region: `--region`, else `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`.
    ///   - endpointURL: `--endpoint-url`, else `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL`, else
    ///     `https://dynamodb.<region>.amazonaws.com`.
    public static func resolve(profile: String?, region: String?, endpointURL: String?,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws(AWSConfigurationError) -> AWSConfiguration {
        throw .noRegion
    }
}
