import CurlTransport
import Foundation
import Synchronization

/// What a credential provider of the chain may need to be built: the environment, the profile's
/// settings, the config files, the region and the HTTP transport. Providers are built here and fetch later.
struct CredentialChainContext: Sendable {
    var profileName: String
    var environment: [String: String]
    var home: String
    var configFile: ConfigFile?
    var configPath: String
    var region: String?
    var http: any HTTPTransport

    /// A non-empty environment variable.
    func env(_ name: String) -> String? {
        guard let value = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }
}

/// A profile's settings, the credentials file's over the config file's (as botocore merges them),
/// each with the file it is in.
struct ProfileSettings: Sendable {
    var name: String
    var values: [String: (value: String, file: String)] = [:]
    var exists: Bool

    subscript(_ key: String) -> String? { values[key]?.value }
    func file(of key: String) -> String { values[key]?.file ?? "" }
}

/// The credential chain of aws-cli (botocore's `CredentialResolver`), in its order:
///
/// 1. `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`), unless `--profile` was given;
/// 2. the profile's `role_arn` with `source_profile` or `credential_source` (STS `AssumeRole`, chains
///    of profiles followed, loops refused, `mfa_serial` refused);
/// 3. `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`, or the profile's `web_identity_token_file` +
///    `role_arn` (STS `AssumeRoleWithWebIdentity`);
/// 4. the profile's SSO settings; 5. static keys in the credentials file; 6. `credential_process`;
/// 7. static keys in the config file; 8. container credentials (ECS, EKS Pod Identity); 9. EC2 IMDS.
///
/// Steps 4, 6, 8 and 9 are built in ``CredentialChainSlots``.
struct CredentialChain {
    var profileName: String
    var useEnvironment: Bool
    var environment: [String: String]
    var home: String
    var credentialsFile: ConfigFile?
    var credentialsPath: String
    var configFile: ConfigFile?
    var configPath: String
    var region: String?
    var http: any HTTPTransport
    var makeSTS: @Sendable () -> STSClient

    var context: CredentialChainContext {
        CredentialChainContext(
            profileName: profileName, environment: environment, home: home,
            configFile: configFile, configPath: configPath, region: region, http: http)
    }

    func env(_ name: String) -> String? { context.env(name) }

    func profile(_ name: String) -> ProfileSettings {
        let credentialsSection = credentialsFile?.section(named: name)
        let configSection = configFile?.configProfile(named: name)
        var settings = ProfileSettings(name: name, exists: credentialsSection != nil || configSection != nil)
        for (section, file) in [(configSection, configPath), (credentialsSection, credentialsPath)] {
            for (key, value) in section?.values ?? [:] {
                if let text = value.string, !text.isEmpty { settings.values[key] = (text, file) }
            }
        }
        return settings
    }

