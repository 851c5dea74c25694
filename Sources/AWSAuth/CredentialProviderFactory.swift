// Where the chain finds the providers of this folder's files, in botocore's order.
import Foundation

/// The providers that come from a profile's settings or from the environment, built for the chain
/// (``AWSConfigurationResolver``) in botocore's order:
///
/// 1. environment keys, web identity, `role_arn` (the chain's own);
/// 2. ``profileProviders(profile:environment:http:clock:)``'s SSO provider — before static keys;
/// 3. static keys in the credentials file (the chain's own);
/// 4. ``profileProviders(profile:environment:http:clock:)``'s `credential_process` — before the config
///    file's static keys;
/// 5. static keys in the config file (the chain's own);
/// 6. ``machineProviders(environment:http:clock:)``: container credentials, then IMDS.
public enum CredentialProviderFactory {
    /// The providers a profile sets up itself: `sso` (``SSOCredentialProvider``, from `sso_session` or
    /// `sso_start_url`) and `process` (``ProcessCredentialProvider``, from `credential_process`), each nil
    /// when the profile does not use it. Throws ``AWSConfigurationError`` for an unreadable or malformed
    /// file, ``CredentialProviderError`` for incomplete SSO settings.
    public static func profileProviders(
        profile: String, environment: [String: String], http: any CredentialHTTP,
        clock: any RunClock = SystemClock()
    ) throws
        -> (sso: SSOCredentialProvider?, process: ProcessCredentialProvider?)
    {
        (
            try SSOCredentialProvider.fromConfig(profile: profile, environment: environment, http: http, clock: clock),
            try ProcessCredentialProvider.fromConfig(profile: profile, environment: environment)
        )
    }

    /// The providers of the machine the tool runs on, in botocore's order: container credentials when
    /// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`/`_FULL_URI` is set, then the EC2 instance metadata service
    /// unless `AWS_EC2_METADATA_DISABLED=true`. Throws ``CredentialProviderError`` for a refused URI.
    public static func machineProviders(
        environment: [String: String], http: any CredentialHTTP,
        clock: any RunClock = SystemClock()
    ) throws(CredentialProviderError) -> [any CredentialProvider] {
        var providers: [any CredentialProvider] = []
        if let container = try ContainerCredentialProvider.fromEnvironment(environment, http: http) { providers.append(container) }
        if let imds = try IMDSCredentialProvider.fromEnvironment(environment, http: http, clock: clock) { providers.append(imds) }
        return providers
    }
}
