import CurlTransport
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
    ///   - http: what providers that fetch credentials (STS, SSO, containers, IMDS) send their requests
    ///     over; by default one libcurl transport, created when first used.
    ///
    /// Credentials are only located here, not fetched: a provider that needs the network (an assumed
    /// role, a web identity, ...) is asked at the first request, through ``RefreshingCredentials``.
    public static func resolve(
        profile: String?, region: String?, endpointURL: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        http: (any HTTPTransport)? = nil
    ) throws(AWSConfigurationError) -> AWSConfiguration {
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

        // Region (checked after the credentials, whose errors come first as they always have).
        let regionCandidate: (value: String, source: String)? =
            region.flatMap { $0.isEmpty ? nil : ($0, "--region") }
            ?? env("AWS_REGION").map { ($0, "AWS_REGION") }
            ?? env("AWS_DEFAULT_REGION").map { ($0, "AWS_DEFAULT_REGION") }
            ?? setting("region")

        let ignoreConfigured =
            env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")?.lowercased() == "true"
            || setting("ignore_configured_endpoint_urls")?.value.lowercased() == "true"
        let stsRegion = regionCandidate?.value ?? "us-east-1"
        let configuredSTS: (value: String, source: String)? =
            ignoreConfigured
            ? nil
            : servicesEndpoint(configFile: configFile, servicesName: configSection?.values["services"]?.string, service: "sts")
                .map { ($0, "the sts endpoint_url of the profile's services section in \(configPath)") }
                ?? setting("endpoint_url")
        var stsEnvironment = environment
        if ignoreConfigured { stsEnvironment["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true" }
        let sts = STSClient.endpoint(
            region: stsRegion, environment: stsEnvironment, configured: configuredSTS,
            regionalSetting: setting("sts_regional_endpoints"))
        let transport = http ?? LazyCurlTransport()

        let chain = CredentialChain(
            profileName: profileName, useEnvironment: profileFlag == nil, environment: environment, home: home,
            credentialsFile: credentialsFile, credentialsPath: credentialsPath,
            configFile: configFile, configPath: configPath,
            region: regionCandidate?.value, http: transport,
            makeSTS: { STSClient(endpoint: sts.url, region: stsRegion, http: transport) })
        let credentials = try chain.resolve()

        // The instance metadata service's region, only when nothing else gives one (as the SDKs do on EC2).
        guard
            let (regionValue, regionSource) = regionCandidate
                ?? CredentialChainSlots.instanceMetadataRegion(chain.context).map({ ($0, "EC2 instance metadata") })
        else { throw .noRegion }
        guard !regionValue.isEmpty,
            regionValue.utf8.allSatisfy({ b in
                (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x2D || (b >= 0x41 && b <= 0x5A)
            })
        else { throw .invalidRegion(regionValue, source: regionSource) }

        /// aws-cli's one rule for a service's configured endpoint: `AWS_ENDPOINT_URL_<SERVICE>`,
        /// `AWS_ENDPOINT_URL`, the service's `endpoint_url` in the profile's services section, the
        /// profile's `endpoint_url`; nothing when configured endpoints are ignored.
        func configuredEndpoint(_ service: String, environmentSuffix: String) -> (value: String, source: String)? {
            guard !ignoreConfigured else { return nil }
            return env("AWS_ENDPOINT_URL_\(environmentSuffix)").map({ ($0, "AWS_ENDPOINT_URL_\(environmentSuffix)") })
                ?? env("AWS_ENDPOINT_URL").map({ ($0, "AWS_ENDPOINT_URL") })
                ?? servicesEndpoint(configFile: configFile, servicesName: configSection?.values["services"]?.string, service: service)
                .map({ ($0, "the \(service) endpoint_url of the profile's services section in \(configPath)") })
                ?? setting("endpoint_url")
        }

        // Endpoint.
        var endpoint: String
        var endpointSource: String
        if let flag = endpointURL?.trimmingCharacters(in: .whitespacesAndNewlines), !flag.isEmpty {
            endpoint = flag
            endpointSource = "--endpoint-url"
        } else if let (value, source) = configuredEndpoint("dynamodb", environmentSuffix: "DYNAMODB") {
            endpoint = value
            endpointSource = source
        } else {
            endpointSource = "regional endpoint for \(regionValue)"
            endpoint =
                regionValue.hasPrefix("cn-")
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

        var configuration = AWSConfiguration(
            credentialProvider: credentials, region: regionValue, endpoint: endpoint,
            profile: credentialsSection != nil || configSection != nil ? profileName : nil,
            regionSource: regionSource, endpointSource: endpointSource,
            stsEndpoint: sts.url, stsEndpointSource: sts.source)
        // S3 by the same rule (`--endpoint-url` names the DynamoDB endpoint only, so it does not apply).
        if let (value, source) = configuredEndpoint("s3", environmentSuffix: "S3") {
            guard let components = URLComponents(string: value),
                let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
                let host = components.host, !host.isEmpty, components.user == nil, components.password == nil
            else { throw .invalidEndpoint(value) }
            configuration.s3Endpoint = AWSConfiguration.normalizedEndpoint(value)
            configuration.s3EndpointSource = source
        }
        return configuration
    }

    /// `[services NAME]` with `dynamodb =` / `  endpoint_url = URL` (aws-cli's service-specific endpoints).
    private static func servicesEndpoint(configFile: ConfigFile?, servicesName: String?, service: String) -> String? {
        guard let configFile, let servicesName, !servicesName.isEmpty else { return nil }
        let section = configFile.sections.last {
            guard $0.name.hasPrefix("services") else { return false }
            return $0.name.dropFirst("services".count).trimmingCharacters(in: .whitespaces) == servicesName
        }
        guard case .nested(let settings)? = section?.values[service],
            let url = settings["endpoint_url"], !url.isEmpty
        else { return nil }
        return url
    }
}
