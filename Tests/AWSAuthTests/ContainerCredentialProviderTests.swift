// Container credentials (ECS, EKS Pod Identity) against a real local HTTP server.
import AWSAuth
import CurlTransport
import Foundation
import Synchronization
import TestSupport
import Testing

@Suite struct ContainerCredentialProviderTests {
    let http = CurlTransport()

    @Test func relativeURIIsFetchedFromTheECSAgent() throws {
        let provider = try #require(
            try ContainerCredentialProvider.fromEnvironment(
                [
                    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc-123",
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9/ignored",
                ], http: http))
        #expect(provider.url == "http://169.254.170.2/v2/credentials/abc-123")
        #expect(provider.authorization == .none)
        #expect(provider.source == "container credentials (http://169.254.170.2/v2/credentials/abc-123)")
        #expect(try ContainerCredentialProvider.fromEnvironment(["HOME": "/tmp"], http: http)?.url == nil)
    }

    /// EKS Pod Identity: a full URI and a token file the agent rotates, so it is read on every fetch.
    @Test func fullURIWithATokenFileRereadOnEveryFetch() async throws {
        let server = try RoutedHTTPServer { request in
            guard request.method == "GET", request.path == "/v1/credentials" else { return .text("no", status: 404) }
            // The current token is the one the test wrote last; the server answers per token.
            switch request.header("Authorization") ?? "" {
            case Planted.authorizationToken + "-1": return .json(Planted.metadataJSON(keyID: "ASIAONE"))
            case Planted.authorizationToken + "-2": return .json(Planted.metadataJSON(keyID: "ASIATWO", expiration: "2026-11-30T11:00:00Z"))
            default: return .json(#"{"message":"bad token"}"#, status: 401)
            }
        }
        defer { server.stop() }
        let tokenFile = TestEnvironment.temporaryDirectory("pod-identity").appendingPathComponent("token").path
        try (Planted.authorizationToken + "-1\n").write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let provider = try #require(
            try ContainerCredentialProvider.fromEnvironment(
                [
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.endpoint + "/v1/credentials",
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile,
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN": "ignored-when-a-file-is-given",
                ], http: http))

        let first = try await provider.fetch()
        expectNoSecrets(String(describing: first))
        expectNoSecrets(provider.source)
        #expect(
            first
                == ExpiringCredentials(
                    credentials: Credentials(accessKeyId: "ASIAONE", secretAccessKey: Planted.secret, sessionToken: Planted.sessionToken),
                    expiration: utc("2026-11-30T10:00:00Z")))
        try (Planted.authorizationToken + "-2").write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let second = try await provider.fetch()
        #expect(second.credentials.accessKeyId == "ASIATWO")
        #expect(second.expiration == utc("2026-11-30T11:00:00Z"))
        #expect(server.requests.map { $0.header("Authorization") } == [Planted.authorizationToken + "-1", Planted.authorizationToken + "-2"])

        try "someone-else".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let error = await providerError { try await provider.fetch() }
        #expect(error?.reason == "the endpoint answered HTTP 401 (bad token)")
        #expect(server.requests.count == 3, "a 4xx answer is not retried")
    }

    @Test func tokenFromTheEnvironment() async throws {
        let server = try RoutedHTTPServer { request in
            request.header("Authorization") == Planted.authorizationToken ? .json(Planted.metadataJSON()) : .text("", status: 403)
        }
        defer { server.stop() }
        let provider = try #require(
            try ContainerCredentialProvider.fromEnvironment(
                [
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.endpoint + "/creds",
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN": Planted.authorizationToken,
                ], http: http))
        #expect(try await provider.fetch().credentials.accessKeyId == "ASIAEXAMPLE")
        expectNoSecrets(provider.source)
    }

    @Test func fullURIHostsAsTheSDKsAllowThem() throws {
        for allowed in [
            "http://127.0.0.1:8080/c", "http://127.1.2.3/c", "http://localhost/c", "http://[::1]:80/c",
            "http://169.254.170.23/v1/credentials", "http://[fd00:ec2::23]/v1/credentials",
            "http://169.254.170.2/c", "https://creds.example.com/c",
        ] {
            #expect(try ContainerCredentialProvider.fromEnvironment(["AWS_CONTAINER_CREDENTIALS_FULL_URI": allowed], http: http)?.url == allowed)
        }
        for (refused, reason) in [
            (
                "http://10.0.0.1/c",
                "the host 10.0.0.1 is neither loopback nor the ECS or EKS Pod Identity agent (169.254.170.2, 169.254.170.23, fd00:ec2::23); use https for any other host"
            ),
            (
                "http://creds.example.com/c",
                "the host creds.example.com is neither loopback nor the ECS or EKS Pod Identity agent (169.254.170.2, 169.254.170.23, fd00:ec2::23); use https for any other host"
            ),
            ("ftp://127.0.0.1/c", "\"ftp://127.0.0.1/c\" must be an http:// or https:// URL"),
            ("not a url", "\"not a url\" is not an http:// or https:// URL with a host"),
        ] {
            #expect(throws: CredentialProviderError(source: "container credentials (AWS_CONTAINER_CREDENTIALS_FULL_URI)", reason: reason)) {
                _ = try ContainerCredentialProvider.fromEnvironment(["AWS_CONTAINER_CREDENTIALS_FULL_URI": refused], http: http)
            }
        }
    }

    @Test func oneRetryAfterAServerError() async throws {
        let calls = Shared(0)
        let server = try RoutedHTTPServer { _ in
            let n = calls.withLock {
                $0 += 1; return $0
            }
            return n == 1 ? .text("starting", status: 503) : .json(Planted.metadataJSON())
        }
        defer { server.stop() }
        let provider = ContainerCredentialProvider(url: server.endpoint + "/c", http: http)
        #expect(try await provider.fetch().credentials.secretAccessKey == Planted.secret)
        #expect(server.requests.count == 2)

        let failing = try RoutedHTTPServer { _ in .json(#"{"message":"agent down"}"#, status: 500) }
        defer { failing.stop() }
        let error = await providerError { try await ContainerCredentialProvider(url: failing.endpoint + "/c", http: http).fetch() }
        #expect(error?.reason == "the endpoint answered HTTP 500 (agent down)")
        #expect(failing.requests.count == 2, "one retry, no more")
    }

    @Test func answersWithoutCredentialsNameWhatIsMissingWithoutTheBody() async throws {
        let server = try RoutedHTTPServer { request in
            switch request.path {
            case "/no-secret": return .json(#"{"AccessKeyId":"ASIA","Token":"\#(Planted.sessionToken)"}"#)
            case "/bad-date": return .json(Planted.metadataJSON(expiration: "tomorrow"))
            default: return .text("<html>\(Planted.secret)</html>")
            }
        }
        defer { server.stop() }
        let cases = [
            ("/no-secret", "the answer has no SecretAccessKey"),
            ("/bad-date", "the answer's Expiration \"tomorrow\" is not an ISO 8601 date"),
            ("/html", "the answer is not a JSON object"),
        ]
        for (path, reason) in cases {
            let error = await providerError { try await ContainerCredentialProvider(url: server.endpoint + path, http: http).fetch() }
            #expect(error?.reason == reason)
        }
    }

    @Test func aTokenWithALineBreakIsRefusedBeforeAnythingIsSent() async throws {
        let server = try RoutedHTTPServer { _ in .json(Planted.metadataJSON()) }
        defer { server.stop() }
        let provider = ContainerCredentialProvider(url: server.endpoint + "/c", authorization: .token("abc\r\nX-Evil: 1"), http: http)
        let error = await providerError { try await provider.fetch() }
        #expect(error?.reason == "the authorization token from AWS_CONTAINER_AUTHORIZATION_TOKEN contains a line break")
        #expect(server.requests.isEmpty)
    }

    @Test func noAgentListening() async throws {
        let provider = ContainerCredentialProvider(url: "http://127.0.0.1:\(try unusedPort())/c", http: http)
        let error = await providerError { try await provider.fetch() }
        #expect(error?.reason.hasPrefix("the endpoint did not answer (could not connect for") == true)
    }
}

/// A TCP port on 127.0.0.1 that nothing listens on: a server started and stopped again.
func unusedPort() throws -> Int {
    let server = try RoutedHTTPServer { _ in .silence }
    server.stop()
    return URLComponents(string: server.endpoint)!.port!
}

@Suite struct CredentialProviderFactoryTests {
    let http = CurlTransport()

    @Test func machineProvidersInBotocoresOrder() throws {
        #expect(
            try CredentialProviderFactory.machineProviders(
                environment: ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/c"], http: http
            ).map(\.source)
                == ["container credentials (http://169.254.170.2/v2/c)", "EC2 instance metadata (http://169.254.169.254)"])
        #expect(try CredentialProviderFactory.machineProviders(environment: ["AWS_EC2_METADATA_DISABLED": "true"], http: http).isEmpty)
    }

    @Test func profileProviders() throws {
        let home = try AWSHome(
            config: """
                [profile both]
                sso_start_url = https://x.awsapps.com/start
                sso_region = us-east-1
                sso_account_id = 1
                sso_role_name = R
                credential_process = /opt/creds
                """)
        let found = try CredentialProviderFactory.profileProviders(profile: "both", environment: home.env(), http: http)
        #expect(found.sso?.source == "SSO (profile \"both\", account 1, role R)")
        #expect(found.process?.command == "/opt/creds")
        let none = try CredentialProviderFactory.profileProviders(profile: "absent", environment: home.env(), http: http)
        #expect(none.sso?.profile == nil)
        #expect(none.process?.profile == nil)
    }
}
