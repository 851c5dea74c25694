// Credential, region and endpoint resolution in aws-cli's order, and its error messages.
import AWSAuth
import Foundation
import Testing

/// A temporary HOME with optional ~/.aws/credentials and ~/.aws/config.
final class AWSHome {
    let home: URL
    var credentialsPath: String { home.appendingPathComponent(".aws/credentials").path }
    var configPath: String { home.appendingPathComponent(".aws/config").path }

    init(credentials: String? = nil, config: String? = nil) throws {
        home = FileManager.default.temporaryDirectory.appendingPathComponent("awsauth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home.appendingPathComponent(".aws"), withIntermediateDirectories: true)
        if let credentials { try write(credentials, to: credentialsPath) }
        if let config { try write(config, to: configPath) }
    }

    func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// HOME plus the given variables. The instance metadata service is off unless a test turns it on:
    /// these are a laptop's files, and the chain's last link would otherwise stand in for "no credentials".
    func env(_ extra: [String: String] = [:]) -> [String: String] {
        extra.merging(["HOME": home.path, "AWS_EC2_METADATA_DISABLED": "true"]) { a, _ in a }
    }

    func resolve(
        profile: String? = nil, region: String? = nil, endpointURL: String? = nil,
        _ extra: [String: String] = [:]
    ) throws(AWSConfigurationError) -> AWSConfiguration {
        try AWSConfigurationResolver.resolve(profile: profile, region: region, endpointURL: endpointURL, environment: env(extra))
    }

    func error(
        profile: String? = nil, region: String? = nil, endpointURL: String? = nil,
        _ extra: [String: String] = [:]
    ) -> AWSConfigurationError? {
        do {
            _ = try resolve(profile: profile, region: region, endpointURL: endpointURL, extra)
            return nil
        } catch {
            return error
        }
    }

    deinit { try? FileManager.default.removeItem(at: home) }
}

@Suite struct ConfigurationResolverTests {
    static let envKeys = ["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "env-secret"]
    static let standardFiles = (
        credentials: """
        [default]
        aws_access_key_id = AKIADEFAULT
        aws_secret_access_key = default-secret

        [prod]
        aws_access_key_id = AKIAPROD
        aws_secret_access_key = prod-secret
        aws_session_token = prod-token
        """,
        config: """
        [default]
        region = eu-west-1

        [profile prod]
        region = us-west-2
        """
    )

    // MARK: Credentials

    @Test("Environment keys win over the default profile and over AWS_PROFILE")
    func environmentCredentials() throws {
        let home = try AWSHome(credentials: Self.standardFiles.credentials, config: Self.standardFiles.config)
        let config = try home.resolve(Self.envKeys.merging(["AWS_SESSION_TOKEN": "env-token"]) { a, _ in a })
        #expect(
            config
                == AWSConfiguration(
                    credentials: Credentials(accessKeyId: "AKIAENV", secretAccessKey: "env-secret", sessionToken: "env-token"),
                    region: "eu-west-1", endpoint: "https://dynamodb.eu-west-1.amazonaws.com", profile: "default"))
        let withProfileVariable = try home.resolve(Self.envKeys.merging(["AWS_PROFILE": "prod"]) { a, _ in a })
        #expect(withProfileVariable.staticCredentials == Credentials(accessKeyId: "AKIAENV", secretAccessKey: "env-secret"))
        #expect(withProfileVariable.region == "us-west-2")
        #expect(withProfileVariable.profile == "prod")
    }

    @Test("An explicit --profile ignores the environment keys, as aws-cli does")
    func explicitProfileIgnoresEnvironment() throws {
        let home = try AWSHome(credentials: Self.standardFiles.credentials, config: Self.standardFiles.config)
        let config = try home.resolve(profile: "prod", Self.envKeys)
        #expect(
            config
                == AWSConfiguration(
                    credentials: Credentials(accessKeyId: "AKIAPROD", secretAccessKey: "prod-secret", sessionToken: "prod-token"),
                    region: "us-west-2", endpoint: "https://dynamodb.us-west-2.amazonaws.com", profile: "prod"))
    }

    @Test("Without environment keys: the default profile from the credentials file")
    func defaultProfile() throws {
        let home = try AWSHome(credentials: Self.standardFiles.credentials, config: Self.standardFiles.config)
        #expect(try home.resolve().staticCredentials == Credentials(accessKeyId: "AKIADEFAULT", secretAccessKey: "default-secret"))
    }

