// STS over real HTTP (moto's STS on the local server's port; a canned server for error answers),
// and the credential chain's role profiles, web identity and refusals.
import AWSAuth
import CurlTransport
import Foundation
import TestSupport
import Testing

let sharedHTTP = CurlTransport()
let localSTS = STSClient(endpoint: localEndpoint, region: "us-east-1", http: sharedHTTP)

@Suite struct STSEndpointTests {
    @Test("Regional endpoints by default; legacy mode sends the legacy regions to the global endpoint")
    func endpoints() {
        #expect(STSClient.endpoint(region: "eu-west-1", environment: [:]) == ("https://sts.eu-west-1.amazonaws.com", "regional endpoint for eu-west-1"))
        #expect(STSClient.endpoint(region: "cn-north-1", environment: [:]).url == "https://sts.cn-north-1.amazonaws.com.cn")
        let legacy = ["AWS_STS_REGIONAL_ENDPOINTS": "legacy"]
        #expect(
            STSClient.endpoint(region: "eu-west-1", environment: legacy) == ("https://sts.amazonaws.com", "global endpoint (AWS_STS_REGIONAL_ENDPOINTS=legacy)")
        )
        #expect(STSClient.endpoint(region: "af-south-1", environment: legacy).url == "https://sts.af-south-1.amazonaws.com")
        #expect(STSClient.endpoint(region: "eu-west-1", environment: ["AWS_STS_REGIONAL_ENDPOINTS": "regional"]).url == "https://sts.eu-west-1.amazonaws.com")
        #expect(
            STSClient.endpoint(region: "eu-west-1", environment: [:], regionalSetting: ("legacy", "sts_regional_endpoints")).url == "https://sts.amazonaws.com")
    }

    @Test("AWS_ENDPOINT_URL_STS, then AWS_ENDPOINT_URL, then the profile's; AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ignores them")
    func configuredEndpoints() {
        let both = ["AWS_ENDPOINT_URL_STS": "http://sts.local:1", "AWS_ENDPOINT_URL": "http://all.local:2"]
        #expect(STSClient.endpoint(region: "eu-west-1", environment: both) == ("http://sts.local:1", "AWS_ENDPOINT_URL_STS"))
        #expect(STSClient.endpoint(region: "eu-west-1", environment: ["AWS_ENDPOINT_URL": "http://all.local:2"]) == ("http://all.local:2", "AWS_ENDPOINT_URL"))
        #expect(STSClient.endpoint(region: "eu-west-1", environment: [:], configured: ("http://p:3", "profile")) == ("http://p:3", "profile"))
        #expect(
            STSClient.endpoint(region: "eu-west-1", environment: both.merging(["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"]) { $1 }).url
                == "https://sts.eu-west-1.amazonaws.com")
    }

    @Test("The resolver gives the STS endpoint and its origin")
    func resolverSTSEndpoint() throws {
        let home = try AWSHome(config: "[default]\nregion = eu-west-2\n")
        let keys = ["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s"]
        let plain = try home.resolve(keys)
        #expect(plain.stsEndpoint == "https://sts.eu-west-2.amazonaws.com")
        #expect(plain.regionSource == "\"region\" of profile \"default\" in \(home.configPath)")
        #expect(plain.endpointSource == "regional endpoint for eu-west-2")
        let pointed = try home.resolve(keys.merging(["AWS_ENDPOINT_URL": "http://127.0.0.1:9"]) { $1 })
        #expect(pointed.stsEndpoint == "http://127.0.0.1:9")
        #expect(pointed.stsEndpointSource == "AWS_ENDPOINT_URL")
        #expect(pointed.endpointSource == "AWS_ENDPOINT_URL")
    }

    @Test("STS error answers become typed errors with code, message and request id")
    func errorAnswer() async throws {
        let body = """
            <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>\
            <Code>AccessDenied</Code><Message>User: arn:aws:iam::1:user/x is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::2:role/r &amp; more</Message>\
            </Error><RequestId>req-123</RequestId></ErrorResponse>
            """
        let server = try CannedHTTPServer(textResponses: [
            "HTTP/1.1 403 Forbidden\r\nContent-Type: text/xml\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        ])
        defer { server.stop() }
        let sts = STSClient(endpoint: server.endpoint, region: "us-east-1", http: sharedHTTP)
        await #expect(
            throws: STSError(
                action: "AssumeRole", code: "AccessDenied",
                message: "User: arn:aws:iam::1:user/x is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::2:role/r & more",
                httpStatus: 403, requestId: "req-123", endpoint: server.endpoint)
        ) {
            try await sts.assumeRole(
                roleArn: "arn:aws:iam::2:role/r", sessionName: "s",
                credentials: Credentials(accessKeyId: "AKID", secretAccessKey: "SeCrEt"))
        }
    }

    @Test("Timestamps with and without fractional seconds")
    func timestamps() {
        #expect(STSClient.parseTimestamp("2026-11-30T08:26:05Z") == Date(timeIntervalSince1970: 1_796_027_165))
        #expect(STSClient.parseTimestamp("2026-11-30T08:26:05.127734Z")?.timeIntervalSince1970.rounded(.down) == 1_796_027_165)
        #expect(STSClient.parseTimestamp("2026-11-30T08:26:05.127Z") != nil)
        #expect(STSClient.parseTimestamp("yesterday") == nil)
    }
}

