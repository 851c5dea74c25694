import Foundation
import TestSupport
import Testing

/// `whoami` against moto's STS: identity, provider, region and endpoint origins; secrets never printed.
@Suite(needsLocalServer)
struct WhoamiCommandTests {
    static let secret = "WhoamiSecretKeyNeverPrinted0123456789"

    @Test("Environment keys: account, masked key, provider, region and endpoints with their origins; no secret")
    func environmentKeys() throws {
        let run = try TestEnvironment.runCLI(
            ["whoami"],
            environment: [
                "AWS_ACCESS_KEY_ID": "AKIDWHOAMITEST1234", "AWS_SECRET_ACCESS_KEY": Self.secret,
                "AWS_SESSION_TOKEN": "WhoamiTokenNeverPrinted", "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": localEndpoint,
            ])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(lines.contains("account 123456789012 STS GetCallerIdentity"))
        #expect(
            lines.contains("access key **************1234 (session token, no expiry known) environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"))
        #expect(lines.contains("region us-east-1 AWS_REGION"))
        #expect(lines.contains("endpoint \(localEndpoint) AWS_ENDPOINT_URL"))
        #expect(lines.contains("sts endpoint \(localEndpoint) AWS_ENDPOINT_URL"))
        #expect(!run.stdout.contains(Self.secret) && !run.stdout.contains("WhoamiTokenNeverPrinted") && !run.stdout.contains("AKIDWHOAMITEST1234"))
    }

    @Test("An assume-role profile: --json shows the role's account and the assumed-role ARN")
    func assumeRoleProfileJSON() throws {
        let home = TestEnvironment.temporaryDirectory("whoami-home")
        defer { try? FileManager.default.removeItem(at: home) }
        let config = home.appendingPathComponent("config").path
        try """
        [profile base]
        aws_access_key_id = AKIDBASEPROFILE
        aws_secret_access_key = \(Self.secret)
        [profile deploy]
        role_arn = arn:aws:iam::333344445555:role/deployer
        source_profile = base
        role_session_name = whoami-check
        region = eu-west-1
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let run = try TestEnvironment.runCLI(
            ["whoami", "--profile", "deploy", "--json"],
            environment: [
                "AWS_CONFIG_FILE": config, "AWS_ENDPOINT_URL": localEndpoint,
            ])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(json["account"] as? String == "333344445555")
        #expect(json["arn"] as? String == "arn:aws:sts::333344445555:assumed-role/deployer/whoami-check")
        #expect(json["profile"] as? String == "deploy")
        let credentials = try #require(json["credentials"] as? [String: Any])
        #expect(credentials["temporary"] as? Bool == true)
        #expect(credentials["expiration"] is String)
        #expect((credentials["provider"] as? String)?.hasPrefix("assume role arn:aws:iam::333344445555:role/deployer (profile \"deploy\")") == true)
        let region = try #require(json["region"] as? [String: Any])
        #expect(region["value"] as? String == "eu-west-1")
        #expect(!run.stdout.contains(Self.secret))
    }

    @Test("A refused profile is bad input: exit 2 with the reason")
    func mfaProfile() throws {
        let home = TestEnvironment.temporaryDirectory("whoami-mfa")
        defer { try? FileManager.default.removeItem(at: home) }
        let config = home.appendingPathComponent("config").path
        try "[profile admin]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = admin\nmfa_serial = arn:aws:iam::1:mfa/me\nregion = eu-west-1\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let run = try TestEnvironment.runCLI(["whoami", "--profile", "admin"], environment: ["AWS_CONFIG_FILE": config])
        #expect(run.status == 2)
        #expect(run.stderr.hasPrefix("error: The profile \"admin\" in \(config) sets mfa_serial"))
    }
}
