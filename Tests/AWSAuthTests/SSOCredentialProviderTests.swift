// IAM Identity Center: the cached token in a temporary HOME, the portal a real local HTTP server.
import AWSAuth
import CurlTransport
import Foundation
import TestSupport
import Testing

@Suite struct SSOCredentialProviderTests {
    let http = CurlTransport()
    /// sha1("my-sso") and sha1("https://legacy.awsapps.com/start"), computed outside Swift.
    static let sessionCacheName = "0ad374308c5a4e22f723adf10145eafad7c4031c.json"
    static let legacyCacheName = "79e435d7a515078e81c9dffc35f38d5687ebd3a7.json"
    static let config = """
        [profile dev]
        sso_session = my-sso
        sso_account_id = 111122223333
        sso_role_name = ReadOnly
        region = eu-west-1

        [profile legacy]
        sso_start_url = https://legacy.awsapps.com/start
        sso_region = us-east-1
        sso_account_id = 444455556666
        sso_role_name = Admin

        [profile no-session]
        sso_session = nowhere
        sso_account_id = 1
        sso_role_name = R

        [profile no-role]
        sso_session = my-sso
        sso_account_id = 1

        [sso-session my-sso]
        sso_start_url = https://example.awsapps.com/start
        sso_region = eu-central-1
        """

    /// A portal that wants `Planted.ssoAccessToken` and knows one account and role.
    static func portal() throws -> RoutedHTTPServer {
        try RoutedHTTPServer { request in
            guard request.method == "GET", request.path == "/federation/credentials" else { return .text("", status: 404) }
            guard request.header("x-amz-sso_bearer_token") == Planted.ssoAccessToken else {
                return .json(#"{"message":"Session token not found or invalid"}"#, status: 401)
            }
            let query = request.queryItems
            guard ["111122223333": "ReadOnly", "444455556666": "Admin"][query["account_id"] ?? ""] == query["role_name"] else {
                return .json(#"{"message":"No access"}"#, status: 403)
            }
            return .json(
                #"{"roleCredentials":{"accessKeyId":"ASIASSO\#(query["role_name"]!)","secretAccessKey":"\#(Planted.secret)","sessionToken":"\#(Planted.sessionToken)","expiration":1796029200000}}"#
            )
        }
    }

    func cache(_ home: AWSHome, _ name: String, expiresAt: String, token: String = Planted.ssoAccessToken) throws {
        let dir = home.home.appendingPathComponent(".aws/sso/cache")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try #"{"startUrl":"https://example.awsapps.com/start","region":"eu-central-1","accessToken":"\#(token)","expiresAt":"\#(expiresAt)"}"#
            .write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    @Test func ssoSessionProfile() async throws {
        let portal = try Self.portal()
        defer { portal.stop() }
        let home = try AWSHome(config: Self.config)
        try cache(home, Self.sessionCacheName, expiresAt: "2026-11-30T12:00:00Z")
        let provider = try #require(
            try SSOCredentialProvider.fromConfig(
                profile: "dev", environment: home.env(["AWS_ENDPOINT_URL_SSO": portal.endpoint]), http: http,
                clock: TestClock(date: utc("2026-11-30T09:00:00Z"))))
        #expect(provider.region == "eu-central-1")
        #expect(provider.source == "SSO (profile \"dev\", account 111122223333, role ReadOnly)")
        let fetched = try await provider.fetch()
        expectNoSecrets(String(describing: fetched))
        #expect(
            fetched
                == ExpiringCredentials(
                    credentials: Credentials(accessKeyId: "ASIASSOReadOnly", secretAccessKey: Planted.secret, sessionToken: Planted.sessionToken),
                    expiration: Date(timeIntervalSince1970: 1_796_029_200)))
        #expect(portal.requests.map(\.query) == ["account_id=111122223333&role_name=ReadOnly"])
    }

    @Test func legacyProfileAndTheDefaultPortal() async throws {
        let portal = try Self.portal()
        defer { portal.stop() }
        let home = try AWSHome(config: Self.config)
        try cache(home, Self.legacyCacheName, expiresAt: "2026-11-30T12:00:00UTC")
        let unconfigured = try #require(try SSOCredentialProvider.fromConfig(profile: "legacy", environment: home.env(), http: http))
        #expect(unconfigured.portalEndpoint == "https://portal.sso.us-east-1.amazonaws.com")
        #expect(unconfigured.sessionName == nil)

        let provider = try #require(
            try SSOCredentialProvider.fromConfig(
                profile: "legacy", environment: home.env(["AWS_ENDPOINT_URL_SSO": portal.endpoint]), http: http,
                clock: TestClock(date: utc("2026-11-30T09:00:00Z"))))
        #expect(try await provider.fetch().credentials.accessKeyId == "ASIASSOAdmin")
    }

    @Test func anExpiredOrMissingTokenSaysToLogIn() async throws {
        let portal = try Self.portal()
        defer { portal.stop() }
        let home = try AWSHome(config: Self.config)
        let env = home.env(["AWS_ENDPOINT_URL_SSO": portal.endpoint])
        let provider = try #require(
            try SSOCredentialProvider.fromConfig(
                profile: "dev", environment: env, http: http, clock: TestClock(date: utc("2026-11-30T09:00:00Z"))))

        var error = await providerError { try await provider.fetch() }
        #expect(error?.reason == "there is no cached SSO token (\(home.home.path)/.aws/sso/cache/\(Self.sessionCacheName)): run `aws sso login --profile dev`")

        try cache(home, Self.sessionCacheName, expiresAt: "2026-11-30T08:59:59Z")
        error = await providerError { try await provider.fetch() }
        #expect(
            error?.description
                == "cannot get credentials from SSO (profile \"dev\", account 111122223333, role ReadOnly): the SSO session has expired: run `aws sso login --profile dev` (the cached token expired at 2026-11-30T08:59:59Z)"
        )

        try cache(home, Self.sessionCacheName, expiresAt: "2026-11-30T12:00:00Z", token: "revoked-token")
        error = await providerError { try await provider.fetch() }
        #expect(
            error?.reason
                == "the SSO portal refused the cached token (HTTP 401 (Session token not found or invalid)): the SSO session has expired or was revoked: run `aws sso login --profile dev`"
        )
        #expect(portal.requests.count == 1, "nothing is sent with a missing or expired token; a 401 is not retried")
    }

    @Test func incompleteSettings() throws {
        let home = try AWSHome(config: Self.config)
        let source = "SSO (profile \"no-session\" in \(home.configPath))"
        #expect(throws: CredentialProviderError(source: source, reason: "sso_session = nowhere, but \(home.configPath) has no [sso-session nowhere] section")) {
            _ = try SSOCredentialProvider.fromConfig(profile: "no-session", environment: home.env(), http: http)
        }
        #expect(throws: CredentialProviderError(source: "SSO (profile \"no-role\" in \(home.configPath))", reason: "the profile has no sso_role_name")) {
            _ = try SSOCredentialProvider.fromConfig(profile: "no-role", environment: home.env(), http: http)
        }
        let plain = try AWSHome(config: "[profile plain]\nregion = eu-west-1\n")
        #expect(try SSOCredentialProvider.fromConfig(profile: "plain", environment: plain.env(), http: http)?.profile == nil)
    }
}