@Suite(needsLocalServer)
struct STSLocalTests {
    @Test("GetCallerIdentity; AssumeRole gives ASIA keys of the role's account, which GetCallerIdentity then reports")
    func assumeRoleAndIdentity() async throws {
        let me = try await localSTS.getCallerIdentity(credentials: testCredentials)
        #expect(me.account == "123456789012")
        let role = try await localSTS.assumeRole(
            roleArn: "arn:aws:iam::111122223333:role/migrator", sessionName: "night-run",
            externalId: "ext-1", durationSeconds: 900, credentials: testCredentials)
        #expect(role.credentials.credentials.accessKeyId.hasPrefix("ASIA"))
        #expect(role.credentials.credentials.sessionToken != nil)
        #expect(role.assumedRoleArn == "arn:aws:sts::111122223333:assumed-role/migrator/night-run")
        let expiresIn = try #require(role.credentials.expiration).timeIntervalSinceNow
        #expect(expiresIn > 800 && expiresIn <= 900)
        let assumed = try await localSTS.getCallerIdentity(credentials: role.credentials.credentials)
        #expect(
            assumed
                == CallerIdentity(
                    account: "111122223333", arn: "arn:aws:sts::111122223333:assumed-role/migrator/night-run",
                    userId: assumed.userId))
        #expect(assumed.userId.hasSuffix(":night-run"))
    }

    @Test("Web identity from AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN; the token file is read at every fetch")
    func webIdentityFromEnvironment() async throws {
        let home = try AWSHome(config: "[default]\nregion = us-east-1\n")
        let tokenFile = home.home.appendingPathComponent("token").path
        try "eyJhbGciOi.token.one".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let configuration = try home.resolve([
            "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_ARN": "arn:aws:iam::444455556666:role/eks-pod",
            "AWS_ROLE_SESSION_NAME": "pod-1", "AWS_ENDPOINT_URL": localEndpoint,
        ])
        let provider = configuration.credentialProvider
        #expect(
            provider.source == "web identity token \(tokenFile) for role arn:aws:iam::444455556666:role/eks-pod (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN)")
        let credentials = try await provider.fetch()
        let identity = try await localSTS.getCallerIdentity(credentials: credentials.credentials)
        #expect(identity.arn == "arn:aws:sts::444455556666:assumed-role/eks-pod/pod-1")
        // The next fetch reads the file again: removed, it fails saying so.
        try FileManager.default.removeItem(atPath: tokenFile)
        await #expect(
            throws: CredentialProviderError(
                source: provider.source,
                reason: "cannot read the token file \(tokenFile): it is missing or not readable")
        ) {
            try await provider.fetch()
        }
    }

    @Test("A chain of three profiles: c's keys assume b's role, which assumes a's role, in a's account")
    func threeProfileChain() async throws {
        let home = try AWSHome(
            credentials: "[c]\naws_access_key_id = AKIDCHAINBASE\naws_secret_access_key = base-secret\n",
            config: """
                [profile a]
                role_arn = arn:aws:iam::222233334444:role/target
                source_profile = b
                role_session_name = final-hop
                external_id = partner-42
                duration_seconds = 1800
                region = us-east-1
                [profile b]
                role_arn = arn:aws:iam::111122223333:role/hop
                source_profile = c
                """)
        let configuration = try home.resolve(profile: "a", ["AWS_ENDPOINT_URL": localEndpoint])
        let credentials = try await configuration.credentialProvider.fetch()
        let expiresIn = try #require(credentials.expiration).timeIntervalSinceNow
        #expect(expiresIn > 1700 && expiresIn <= 1800)
        let identity = try await localSTS.getCallerIdentity(credentials: credentials.credentials)
        #expect(identity.account == "222233334444")
        #expect(identity.arn == "arn:aws:sts::222233334444:assumed-role/target/final-hop")
        #expect(
            configuration.credentialProvider.source
                == "assume role arn:aws:iam::222233334444:role/target (profile \"a\") with credentials from assume role arn:aws:iam::111122223333:role/hop (profile \"b\") with credentials from profile \"c\" in \(home.credentialsPath)"
        )
    }

    @Test("credential_source = Environment assumes the role with the environment's keys")
    func credentialSourceEnvironment() async throws {
        let home = try AWSHome(config: "[profile ops]\nrole_arn = arn:aws:iam::777788889999:role/ops\ncredential_source = Environment\nregion = us-east-1\n")
        let configuration = try home.resolve(
            profile: "ops",
            [
                "AWS_ACCESS_KEY_ID": "AKIDENVSOURCE", "AWS_SECRET_ACCESS_KEY": "s", "AWS_ENDPOINT_URL_STS": localEndpoint,
            ])
        let credentials = try await configuration.credentialProvider.fetch()
        #expect(try await localSTS.getCallerIdentity(credentials: credentials.credentials).account == "777788889999")
        #expect(configuration.stsEndpointSource == "AWS_ENDPOINT_URL_STS")
    }
}