    @Test("The credentials file wins over keys in the config file; the config file is used when it has them")
    func credentialsFileThenConfigFile() throws {
        let config = """
            [profile both]
            aws_access_key_id = AKIACONFIG
            aws_secret_access_key = config-secret
            region = ap-south-1
            [profile onlyconfig]
            aws_access_key_id = AKIAONLYCONFIG
            aws_secret_access_key = onlyconfig-secret
            aws_session_token = onlyconfig-token
            region = ap-south-1
            """
        let home = try AWSHome(credentials: "[both]\naws_access_key_id = AKIACREDS\naws_secret_access_key = creds-secret\n", config: config)
        #expect(try home.resolve(profile: "both").staticCredentials == Credentials(accessKeyId: "AKIACREDS", secretAccessKey: "creds-secret"))
        #expect(
            try home.resolve(profile: "onlyconfig").staticCredentials
                == Credentials(accessKeyId: "AKIAONLYCONFIG", secretAccessKey: "onlyconfig-secret", sessionToken: "onlyconfig-token"))
    }

    @Test("AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE move the files; ~ means HOME")
    func fileLocationsFromEnvironment() throws {
        let home = try AWSHome()
        try FileManager.default.createDirectory(at: home.home.appendingPathComponent("elsewhere"), withIntermediateDirectories: true)
        try home.write("[x]\naws_access_key_id=AKIAX\naws_secret_access_key=x-secret\n", to: home.home.appendingPathComponent("elsewhere/creds").path)
        try home.write("[profile x]\nregion=eu-north-1\n", to: home.home.appendingPathComponent("elsewhere/conf").path)
        let config = try home.resolve(
            profile: "x",
            [
                "AWS_SHARED_CREDENTIALS_FILE": "~/elsewhere/creds",
                "AWS_CONFIG_FILE": home.home.appendingPathComponent("elsewhere/conf").path,
            ])
        #expect(config.staticCredentials == Credentials(accessKeyId: "AKIAX", secretAccessKey: "x-secret"))
        #expect(config.region == "eu-north-1")
    }

    @Test("INI details: comments, blank lines, indentation, key case, ':' delimiter, CRLF, BOM, [profile default]")
    func iniDetails() throws {
        let credentials =
            "\u{FEFF}# leading comment\r\n; another\r\n\r\n[ default ]\r\n  AWS_Access_Key_ID: AKIACASE\r\n\tAws_Secret_Access_Key   =   case-secret  \r\n"
        let config = """
            [profile default]
            # region = wrong
            Region = sa-east-1
            """
        let home = try AWSHome(credentials: credentials, config: config)
        let resolved = try home.resolve()
        #expect(resolved.staticCredentials == Credentials(accessKeyId: "AKIACASE", secretAccessKey: "case-secret"))
        #expect(resolved.region == "sa-east-1")
    }

    @Test("Nested sections do not leak their keys into the profile")
    func nestedSections() throws {
        let config = """
            [default]
            s3 =
              region = nested-region-must-not-be-used
              endpoint_url = http://nested.invalid
            region = eu-west-3
            """
        let home = try AWSHome(credentials: Self.standardFiles.credentials, config: config)
        let resolved = try home.resolve()
        #expect(resolved.region == "eu-west-3")
        #expect(resolved.endpoint == "https://dynamodb.eu-west-3.amazonaws.com")
    }

    // MARK: Region

    @Test("Region order: --region, AWS_REGION, AWS_DEFAULT_REGION, profile (credentials file over config)")
    func regionOrder() throws {
        let home = try AWSHome(credentials: Self.standardFiles.credentials, config: Self.standardFiles.config)
        let all = ["AWS_REGION": "us-east-2", "AWS_DEFAULT_REGION": "ca-central-1"]
        #expect(try home.resolve(region: "ap-northeast-1", all).region == "ap-northeast-1")
        #expect(try home.resolve(all).region == "us-east-2")
        #expect(try home.resolve(["AWS_DEFAULT_REGION": "ca-central-1"]).region == "ca-central-1")
        #expect(try home.resolve().region == "eu-west-1")
        let credsRegion = try AWSHome(
            credentials: "[default]\naws_access_key_id=A\naws_secret_access_key=B\nregion=il-central-1\n",
            config: "[default]\nregion=eu-west-1\n")
        #expect(try credsRegion.resolve().region == "il-central-1")
    }

    // MARK: Endpoint

    @Test("Endpoint order: flag, AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL, services section, profile endpoint_url, default")
    func endpointOrder() throws {
        let config = """
            [default]
            region = eu-west-1
            endpoint_url = http://profile-endpoint:1
            services = local

            [services local]
            dynamodb =
              endpoint_url = http://services-endpoint:2
            """
        let home = try AWSHome(credentials: Self.standardFiles.credentials, config: config)
        let env = ["AWS_ENDPOINT_URL_DYNAMODB": "http://service-env:3", "AWS_ENDPOINT_URL": "http://global-env:4"]
        #expect(try home.resolve(endpointURL: "http://127.0.0.1:5000", env).endpoint == "http://127.0.0.1:5000")
        #expect(try home.resolve(env).endpoint == "http://service-env:3")
        #expect(try home.resolve(["AWS_ENDPOINT_URL": "http://global-env:4"]).endpoint == "http://global-env:4")
        #expect(try home.resolve().endpoint == "http://services-endpoint:2")
        #expect(
            try home.resolve(["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"].merging(env) { a, _ in a }).endpoint
                == "https://dynamodb.eu-west-1.amazonaws.com")

        let profileOnly = try AWSHome(
            credentials: Self.standardFiles.credentials,
            config: "[default]\nregion = eu-west-1\nendpoint_url = http://profile-endpoint:1\n")
        #expect(try profileOnly.resolve().endpoint == "http://profile-endpoint:1")
    }

    @Test("Default endpoints, including the China partition")
    func defaultEndpoints() throws {
        let home = try AWSHome(credentials: Self.standardFiles.credentials)
        #expect(try home.resolve(region: "us-east-1").endpoint == "https://dynamodb.us-east-1.amazonaws.com")
        #expect(try home.resolve(region: "cn-north-1").endpoint == "https://dynamodb.cn-north-1.amazonaws.com.cn")
    }

    // MARK: Errors

    @Test("Unknown profile names the profile and both files")
    func unknownProfile() throws {
        let home = try AWSHome(credentials: Self.standardFiles.credentials, config: Self.standardFiles.config)
        let expected = AWSConfigurationError.unknownProfile("staging", files: [home.credentialsPath, home.configPath])
        #expect(home.error(profile: "staging") == expected)
        #expect(home.error(["AWS_PROFILE": "staging"].merging(Self.envKeys) { a, _ in a }) == expected)
        #expect(
            expected.description
                == "The profile \"staging\" was not found in \(home.credentialsPath) or \(home.configPath). Check the spelling of --profile / AWS_PROFILE, or list profiles with `aws configure list-profiles`."
        )
    }

    @Test(
        "Malformed files report path, line and what is wrong",
        arguments: [
            (
                "[default]\naws_access_key_id = A\nthis line has no delimiter\n", 3,
                "expected `[section]`, `name = value` or a comment starting with # or ;"
            ),
            ("# comment\naws_access_key_id = A\n", 2, "a setting comes before any section header such as [default]"),
            ("[default\n", 1, "the section header has no closing `]`"),
            ("[]\n", 1, "the section header `[]` has no name"),
            ("[default]\nregion=a\n\n[default]\n", 4, "the section [default] appears twice (first on line 1)"),
            ("[default]\nregion=a\nREGION=b\n", 3, "\"region\" is set twice in [default]"),
            ("[default]\n = value\n", 2, "a setting has no name before `=`"),
            ("[default]\ns3 =\n  not a nested setting\n", 3, "this indented line belongs to \"s3\" (line 2) but is not `name = value`"),
        ])
    func malformedFile(text: String, line: Int, reason: String) throws {
        let home = try AWSHome(credentials: Self.standardFiles.credentials, config: text)
        #expect(home.error(Self.envKeys) == .malformedFile(path: home.configPath, line: line, reason: reason))
        let inCredentials = try AWSHome(credentials: text)
        #expect(inCredentials.error(region: "eu-west-1") == .malformedFile(path: inCredentials.credentialsPath, line: line, reason: reason))
    }

    @Test("Keys in the environment are used without reading a broken credentials file, as botocore does")
    func environmentKeysIgnoreABrokenCredentialsFile() throws {
        let home = try AWSHome(credentials: "[default\n")
        let resolved = try home.resolve(region: "eu-west-1", Self.envKeys)
        #expect(resolved.staticCredentials == Credentials(accessKeyId: "AKIAENV", secretAccessKey: "env-secret"))
        // Without the environment keys the broken file is what the operator must hear about.
        #expect(home.error(region: "eu-west-1") == .malformedFile(path: home.credentialsPath, line: 1, reason: "the section header has no closing `]`"))
    }

    @Test("An endpoint URL with a password is refused without repeating the password")
    func endpointWithCredentials() throws {
        let home = try AWSHome()
        let error = home.error(region: "eu-west-1", endpointURL: "http://admin:TopSecretPw@127.0.0.1:9", Self.envKeys)
        #expect(error == .endpointWithCredentials("http://127.0.0.1:9"))
        #expect(error?.description.contains("TopSecretPw") == false)
    }

    @Test("A profile with one key but not the other names the missing key and the file")
    func incompleteProfile() throws {
        let home = try AWSHome(
            credentials: "[default]\naws_access_key_id = AKIAHALF\n",
            config: "[profile other]\naws_secret_access_key = half-secret\nregion=eu-west-1\n")
        #expect(home.error(region: "eu-west-1") == .incompleteProfile(profile: "default", file: home.credentialsPath, missing: "aws_secret_access_key"))
        #expect(home.error(profile: "other") == .incompleteProfile(profile: "other", file: home.configPath, missing: "aws_access_key_id"))
        #expect(
            AWSConfigurationError.incompleteProfile(profile: "default", file: "/h/.aws/credentials", missing: "aws_secret_access_key").description
                == "The profile \"default\" in /h/.aws/credentials has no aws_secret_access_key. A profile with static keys needs both aws_access_key_id and aws_secret_access_key."
        )
    }

    @Test("No credentials lists every place searched")
    func noCredentials() throws {
        let home = try AWSHome(config: "[default]\nregion = eu-west-1\n")
        #expect(
            home.error()
                == .noCredentials(searched: [
                    "environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (not set)",
                    "profile \"default\" in \(home.credentialsPath) (file not found)",
                    "profile \"default\" in \(home.configPath) (no keys)",
                ]))
        let withProfile = try AWSHome(credentials: "[other]\naws_access_key_id=A\naws_secret_access_key=B\n", config: "[profile p]\nregion = eu-west-1\n")
        #expect(
            withProfile.error(profile: "p", Self.envKeys)
                == .noCredentials(searched: [
                    "environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (skipped because --profile was given)",
                    "profile \"p\" in \(withProfile.credentialsPath) (no such profile)",
                    "profile \"p\" in \(withProfile.configPath) (no keys)",
                ]))
        #expect(
            AWSConfigurationError.noCredentials(searched: ["a", "b"]).description == """
                No AWS credentials found. Looked in:
                  - a
                  - b
                Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, run `aws configure`, or pass --profile NAME \
                (an SSO profile needs `aws sso login --profile NAME` first). `dynamo-migrate whoami` shows what is used.
                """)
    }

    @Test("No region anywhere")
    func noRegion() throws {
        let home = try AWSHome(credentials: Self.standardFiles.credentials)
        #expect(home.error() == .noRegion)
        #expect(AWSConfigurationError.noRegion.description.contains("--region"))
        #expect(AWSConfigurationError.noRegion.description.contains("AWS_REGION"))
    }

    @Test("Invalid endpoints are rejected", arguments: ["ftp://example.com", "localhost:8000", "http://", "not a url", "https:///path"])
    func invalidEndpoint(endpoint: String) throws {
        let home = try AWSHome(credentials: Self.standardFiles.credentials, config: Self.standardFiles.config)
        #expect(home.error(endpointURL: endpoint) == .invalidEndpoint(endpoint))
        #expect(home.error(["AWS_ENDPOINT_URL": endpoint]) == .invalidEndpoint(endpoint))
    }

    @Test("Invalid region names say where they came from")
    func invalidRegion() throws {
        let home = try AWSHome(credentials: Self.standardFiles.credentials, config: "[default]\nregion = eu-west-1 # prod\n")
        #expect(home.error() == .invalidRegion("eu-west-1 # prod", source: "\"region\" of profile \"default\" in \(home.configPath)"))
        #expect(home.error(region: "eu west 1") == .invalidRegion("eu west 1", source: "--region"))
    }

    @Test("Half-set environment keys are an error, not a silent fall-back to a profile")
    func incompleteEnvironment() throws {
        let home = try AWSHome(credentials: Self.standardFiles.credentials, config: Self.standardFiles.config)
        #expect(home.error(["AWS_ACCESS_KEY_ID": "AKIAENV"]) == .incompleteEnvironment(missing: "AWS_SECRET_ACCESS_KEY"))
        #expect(home.error(["AWS_SECRET_ACCESS_KEY": "env-secret"]) == .incompleteEnvironment(missing: "AWS_ACCESS_KEY_ID"))
        #expect(
            AWSConfigurationError.incompleteEnvironment(missing: "AWS_SECRET_ACCESS_KEY").description
                == "The environment sets AWS_ACCESS_KEY_ID but not AWS_SECRET_ACCESS_KEY. Set both, or unset AWS_ACCESS_KEY_ID to use a profile.")
    }

    @Test("SSO and credential_process profiles are reported as unsupported until their providers plug in; assume-role profiles resolve")
    func unsupportedSources() throws {
        let config = """
            [profile role]
            role_arn = arn:aws:iam::123456789012:role/admin
            source_profile = default
            region = eu-west-1
            [profile sso]
            sso_session = corp
            region = eu-west-1
            [profile process]
            credential_process = /usr/bin/get-creds
            region = eu-west-1
            """
        let home = try AWSHome(credentials: Self.standardFiles.credentials, config: config)
        let role = try home.resolve(profile: "role")
        #expect(role.credentialProvider is AssumeRoleCredentialProvider)
        #expect(
            role.credentialProvider.source
                == "assume role arn:aws:iam::123456789012:role/admin (profile \"role\") with credentials from profile \"default\" in \(home.credentialsPath)")
        // The SSO provider reads its [sso-session] section (missing here); credential_process resolves.
        #expect(
            home.error(profile: "sso")
                == .credentialProvider(
                    CredentialProviderError(
                        source: "SSO (profile \"sso\" in \(home.configPath))",
                        reason: "sso_session = corp, but \(home.configPath) has no [sso-session corp] section")))
        #expect(try home.resolve(profile: "process").credentialProvider is ProcessCredentialProvider)
    }

    @Test("A config path that is a directory is unreadable")
    func unreadableFile() throws {
        let home = try AWSHome(credentials: Self.standardFiles.credentials)
        try FileManager.default.createDirectory(atPath: home.configPath, withIntermediateDirectories: true)
        #expect(home.error() == .unreadableFile(path: home.configPath, reason: "it is a directory, not a file"))
    }

    // MARK: Secrets

    static let secret = "SeCrEtKeyThatMustNeverBePrinted0123456789"
    static let token = "SeSsIoNtOkEnThatMustNeverBePrinted"

    @Test("No error description, no credentials description or dump shows a secret key or session token")
    func secretsNeverPrinted() throws {
        let s = Self.secret, t = Self.token
        var errors: [AWSConfigurationError] = []
        func collect(_ home: AWSHome, profile: String? = nil, region: String? = nil, endpointURL: String? = nil, _ env: [String: String] = [:]) {
            if let e = home.error(profile: profile, region: region, endpointURL: endpointURL, env) { errors.append(e) }
        }
        let secretEnv = ["AWS_SECRET_ACCESS_KEY": s, "AWS_SESSION_TOKEN": t]
        // A line holding the secret but no `=`: the parse error must not quote it.
        collect(try AWSHome(credentials: "[default]\naws_secret_access_key \(s)\n"), region: "eu-west-1")
        collect(try AWSHome(credentials: "[default]\naws_secret_access_key=\(s)\naws_secret_access_key=\(s)\n"), region: "eu-west-1")
        collect(try AWSHome(credentials: "[default]\ns3 =\n  \(s)\n"), region: "eu-west-1")
        collect(try AWSHome(credentials: "[default]\naws_secret_access_key=\(s)\naws_session_token=\(t)\n"), region: "eu-west-1")
        collect(try AWSHome(credentials: "[default]\naws_access_key_id=A\naws_secret_access_key=\(s)\naws_session_token=\(t)\n"), profile: "missing")
        collect(try AWSHome(credentials: "[default]\naws_access_key_id=A\naws_secret_access_key=\(s)\naws_session_token=\(t)\n"))
        collect(try AWSHome(credentials: "[default]\naws_access_key_id=A\naws_secret_access_key=\(s)\n"), region: "eu-west-1", endpointURL: "ftp://x")
        collect(try AWSHome(credentials: "[default]\naws_access_key_id=A\naws_secret_access_key=\(s)\n"), region: "bad region")
        collect(try AWSHome(config: "[default]\nregion=eu-west-1\n"), secretEnv)
        collect(try AWSHome(config: "[default]\nregion=eu-west-1\ncredential_process = x\naws_secret_access_key=\(s)\n"))
        collect(try AWSHome(config: "[default]\nregion=eu-west-1\n"), profile: "p", secretEnv)
        #expect(errors.count == 10, "the credential_process profile resolves")
        for error in errors {
            for text in [error.description, String(describing: error), String(reflecting: error), "\(error)"] {
                #expect(!text.contains(s) && !text.contains(t), "secret leaked in: \(text)")
            }
        }

        let credentials = Credentials(accessKeyId: "AKIAVISIBLE", secretAccessKey: s, sessionToken: t)
        let configuration = AWSConfiguration(credentials: credentials, region: "eu-west-1", endpoint: "http://x:1", profile: nil)
        let signer = SigV4Signer(credentials: credentials, region: "eu-west-1", service: "dynamodb")
        _ = signer.authorization(for: SigV4SignerTests.dynamoRequest(), date: SigV4SignerTests.date)  // fills the key cache
        var dumps = ["", "", ""]
        dump(credentials, to: &dumps[0])
        dump(configuration, to: &dumps[1])
        dump(signer, to: &dumps[2])
        let texts =
            [
                credentials.description, String(reflecting: credentials), "\(credentials)",
                configuration.description, String(reflecting: configuration),
                String(describing: signer), String(reflecting: signer),
            ] + dumps
        for text in texts {
            #expect(!text.contains(s) && !text.contains(t), "secret leaked in: \(text)")
        }
        #expect(credentials.description == "Credentials(accessKeyId: AKIAVISIBLE, secret: <redacted>, session token: <redacted>)")
        #expect(dumps[0].contains("AKIAVISIBLE"))
    }
}