    func resolve() throws(AWSConfigurationError) -> any CredentialProvider {
        var searched: [String] = []

        // 1. Environment keys.
        if useEnvironment {
            let id = env("AWS_ACCESS_KEY_ID"), secret = env("AWS_SECRET_ACCESS_KEY")
            switch (id, secret) {
            case let (id?, secret?):
                return StaticCredentialProvider(
                    Credentials(accessKeyId: id, secretAccessKey: secret, sessionToken: env("AWS_SESSION_TOKEN") ?? env("AWS_SECURITY_TOKEN")),
                    source: "environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
            case (_?, nil): throw .incompleteEnvironment(missing: "AWS_SECRET_ACCESS_KEY")
            case (nil, _?): throw .incompleteEnvironment(missing: "AWS_ACCESS_KEY_ID")
            case (nil, nil): searched.append("environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (not set)")
            }
        } else {
            searched.append("environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (skipped because --profile was given)")
        }

        let settings = profile(profileName)

        // 2. Assume role from a source profile or credential source.
        if settings["role_arn"] != nil,
            settings["web_identity_token_file"] == nil || settings["source_profile"] != nil
                || settings["credential_source"] != nil
        {
            return try assumeRole(settings, visited: [])
        }

        // 3. Web identity: the environment's, then the profile's.
        if let tokenFile = env("AWS_WEB_IDENTITY_TOKEN_FILE") {
            guard let roleArn = env("AWS_ROLE_ARN") else { throw .webIdentityWithoutRole(tokenFileSource: "AWS_WEB_IDENTITY_TOKEN_FILE") }
            return WebIdentityCredentialProvider(
                roleArn: roleArn, tokenFile: expand(tokenFile), sessionName: env("AWS_ROLE_SESSION_NAME"),
                sts: makeSTS(), origin: "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN")
        }
        if let provider = try webIdentity(settings) { return provider }

        // 4. SSO.
        if settings["sso_session"] != nil || settings["sso_start_url"] != nil {
            if let provider = try CredentialChainSlots.sso(settings, context) { return provider }
            let key = settings["sso_session"] != nil ? "sso_session" : "sso_start_url"
            throw .unsupportedCredentialSource(profile: settings.name, file: settings.file(of: key), setting: key)
        }

        // 5. Static keys in the credentials file.
        let credentialsSection = credentialsFile?.section(named: profileName)
        if let found = try staticKeys(credentialsSection, file: credentialsPath, profile: profileName) {
            return StaticCredentialProvider(found, source: "profile \"\(profileName)\" in \(credentialsPath)")
        }
        searched.append(
            "profile \"\(profileName)\" in \(credentialsPath)"
                + (credentialsFile != nil ? (credentialsSection == nil ? " (no such profile)" : " (no keys)") : " (file not found)"))

        // 6. credential_process.
        if let command = settings["credential_process"] {
            if let provider = try CredentialChainSlots.process(command: command, settings, context) { return provider }
            throw .unsupportedCredentialSource(profile: profileName, file: settings.file(of: "credential_process"), setting: "credential_process")
        }

        // 7. Static keys in the config file.
        let configSection = configFile?.configProfile(named: profileName)
        if let found = try staticKeys(configSection, file: configPath, profile: profileName) {
            return StaticCredentialProvider(found, source: "profile \"\(profileName)\" in \(configPath)")
        }
        searched.append(
            "profile \"\(profileName)\" in \(configPath)"
                + (configFile != nil ? (configSection == nil ? " (no such profile)" : " (no keys)") : " (file not found)"))

        // 8. Container credentials (ECS, EKS Pod Identity).
        if let provider = try CredentialChainSlots.container(context) { return provider }
        // 9. The EC2 instance metadata service: the last link, tried when the first request is signed.
        // Off EC2 it answers nothing useful; that is then "no credentials found", as before.
        if let provider = try CredentialChainSlots.instanceMetadata(context) {
            return LastLinkInstanceMetadata(provider: provider, searched: searched)
        }

        throw .noCredentials(searched: searched)
    }

    func expand(_ path: String) -> String {
        if path == "~" { return home }
        if path.hasPrefix("~/") { return home + path.dropFirst(1) }
        return path
    }

    /// The profile's `web_identity_token_file` with its `role_arn`, if set.
    func webIdentity(_ settings: ProfileSettings) throws(AWSConfigurationError) -> (any CredentialProvider)? {
        guard let tokenFile = settings["web_identity_token_file"] else { return nil }
        guard let roleArn = settings["role_arn"] else {
            throw .invalidRoleProfile(
                profile: settings.name, file: settings.file(of: "web_identity_token_file"),
                reason: "it sets web_identity_token_file but no role_arn")
        }
        return WebIdentityCredentialProvider(
            roleArn: roleArn, tokenFile: expand(tokenFile), sessionName: settings["role_session_name"],
            durationSeconds: try duration(settings), sts: makeSTS(),
            origin: "web_identity_token_file of profile \"\(settings.name)\"")
    }

    func duration(_ settings: ProfileSettings) throws(AWSConfigurationError) -> Int? {
        guard let text = settings["duration_seconds"] else { return nil }
        guard let seconds = Int(text), (900...43_200).contains(seconds) else {
            throw .invalidRoleProfile(
                profile: settings.name, file: settings.file(of: "duration_seconds"),
                reason: "duration_seconds = \(text) is not a number of seconds between 900 and 43200")
        }
        return seconds
    }

    /// `role_arn` with `source_profile` (followed through chains of profiles) or `credential_source`.
    func assumeRole(_ settings: ProfileSettings, visited: [String]) throws(AWSConfigurationError) -> any CredentialProvider {
        let name = settings.name
        let file = settings.file(of: "role_arn")
        guard let roleArn = settings["role_arn"] else {
            throw .invalidRoleProfile(profile: name, file: file, reason: "it has no role_arn")
        }
        if settings["mfa_serial"] != nil {
            throw .mfaRequired(profile: name, file: settings.file(of: "mfa_serial"))
        }
        let sourceProfile = settings["source_profile"], credentialSource = settings["credential_source"]
        let source: any CredentialProvider
        switch (sourceProfile, credentialSource) {
        case (_?, _?):
            throw .invalidRoleProfile(profile: name, file: file, reason: "it sets both source_profile and credential_source; keep one")
        case (nil, nil):
            throw .invalidRoleProfile(
                profile: name, file: file,
                reason: "it sets role_arn but neither source_profile nor credential_source, so there are no credentials to assume the role with")
        case (nil, let kind?):
            source = try credentialSourceProvider(kind, profile: name, file: settings.file(of: "credential_source"))
        case (let sourceName?, nil):
            let chain = visited + [name]
            if chain.contains(sourceName) && sourceName != name {
                throw .roleChainLoop(profiles: chain + [sourceName])
            }
            let sourceSettings = sourceName == name ? settings : profile(sourceName)
            guard sourceSettings.exists else {
                throw .invalidRoleProfile(
                    profile: name, file: settings.file(of: "source_profile"),
                    reason: "its source_profile \"\(sourceName)\" does not exist")
            }
            source = try sourceProfileProvider(sourceSettings, referencedBy: name, visited: chain)
        }
        return AssumeRoleCredentialProvider(
            roleArn: roleArn, sessionName: settings["role_session_name"], externalId: settings["external_id"],
            durationSeconds: try duration(settings), sourceCredentials: source, sts: makeSTS(), profile: name)
    }

    /// The credentials of a `source_profile`, as botocore resolves them: its own role (a chain), a web
    /// identity, SSO, `credential_process`, else its static keys. A profile naming itself uses its keys.
    func sourceProfileProvider(
        _ settings: ProfileSettings, referencedBy: String,
        visited: [String]
    ) throws(AWSConfigurationError) -> any CredentialProvider {
        let name = settings.name
        let selfReference = name == referencedBy
        if !selfReference, settings["role_arn"] != nil,
            settings["source_profile"] != nil || settings["credential_source"] != nil
        {
            return try assumeRole(settings, visited: visited)
        }
        if !selfReference, let provider = try webIdentity(settings) { return provider }
        if settings["sso_session"] != nil || settings["sso_start_url"] != nil {
            if let provider = try CredentialChainSlots.sso(settings, context) { return provider }
            let key = settings["sso_session"] != nil ? "sso_session" : "sso_start_url"
            throw .unsupportedCredentialSource(profile: name, file: settings.file(of: key), setting: key)
        }
        if let command = settings["credential_process"] {
            if let provider = try CredentialChainSlots.process(command: command, settings, context) { return provider }
            throw .unsupportedCredentialSource(profile: name, file: settings.file(of: "credential_process"), setting: "credential_process")
        }
        for (section, file) in [(credentialsFile?.section(named: name), credentialsPath), (configFile?.configProfile(named: name), configPath)] {
            if let keys = try staticKeys(section, file: file, profile: name) {
                return StaticCredentialProvider(keys, source: "profile \"\(name)\" in \(file)")
            }
        }
        throw .invalidRoleProfile(
            profile: referencedBy, file: settings.file(of: "source_profile").isEmpty ? configPath : settings.file(of: "source_profile"),
            reason: "its source_profile \"\(name)\" has no credentials (no keys, role, web identity, SSO or credential_process)")
    }

    /// `credential_source = Environment | Ec2InstanceMetadata | EcsContainer`.
    func credentialSourceProvider(_ kind: String, profile: String, file: String) throws(AWSConfigurationError) -> any CredentialProvider {
        switch kind {
        case "Environment":
            guard let id = env("AWS_ACCESS_KEY_ID"), let secret = env("AWS_SECRET_ACCESS_KEY") else {
                throw .invalidRoleProfile(
                    profile: profile, file: file,
                    reason: "credential_source = Environment but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set")
            }
            return StaticCredentialProvider(
                Credentials(accessKeyId: id, secretAccessKey: secret, sessionToken: env("AWS_SESSION_TOKEN") ?? env("AWS_SECURITY_TOKEN")),
                source: "environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        case "EcsContainer":
            if let provider = try CredentialChainSlots.container(context) { return provider }
            throw .credentialSourceUnavailable(profile: profile, file: file, source: kind)
        case "Ec2InstanceMetadata":
            if let provider = try CredentialChainSlots.instanceMetadata(context) { return provider }
            throw .credentialSourceUnavailable(profile: profile, file: file, source: kind)
        default:
            throw .invalidRoleProfile(
                profile: profile, file: file,
                reason: "credential_source = \(kind) is not one of Environment, Ec2InstanceMetadata, EcsContainer")
        }
    }

    func staticKeys(_ section: ConfigFile.Section?, file: String, profile: String) throws(AWSConfigurationError) -> Credentials? {
        guard let section else { return nil }
        func value(_ key: String) -> String? {
            guard let v = section.values[key]?.string, !v.isEmpty else { return nil }
            return v
        }
        switch (value("aws_access_key_id"), value("aws_secret_access_key")) {
        case let (id?, secret?):
            return Credentials(
                accessKeyId: id, secretAccessKey: secret,
                sessionToken: value("aws_session_token") ?? value("aws_security_token"))
        case (_?, nil): throw .incompleteProfile(profile: profile, file: file, missing: "aws_secret_access_key")
        case (nil, _?): throw .incompleteProfile(profile: profile, file: file, missing: "aws_access_key_id")
        case (nil, nil): return nil
        }
    }
}

/// A libcurl transport created on first use, so resolving static keys starts no HTTP machinery.
final class LazyCurlTransport: HTTPTransport, Sendable {
    private let transport = Mutex<CurlTransport?>(nil)
    init() {}
    func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse {
        let curl = transport.withLock { t in
            if let t { return t }
            var configuration = CurlTransportConfiguration()
            // Credential endpoints answer fast or not at all: do not hold an operator up.
            configuration.connectTimeout = .seconds(2)
            configuration.requestTimeout = .seconds(10)
            let made = CurlTransport(configuration: configuration)
            t = made
            return made
        }
        return try await curl.send(request)
    }
    deinit { transport.withLock { $0?.shutdown() } }
}

/// The instance metadata service as the chain's last link: its credentials when it has them; when it has
/// none, the chain's own "No AWS credentials found" listing every place searched, the metadata service
/// included with what it answered.
struct LastLinkInstanceMetadata: CredentialProvider {
    let provider: any CredentialProvider
    let searched: [String]
    var source: String { provider.source }

    func fetch() async throws -> ExpiringCredentials {
        do {
            return try await provider.fetch()
        } catch let error as CredentialProviderError {
            let listing = AWSConfigurationError.noCredentials(searched: searched + ["\(error.source) (\(error.reason))"])
            throw CredentialProviderError(source: error.source, reason: listing.description, nothingConfigured: true)
        }
    }
}