@Suite struct RoleProfileErrorTests {
    @Test("mfa_serial is refused with what to do instead")
    func mfaRefused() throws {
        let home = try AWSHome(
            credentials: "[base]\naws_access_key_id=A\naws_secret_access_key=B\n",
            config: "[profile admin]\nrole_arn = arn:aws:iam::1:role/admin\nsource_profile = base\nmfa_serial = arn:aws:iam::1:mfa/me\nregion = eu-west-1\n")
        let error = home.error(profile: "admin")
        #expect(error == .mfaRequired(profile: "admin", file: home.configPath))
        #expect(
            error?.description
                == "The profile \"admin\" in \(home.configPath) sets mfa_serial: this tool runs unattended and cannot ask for an MFA code. Use a role without an MFA condition for automation, or export temporary keys first: eval \"$(aws configure export-credentials --profile admin --format env)\"."
        )
    }

    @Test("source_profile loops are refused, naming the loop; a profile naming itself uses its own keys")
    func loops() throws {
        let home = try AWSHome(
            credentials: "[self]\naws_access_key_id=A\naws_secret_access_key=B\n",
            config: """
                [profile a]
                role_arn = arn:aws:iam::1:role/a
                source_profile = b
                region = eu-west-1
                [profile b]
                role_arn = arn:aws:iam::1:role/b
                source_profile = c
                [profile c]
                role_arn = arn:aws:iam::1:role/c
                source_profile = a
                [profile self]
                role_arn = arn:aws:iam::1:role/self
                source_profile = self
                region = eu-west-1
                """)
        #expect(home.error(profile: "a") == .roleChainLoop(profiles: ["a", "b", "c", "a"]))
        let selfie = try home.resolve(profile: "self")
        #expect(
            selfie.credentialProvider.source
                == "assume role arn:aws:iam::1:role/self (profile \"self\") with credentials from profile \"self\" in \(home.credentialsPath)")
    }

    @Test(
        "Role profiles that cannot work say why",
        arguments: [
            (
                "role_arn = arn:aws:iam::1:role/r\n",
                "it sets role_arn but neither source_profile nor credential_source, so there are no credentials to assume the role with"
            ),
            ("role_arn = arn:aws:iam::1:role/r\nsource_profile = nobody\n", "its source_profile \"nobody\" does not exist"),
            (
                "role_arn = arn:aws:iam::1:role/r\nsource_profile = empty\n",
                "its source_profile \"empty\" has no credentials (no keys, role, web identity, SSO or credential_process)"
            ),
            (
                "role_arn = arn:aws:iam::1:role/r\ncredential_source = Laptop\n",
                "credential_source = Laptop is not one of Environment, Ec2InstanceMetadata, EcsContainer"
            ),
            (
                "role_arn = arn:aws:iam::1:role/r\ncredential_source = Environment\nsource_profile = empty\n",
                "it sets both source_profile and credential_source; keep one"
            ),
            (
                "role_arn = arn:aws:iam::1:role/r\ncredential_source = Environment\nduration_seconds = 60\n",
                "duration_seconds = 60 is not a number of seconds between 900 and 43200"
            ),
            ("web_identity_token_file = /t\n", "it sets web_identity_token_file but no role_arn"),
        ])
    func invalidRoleProfiles(settings: String, reason: String) throws {
        let home = try AWSHome(config: "[profile p]\n\(settings)region = eu-west-1\n[profile empty]\nregion = eu-west-1\n")
        #expect(
            home.error(profile: "p", ["AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "B"])
                == .invalidRoleProfile(profile: "p", file: home.configPath, reason: reason))
    }

    @Test("credential_source names a provider that is switched off or not configured: it says so")
    func unavailableSources() throws {
        let home = try AWSHome(
            config: "[profile p]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = Ec2InstanceMetadata\nregion = eu-west-1\n"
                + "[profile c]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = EcsContainer\nregion = eu-west-1\n")
        #expect(home.error(profile: "p") == .credentialSourceUnavailable(profile: "p", file: home.configPath, source: "Ec2InstanceMetadata"))
        #expect(home.error(profile: "c") == .credentialSourceUnavailable(profile: "c", file: home.configPath, source: "EcsContainer"))
        #expect(try home.resolve(profile: "p", ["AWS_EC2_METADATA_DISABLED": "false"]).credentialProvider is AssumeRoleCredentialProvider)
    }

    @Test("AWS_WEB_IDENTITY_TOKEN_FILE without AWS_ROLE_ARN is an error")
    func webIdentityWithoutRole() throws {
        let home = try AWSHome(config: "[default]\nregion = eu-west-1\n")
        #expect(home.error(["AWS_WEB_IDENTITY_TOKEN_FILE": "/t"]) == .webIdentityWithoutRole(tokenFileSource: "AWS_WEB_IDENTITY_TOKEN_FILE"))
    }

    @Test("Environment keys still come first, before a role profile")
    func environmentFirst() throws {
        let home = try AWSHome(config: "[default]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = default\nregion = eu-west-1\n")
        let resolved = try home.resolve(["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "s"])
        #expect(resolved.staticCredentials == Credentials(accessKeyId: "AKIAENV", secretAccessKey: "s"))
        #expect(resolved.credentialProvider.source == "environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    }
}