/// One spelling per endpoint, so records made through one spelling compare equal to another.
@Suite struct EndpointNormalizationTests {
    @Test(
        "Scheme and host lowercased, default port dropped, trailing slashes removed",
        arguments: [
            ("http://h:8000/", "http://h:8000"),
            ("http://h:8000", "http://h:8000"),
            ("HTTP://Local.Host:8000//", "http://local.host:8000"),
            ("http://h:80/", "http://h"),
            ("https://h:443", "https://h"),
            ("https://h:80", "https://h:80"),
            ("http://h:443", "http://h:443"),
            ("https://DynamoDB.EU-West-1.amazonaws.com/", "https://dynamodb.eu-west-1.amazonaws.com"),
            ("  http://127.0.0.1:5000/  ", "http://127.0.0.1:5000"),
            ("http://h:8000/Prefix/", "http://h:8000/Prefix"),
            ("http://[::1]:8000/", "http://[::1]:8000"),
        ])
    func normalized(input: String, expected: String) {
        #expect(AWSConfiguration.normalizedEndpoint(input) == expected)
        #expect(AWSConfiguration.normalizedEndpoint(expected) == expected, "idempotent")
    }

    @Test func everyConfigurationHoldsTheNormalizedForm() throws {
        let credentials = Credentials(accessKeyId: "AKID", secretAccessKey: "secret")
        var configuration = AWSConfiguration(credentials: credentials, region: "us-east-1", endpoint: "HTTP://H:8000/", profile: nil)
        #expect(configuration.endpoint == "http://h:8000")
        configuration.endpoint = "https://Other:443/"
        #expect(configuration.endpoint == "https://other")
        #expect(configuration == AWSConfiguration(credentials: credentials, region: "us-east-1", endpoint: "https://other", profile: nil))
    }

    @Test func theResolverReturnsTheNormalizedForm() throws {
        let resolved = try AWSHome().resolve(
            region: "eu-west-1", endpointURL: "HTTP://LocalHost:8000/",
            ["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret"])
        #expect(resolved.endpoint == "http://localhost:8000")
    }
}
