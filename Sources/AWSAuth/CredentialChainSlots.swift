/// Where the providers that fetch credentials from SSO, `credential_process`, the container endpoint
/// and the EC2 instance metadata service plug into the chain (``CredentialChain`` decides the order).
///
/// Each slot returns nil when its provider does not apply; a provider that refuses its settings is an
/// ``AWSConfigurationError/credentialProvider(_:)`` naming the setting.
enum CredentialChainSlots {
    /// `sso_session` or legacy `sso_start_url`... in the profile: the cached token, then `GetRoleCredentials`.
    static func sso(_ profile: ProfileSettings, _ context: CredentialChainContext) throws(AWSConfigurationError) -> (any CredentialProvider)? {
        do {
            return try SSOCredentialProvider.forProfile(
                profile.name, settings: profile.values.mapValues(\.value), ssoSessions: ProfileFiles.ssoSessions(context.configFile),
                configPath: context.configPath, environment: context.environment.merging(["HOME": context.home]) { $1 },
                http: context.http)
        } catch {
            throw .credentialProvider(error)
        }
    }

    /// `credential_process = COMMAND` in the profile.
    static func process(
        command: String, _ profile: ProfileSettings, _ context: CredentialChainContext
    ) throws(AWSConfigurationError) -> (any CredentialProvider)? {
        ProcessCredentialProvider(profile: profile.name, command: command)
    }

    /// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` / `_FULL_URI` (ECS tasks, EKS Pod Identity); nil when unset.
    static func container(_ context: CredentialChainContext) throws(AWSConfigurationError) -> (any CredentialProvider)? {
        do { return try ContainerCredentialProvider.fromEnvironment(context.environment, http: context.http) } catch {
            throw .credentialProvider(error)
        }
    }

    /// IMDSv2 (unless `AWS_EC2_METADATA_DISABLED=true`); the last link of the chain.
    static func instanceMetadata(_ context: CredentialChainContext) throws(AWSConfigurationError) -> (any CredentialProvider)? {
        do { return try IMDSCredentialProvider.fromEnvironment(context.environment, http: context.http) } catch {
            throw .credentialProvider(error)
        }
    }

    /// The instance's region from IMDS, asked only when no flag, variable or profile gives a region.
    /// Not asked yet: resolution is synchronous and IMDS is an HTTP call; blocking a thread of the
    /// cooperative pool for it could stall the process, so on EC2 set `AWS_REGION` (or `region` in
    /// the profile) until resolution becomes asynchronous. `IMDSCredentialProvider.region()` is ready.
    static func instanceMetadataRegion(_ context: CredentialChainContext) -> String? {
        nil
    }
}
