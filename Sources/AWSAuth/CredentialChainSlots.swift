/// Where the providers that fetch credentials from SSO, `credential_process`, the container endpoint
/// and the EC2 instance metadata service plug into the chain (``CredentialChain`` decides the order).
///
/// Each slot returns nil when its provider does not apply. Until a provider is written its slot returns
/// nil, and the chain says so clearly: `credential_process`/SSO profiles are refused as unsupported,
/// `credential_source = EcsContainer | Ec2InstanceMetadata` as not available, and the default chain
/// ends with "no credentials found".
enum CredentialChainSlots {
    /// `sso_session` or legacy `sso_start_url`... in the profile: the cached token, then `GetRoleCredentials`.
    static func sso(_ profile: ProfileSettings, _ context: CredentialChainContext) throws(AWSConfigurationError) -> (any CredentialProvider)? {
        nil  // the SSO provider plugs in here
    }

    /// `credential_process = COMMAND` in the profile.
    static func process(command: String, _ profile: ProfileSettings, _ context: CredentialChainContext) throws(AWSConfigurationError) -> (any CredentialProvider)? {
        nil  // the credential_process provider plugs in here
    }

    /// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` / `_FULL_URI` (ECS tasks, EKS Pod Identity); nil when unset.
    static func container(_ context: CredentialChainContext) throws(AWSConfigurationError) -> (any CredentialProvider)? {
        nil  // the container credentials provider plugs in here
    }

    /// IMDSv2 (unless `AWS_EC2_METADATA_DISABLED=true`); the last link of the chain.
    static func instanceMetadata(_ context: CredentialChainContext) throws(AWSConfigurationError) -> (any CredentialProvider)? {
        nil  // the instance metadata provider plugs in here
    }

    /// The instance's region from IMDS, asked only when no flag, variable or profile gives a region.
    /// Synchronous because resolution is: a provider plugging in here must keep its timeouts short
    /// (and honour `AWS_EC2_METADATA_DISABLED`) so a laptop is not held up.
    static func instanceMetadataRegion(_ context: CredentialChainContext) -> String? {
        nil  // the instance metadata region lookup plugs in here
    }
}
