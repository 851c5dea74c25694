import Foundation

/// The role session name when none is configured, like botocore's `botocore-session-<epoch>`.
func defaultRoleSessionName() -> String { "dynamo-migrate-\(Int(Date().timeIntervalSince1970))" }

/// `role_arn` with `source_profile` or `credential_source`: STS `AssumeRole` with the source's
/// credentials. The source is asked again at each fetch (it may itself be temporary, e.g. a chain).
public struct AssumeRoleCredentialProvider: CredentialProvider {
    public let roleArn: String
    public let sessionName: String
    public let externalId: String?
    public let durationSeconds: Int?
    public let sourceCredentials: any CredentialProvider
    public let sts: STSClient
    public let source: String

    public init(
        roleArn: String, sessionName: String? = nil, externalId: String? = nil, durationSeconds: Int? = nil,
        sourceCredentials: any CredentialProvider, sts: STSClient, profile: String? = nil
    ) {
        self.roleArn = roleArn
        self.sessionName = sessionName ?? defaultRoleSessionName()
        self.externalId = externalId
        self.durationSeconds = durationSeconds
        self.sourceCredentials = sourceCredentials
        self.sts = sts
        self.source = "assume role \(roleArn)\(profile.map { " (profile \"\($0)\")" } ?? "") with credentials from \(sourceCredentials.source)"
    }

    public func fetch() async throws -> ExpiringCredentials {
        let base = try await sourceCredentials.fetch()
        do {
            return try await sts.assumeRole(
                roleArn: roleArn, sessionName: sessionName, externalId: externalId,
                durationSeconds: durationSeconds, credentials: base.credentials
            ).credentials
        } catch {
            throw CredentialProviderError(source: source, reason: error.description)
        }
    }
}

/// `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN` (EKS IRSA) or a profile's `web_identity_token_file`:
/// STS `AssumeRoleWithWebIdentity` with the token read from the file at every fetch, since EKS rotates it.
public struct WebIdentityCredentialProvider: CredentialProvider {
    public let roleArn: String
    public let tokenFile: String
    public let sessionName: String
    public let durationSeconds: Int?
    public let sts: STSClient
    public let source: String

    public init(
        roleArn: String, tokenFile: String, sessionName: String? = nil, durationSeconds: Int? = nil,
        sts: STSClient, origin: String
    ) {
        self.roleArn = roleArn
        self.tokenFile = tokenFile
        self.sessionName = sessionName ?? defaultRoleSessionName()
        self.durationSeconds = durationSeconds
        self.sts = sts
        self.source = "web identity token \(tokenFile) for role \(roleArn) (\(origin))"
    }

    public func fetch() async throws -> ExpiringCredentials {
        let token: String
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: tokenFile))
            token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw CredentialProviderError(source: source, reason: "cannot read the token file \(tokenFile): it is missing or not readable")
        }
        guard !token.isEmpty else {
            throw CredentialProviderError(source: source, reason: "the token file \(tokenFile) is empty")
        }
        do {
            return try await sts.assumeRoleWithWebIdentity(
                roleArn: roleArn, sessionName: sessionName,
                webIdentityToken: token, durationSeconds: durationSeconds
            ).credentials
        } catch {
            throw CredentialProviderError(source: source, reason: error.description)
        }
    }
}
