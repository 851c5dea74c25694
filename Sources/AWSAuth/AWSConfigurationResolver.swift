import Foundation

/// Resolves credentials, region and endpoint from flags, environment and the aws-cli files, in aws-cli's order.
public enum AWSConfigurationResolver {
    /// Resolves credentials, region and endpoint in aws-cli's order.
    /// - Parameters:
    ///   - profile: `--profile`, else `AWS_PROFILE`, else `default`. An explicit `--profile` makes the
    ///     `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` environment variables be ignored, as in aws-cli.
    ///   - region: `--region`, else `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`.
    ///   - endpointURL: `--endpoint-url`, else `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL`, the
    ///     `dynamodb` `endpoint_url` of the profile's `services` section, the profile's `endpoint_url`,
    ///     else `https://dynamodb.<region>.amazonaws.com`.
    ///   - environment: the process environment; `HOME` locates `~/.aws`.
    public static func resolve(profile: String?, region: String?, endpointURL: String?,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws(AWSConfigurationError) -> AWSConfiguration {
        func env(_ name: String) -> String? {
            guard let value = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
            return value
        }
        let profileFlag = profile.flatMap { $0.isEmpty ? nil : $0 }
        let profileFromEnv = env("AWS_PROFILE")
        let profileName = profileFlag ?? profileFromEnv ?? "default"
        let profileIsExplicit = profileFlag != nil || profileFromEnv != nil

        let home = env("HOME") ?? NSHomeDirectory()
        func expand(_ path: String) -> String {
            if path == "~" { return home }
            if path.hasPrefix("~/") { return home + path.dropFirst(1) }
            return path
        }
        let credentialsPath = expand(env("AWS_SHARED_CREDENTIALS_FILE") ?? "~/.aws/credentials")
        let configPath = expand(env("AWS_CONFIG_FILE") ?? "~/.aws/config")

        // With complete keys in the environment (and no --profile), botocore never reads the credentials
        // file, so a broken one must not block; otherwise a broken file is reported up front.
        let environmentHasKeys = profileFlag == nil && env("AWS_ACCESS_KEY_ID") != nil && env("AWS_SECRET_ACCESS_KEY") != nil
        let credentialsFile: ConfigFile?
        if environmentHasKeys {
            credentialsFile = (try? ConfigFile.load(path: credentialsPath)) ?? nil
        } else {
            credentialsFile = try ConfigFile.load(path: credentialsPath)
        }
        let configFile = try ConfigFile.load(path: configPath)
        let credentialsSection = credentialsFile?.section(named: profileName)
        let configSection = configFile?.configProfile(named: profileName)

        if profileIsExplicit && credentialsSection == nil && configSection == nil {
            throw .unknownProfile(profileName, files: [credentialsPath, configPath])
        }

        /// A setting of the profile; the credentials file wins, as botocore merges it over the config file.
        func setting(_ key: String) -> (value: String, source: String)? {
            if let v = credentialsSection?.values[key]?.string, !v.isEmpty {
                return (v, "\"\(key)\" of profile \"\(profileName)\" in \(credentialsPath)")
            }
            if let v = configSection?.values[key]?.string, !v.isEmpty {
                return (v, "\"\(key)\" of profile \"\(profileName)\" in \(configPath)")
            }
            return nil
        }

        let credentials = try resolveCredentials(
            profileName: profileName, useEnvironment: profileFlag == nil, env: env,
            credentialsSection: credentialsSection, credentialsPath: credentialsPath, credentialsFileExists: credentialsFile != nil,
            configSection: configSection, configPath: configPath, configFileExists: configFile != nil)

        // Region.
        let regionCandidate: (value: String, source: String)? =
            region.flatMap { $0.isEmpty ? nil : ($0, "--region") }
            ?? env("AWS_REGION").map { ($0, "AWS_REGION") }
            ?? env("AWS_DEFAULT_REGION").map { ($0, "AWS_DEFAULT_REGION") }
            ?? setting("region")
        guard let (regionValue, regionSource) = regionCandidate else { throw .noRegion }
        guard !regionValue.isEmpty, regionValue.utf8.allSatisfy({ b in
            (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2D || (b >= 0x41 && b <= 0x5A)
        }) else { throw .invalidRegion(regionValue, source: regionSource) }

        // Endpoint.
        let ignoreConfigured = env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")?.lowercased() == "true"
            || setting("ignore_configured_endpoint_urls")?.value.lowercased() == "true"
        var endpoint: String
        if let flag = endpointURL?.trimmingCharacters(in: .whitespacesAndNewlines), !flag.isEmpty {
            endpoint = flag
        } else if !ignoreConfigured, let value = env("AWS_ENDPOINT_URL_DYNAMODB") ?? env("AWS_ENDPOINT_URL")
            ?? servicesEndpoint(configFile: configFile, servicesName: configSection?.values["services"]?.string)
            ?? setting("endpoint_url")?.value {
            endpoint = value
        } else {
            endpoint = regionValue.hasPrefix("cn-")
                ? "https://dynamodb.\(regionValue).amazonaws.com.cn"
                : "https://dynamodb.\(regionValue).amazonaws.com"
        }
        guard let components = URLComponents(string: endpoint),
              let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = components.host, !host.isEmpty
        else { throw .invalidEndpoint(endpoint) }
        // DynamoDB endpoints take no user name or password; one in the URL would end up in messages.
        if components.user != nil || components.password != nil {
            var redacted = components
            redacted.user = nil
            redacted.password = nil
            throw .endpointWithCredentials(redacted.string ?? "(the endpoint)")
        }

        return AWSConfiguration(credentials: credentials, region: regionValue, endpoint: endpoint,
                                profile: credentialsSection != nil || configSection != nil ? profileName : nil)
    }

    /// `[services NAME]` with `dynamodb =` / `  endpoint_url = URL` (aws-cli's service-specific endpoints).
    private static func servicesEndpoint(configFile: ConfigFile?, servicesName: String?) -> String? {
        guard let configFile, let servicesName, !servicesName.isEmpty else { return nil }
        let section = configFile.sections.last {
            guard $0.name.hasPrefix("services") else { return false }
            return $0.name.dropFirst("services".count).trimmingCharacters(in: .whitespaces) == servicesName
        }
        guard case .nested(let settings)? = section?.values["dynamodb"],
              let url = settings["endpoint_url"], !url.isEmpty else { return nil }
        return url
    }

    /// Settings that make aws-cli fetch temporary credentials before it would read static keys.
    private static let unsupportedBeforeStaticKeys = ["role_arn", "web_identity_token_file", "sso_session", "sso_start_url"]

    private static func resolveCredentials(
        profileName: String, useEnvironment: Bool, env: (String) -> String?,
        credentialsSection: ConfigFile.Section?, credentialsPath: String, credentialsFileExists: Bool,
        configSection: ConfigFile.Section?, configPath: String, configFileExists: Bool
    ) throws(AWSConfigurationError) -> Credentials {
        var searched: [String] = []

        if useEnvironment {
            let id = env("AWS_ACCESS_KEY_ID"), secret = env("AWS_SECRET_ACCESS_KEY")
            switch (id, secret) {
            case let (id?, secret?):
                return Credentials(accessKeyId: id, secretAccessKey: secret,
                                   sessionToken: env("AWS_SESSION_TOKEN") ?? env("AWS_SECURITY_TOKEN"))
            case (_?, nil): throw .incompleteEnvironment(missing: "AWS_SECRET_ACCESS_KEY")
            case (nil, _?): throw .incompleteEnvironment(missing: "AWS_ACCESS_KEY_ID")
            case (nil, nil): searched.append("environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (not set)")
            }
        } else {
            searched.append("environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (skipped because --profile was given)")
        }

        if let configSection {
            for key in unsupportedBeforeStaticKeys where configSection.values[key] != nil {
                throw .unsupportedCredentialSource(profile: profileName, file: configPath, setting: key)
            }
        }

        func staticKeys(_ section: ConfigFile.Section?, file: String) throws(AWSConfigurationError) -> Credentials? {
            guard let section else { return nil }
            func value(_ key: String) -> String? {
                guard let v = section.values[key]?.string, !v.isEmpty else { return nil }
                return v
            }
            switch (value("aws_access_key_id"), value("aws_secret_access_key")) {
            case let (id?, secret?):
                return Credentials(accessKeyId: id, secretAccessKey: secret,
                                   sessionToken: value("aws_session_token") ?? value("aws_security_token"))
            case (_?, nil): throw .incompleteProfile(profile: profileName, file: file, missing: "aws_secret_access_key")
            case (nil, _?): throw .incompleteProfile(profile: profileName, file: file, missing: "aws_access_key_id")
            case (nil, nil): return nil
            }
        }

        if let found = try staticKeys(credentialsSection, file: credentialsPath) { return found }
        searched.append("profile \"\(profileName)\" in \(credentialsPath)"
                        + (credentialsFileExists ? (credentialsSection == nil ? " (no such profile)" : " (no keys)") : " (file not found)"))

        for (section, file) in [(credentialsSection, credentialsPath), (configSection, configPath)] {
            if let section, section.values["credential_process"] != nil {
                throw .unsupportedCredentialSource(profile: profileName, file: file, setting: "credential_process")
            }
        }

        if let found = try staticKeys(configSection, file: configPath) { return found }
        searched.append("profile \"\(profileName)\" in \(configPath)"
                        + (configFileExists ? (configSection == nil ? " (no such profile)" : " (no keys)") : " (file not found)"))
        throw .noCredentials(searched: searched)
    }
}
