// IMDSv2 against a real local HTTP server that hands out session tokens and checks them.
import AWSAuth
import CurlTransport
import Foundation
import Synchronization
import TestSupport
import Testing

/// A small instance metadata service: PUT /latest/api/token hands out `IMDSsessionTOKEN0123-N`, every
/// GET needs the current token (401 otherwise, as IMDS answers), `revoke()` makes the current one invalid.
final class FakeIMDS: Sendable {
    let server: RoutedHTTPServer
    private let state: Shared<(issued: Int, valid: String?)>
    var endpoint: String { server.endpoint }

    init(role: String? = "app-role", region: String = "eu-central-1") throws {
        let state = Shared<(issued: Int, valid: String?)>((0, nil))
        self.state = state
        server = try RoutedHTTPServer { request in
            if request.method == "PUT" && request.path == "/latest/api/token" {
                guard request.header("X-aws-ec2-metadata-token-ttl-seconds") == "21600" else { return .text("", status: 400) }
                let token = state.withLock {
                    $0.issued += 1; $0.valid = "\(Planted.imdsToken)-\($0.issued)"; return $0.valid!
                }
                return .text(token)
            }
            guard request.method == "GET" else { return .text("", status: 405) }
            let valid = state.withLock { $0.valid }
            guard let valid, request.header("X-aws-ec2-metadata-token") == valid else { return .text("", status: 401) }
            switch request.path {
            case "/latest/meta-data/iam/security-credentials/":
                return role.map { .text($0 + "\n") } ?? .text("", status: 404)
            case "/latest/meta-data/iam/security-credentials/\(role ?? "-")":
                return .json(Planted.metadataJSON(keyID: "ASIAINSTANCE"))
            case "/latest/meta-data/placement/region":
                return .text(region)
            default:
                return .text("", status: 404)
            }
        }
    }

    /// The instance was stopped and started: the token it handed out no longer works.
    func revoke() { state.withLock { $0.valid = "none" } }
    func stop() { server.stop() }
}

@Suite struct IMDSCredentialProviderTests {
    let http = CurlTransport()

    @Test func tokenThenRoleThenCredentialsAndTheTokenIsKept() async throws {
        let imds = try FakeIMDS()
        defer { imds.stop() }
        let provider = try #require(
            try IMDSCredentialProvider.fromEnvironment(
                ["AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.endpoint + "/"], http: http, clock: TestClock()))
        #expect(provider.source == "EC2 instance metadata (\(imds.endpoint))")

        let expected = ExpiringCredentials(
            credentials: Credentials(accessKeyId: "ASIAINSTANCE", secretAccessKey: Planted.secret, sessionToken: Planted.sessionToken),
            expiration: utc("2026-11-30T10:00:00Z"))
        #expect(try await provider.fetch() == expected)
        #expect(try await provider.fetch() == expected)
        #expect(
            imds.server.requests.map { "\($0.method) \($0.path)" } == [
                "PUT /latest/api/token",
                "GET /latest/meta-data/iam/security-credentials/",
                "GET /latest/meta-data/iam/security-credentials/app-role",
                "GET /latest/meta-data/iam/security-credentials/",
                "GET /latest/meta-data/iam/security-credentials/app-role",
            ], "one token PUT for both fetches")
    }

    @Test func aRefusedTokenIsReplacedOnce() async throws {
        let imds = try FakeIMDS()
        defer { imds.stop() }
        let provider = IMDSCredentialProvider(endpoint: imds.endpoint, http: http, clock: TestClock())
        _ = try await provider.fetch()
        imds.revoke()
        #expect(try await provider.fetch().credentials.accessKeyId == "ASIAINSTANCE")
        #expect(imds.server.count("PUT", "/latest/api/token") == 2)
    }

    @Test func theTokenIsRenewedWhenItsLifetimeRunsOut() async throws {
        let imds = try FakeIMDS()
        defer { imds.stop() }
        let clock = TestClock()
        let provider = IMDSCredentialProvider(endpoint: imds.endpoint, http: http, clock: clock)
        _ = try await provider.fetch()
        clock.advance(by: .seconds(21600 - 61))
        _ = try await provider.fetch()
        #expect(imds.server.count("PUT", "/latest/api/token") == 1)
        clock.advance(by: .seconds(2))
        _ = try await provider.fetch()
        #expect(imds.server.count("PUT", "/latest/api/token") == 2)
    }

    @Test func regionFromPlacement() async throws {
        let imds = try FakeIMDS(region: "ap-southeast-2")
        defer { imds.stop() }
        #expect(try await IMDSCredentialProvider(endpoint: imds.endpoint, http: http).region() == "ap-southeast-2")
    }

    @Test func anInstanceWithoutARole() async throws {
        let imds = try FakeIMDS(role: nil)
        defer { imds.stop() }
        let error = await providerError { try await IMDSCredentialProvider(endpoint: imds.endpoint, http: http).fetch() }
        #expect(
            error?.reason
                == "asking for the instance profile's role, the service answered HTTP 404; is an IAM role (instance profile) attached to the instance?")
    }

    @Test func disabledAndEndpointSettings() throws {
        #expect(try IMDSCredentialProvider.fromEnvironment(["AWS_EC2_METADATA_DISABLED": "true"], http: http)?.endpoint == nil)
        #expect(try IMDSCredentialProvider.fromEnvironment(["AWS_EC2_METADATA_DISABLED": "TRUE"], http: http)?.endpoint == nil)
        #expect(try IMDSCredentialProvider.fromEnvironment(["AWS_EC2_METADATA_DISABLED": "false"], http: http)?.endpoint == "http://169.254.169.254")
        #expect(try IMDSCredentialProvider.fromEnvironment([:], http: http)?.endpoint == "http://169.254.169.254")
        #expect(
            try IMDSCredentialProvider.fromEnvironment(["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv6"], http: http)?.endpoint == "http://[fd00:ec2::254]")
        #expect(
            throws: CredentialProviderError(
                source: "EC2 instance metadata (AWS_EC2_METADATA_SERVICE_ENDPOINT)",
                reason: "\"169.254.169.254\" is not an http:// or https:// URL with a host")
        ) {
            _ = try IMDSCredentialProvider.fromEnvironment(["AWS_EC2_METADATA_SERVICE_ENDPOINT": "169.254.169.254"], http: http)
        }
    }

    /// Off EC2 nothing answers: each request gives up after 1 s and is tried once more, no more.
    @Test func aSilentServiceIsGivenUpOnAfterOneRetry() async throws {
        let silent = try RoutedHTTPServer { _ in .silence }
        defer { silent.stop() }
        let provider = IMDSCredentialProvider(endpoint: silent.endpoint, http: http)
        let error = await providerError { try await provider.fetch() }
        #expect(
            error?.reason
                == "the metadata service did not answer (\(silent.endpoint)/latest/api/token timed out after 1.0 seconds); not on EC2, or set AWS_EC2_METADATA_DISABLED=true"
        )
        #expect(silent.count("PUT", "/latest/api/token") == 2)
    }
}
