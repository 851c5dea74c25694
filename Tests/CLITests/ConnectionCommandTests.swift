import AWSAuth
import DynamoClient
import DynamoCore
import Foundation
import TestSupport
import Testing

/// Two accounts and two regions in one moto server: the `dev` profile has keys in account 123456789012
/// (moto's default) and us-east-1; the `prod` profile assumes a role in account 222222222222 and works in
/// eu-west-1. moto keeps tables per account and region, so a table of one name exists twice.
@Suite("Connections per side: other accounts and regions", .serialized, needsLocalServer)
struct ConnectionCommandTests {
    static let devAccount = "123456789012"
    static let prodAccount = "222222222222"

    /// A HOME with the two profiles; every run sees AWS_CONFIG_FILE and the moto endpoint (DynamoDB and STS).
    final class Fixture {
        let home = TestEnvironment.temporaryDirectory("conn-home")
        var config: String { home.appendingPathComponent("config").path }
        var environment: [String: String] { ["AWS_CONFIG_FILE": config, "AWS_ENDPOINT_URL": localEndpoint] }

        init() throws {
            try """
            [profile dev]
            aws_access_key_id = AKIDCONNDEV
            aws_secret_access_key = conn-dev-secret
            region = us-east-1
            [profile prod]
            role_arn = arn:aws:iam::\(ConnectionCommandTests.prodAccount):role/migrator
            source_profile = dev
            role_session_name = conn-test
            region = eu-west-1
            """.write(toFile: config, atomically: true, encoding: .utf8)
        }

        deinit { try? FileManager.default.removeItem(at: home) }

        /// A client for a connection, resolved the way the CLI resolves it.
        func client(_ connection: Connection) throws -> DynamoDBClient {
            DynamoDBClient(configuration: try AWSConfigurationResolver.resolve(connection: connection, environment: environment))
        }

        func run(_ arguments: [String], extra: [String: String] = [:]) throws -> CLIRun {
            try TestEnvironment.runCLI(arguments, environment: environment.merging(extra) { $1 }, killAfter: 300)
        }

        func write(_ text: String, to name: String) throws -> String {
            let path = home.appendingPathComponent(name).path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
    }

    /// A table in `client`'s account and region holding `items`.
    static func table(_ client: DynamoDBClient, prefix: String, items: [Item]) async throws -> String {
        let name = try await makeTable(client, prefix: prefix)
        try await writeAll(client, name, items)
        return name
    }

    @Test("The same table name in two accounts and regions: moto keeps them apart, as AWS does")
    func accountsAreSeparate() async throws {
        let f = try Fixture()
        let dev = try f.client(Connection(profile: "dev"))
        let prod = try f.client(Connection(profile: "prod"))
        let name = try await Self.table(dev, prefix: "conn-sep", items: sampleItems(3))
        #expect(try await prod.describeTableIfExists(name) == nil)
        #expect(prod.configuration.region == "eu-west-1")
        // A role on top of a profile: the flag form of `prod`.
        let flagged = try f.client(Connection(profile: "dev", region: "eu-west-1", roleArn: "arn:aws:iam::\(Self.prodAccount):role/migrator"))
        #expect(try await flagged.describeTableIfExists(name) == nil)
        _ = try await flagged.createTable(
            CreateTableInput(name: name, keySchema: KeySchema(partitionKey: KeyAttribute(name: "pk", type: .string)), billingMode: .payPerRequest))
        #expect(try await prod.describeTableIfExists(name) != nil, "the role in 222222222222 and the prod profile reach one account")
    }

    @Test("Mapping sides in two accounts and regions: migrate, verify MATCH with equal checksums and both identities recorded")
    func crossAccountMigrateVerify() async throws {
        let f = try Fixture()
        let dev = try f.client(Connection(profile: "dev"))
        let prod = try f.client(Connection(profile: "prod"))
        let items = sampleItems(40)
        let name = try await Self.table(dev, prefix: "conn-mig", items: items)
        let mapping = try f.write(
            """
            version: 1
            tables:
              - source: { table: \(name), profile: dev }
                target: { table: \(name), profile: prod }
            """, to: "cross.yaml")
        let state = f.home.appendingPathComponent("state").path

        let plan = try f.run(["plan", mapping, "--json"])
        #expect(plan.status == 0, "\(plan.stderr)")
        let planned = try #require(try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any])
        let plannedTarget = try #require((planned["targets"] as? [[String: Any]])?.first)
        #expect(plannedTarget["existing"] == nil, "the target does not exist in 222222222222/eu-west-1 yet: \(plannedTarget)")

        let migrate = try f.run(["migrate", mapping, "--state-dir", state])
        #expect(migrate.status == 0, "\(migrate.stderr)")
        #expect(byKey(try await scanAll(prod, name)) == byKey(items))
        #expect(try await scanAll(dev, name).count == 40, "the source is untouched")

        let verify = try f.run(["verify", mapping, "--state-dir", state, "--json"])
        #expect(verify.status == 0, "\(verify.stderr)\(verify.stdout)")
        let record = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: state + "/verification.json"))) as? [String: Any])
        let target = try #require((record["targets"] as? [[String: Any]])?.first)
        #expect(target["status"] as? String == "MATCH")
        let expected = try #require(target["expected"] as? [String: Any]), actual = try #require(target["actual"] as? [String: Any])
        #expect(expected["hash"] as? String != nil && expected["hash"] as? String == actual["hash"] as? String)
        let targetIdentity = try #require(target["identity"] as? [String: Any])
        #expect(targetIdentity["account"] as? String == Self.prodAccount)
        #expect(targetIdentity["region"] as? String == "eu-west-1")
        #expect(targetIdentity["arn"] as? String == "arn:aws:sts::\(Self.prodAccount):assumed-role/migrator/conn-test")
        let source = try #require((target["sources"] as? [[String: Any]])?.first)
        let sourceIdentity = try #require(source["identity"] as? [String: Any])
        #expect(sourceIdentity["account"] as? String == Self.devAccount)
        #expect(sourceIdentity["region"] as? String == "us-east-1")
    }

    @Test("--source-*/--target-* flags: migrate and verify across accounts and regions, diff finds a changed item")
    func flagsAndDiff() async throws {
        let f = try Fixture()
        let dev = try f.client(Connection(profile: "dev"))
        let prod = try f.client(Connection(profile: "prod"))
        let items = sampleItems(12)
        let name = try await Self.table(dev, prefix: "conn-flag", items: items)
        let mapping = try f.write("version: 1\ntables:\n  - source: \(name)\n    target: \(name)\n", to: "plain.yaml")
        let state = f.home.appendingPathComponent("state-flags").path
        let sides = [
            "--source-profile", "dev", "--target-profile", "dev", "--target-region", "us-west-2",
            "--target-role-arn", "arn:aws:iam::\(Self.prodAccount):role/other",
        ]
        let migrate = try f.run(["migrate", mapping, "--state-dir", state] + sides)
        #expect(migrate.status == 0, "\(migrate.stderr)")
        let west = try f.client(Connection(profile: "dev", region: "us-west-2", roleArn: "arn:aws:iam::\(Self.prodAccount):role/other"))
        #expect(byKey(try await scanAll(west, name)) == byKey(items))
        #expect(try await prod.describeTableIfExists(name) == nil, "eu-west-1 of 222222222222 is another place")

        let verify = try f.run(["verify", mapping, "--state-dir", state] + sides)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("target read as account \(Self.prodAccount)"))

        let same = try f.run(["diff", name, name] + sides)
        #expect(same.status == 0, "\(same.stdout)\(same.stderr)")
        try await writeAll(west, name, [["pk": .s("item-3"), "n": .n(DynamoNumber(99))]])
        let changed = try f.run(["diff", name, name, "--json"] + sides)
        #expect(changed.status == 1)
        let diff = try #require(try JSONSerialization.jsonObject(with: Data(changed.stdout.utf8)) as? [String: Any])
        #expect((diff["changed"] as? [Any])?.count == 1, "\(changed.stdout)")
    }

    @Test("Bad connections are named: an unknown profile in the mapping (file:line) or a flag, a malformed role, a refused AssumeRole")
    func badConnections() async throws {
        let f = try Fixture()
        let dev = try f.client(Connection(profile: "dev"))
        let name = try await Self.table(dev, prefix: "conn-bad", items: sampleItems(2))
        let mapping = try f.write(
            "version: 1\ntables:\n  - source: \(name)\n    target: { table: \(name)-copy, profile: nope }\n", to: "bad.yaml")
        let unknown = try f.run(["migrate", mapping, "--source-profile", "dev", "--state-dir", f.home.appendingPathComponent("s1").path])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.hasPrefix("error: \(mapping):4:"), "\(unknown.stderr)")
        #expect(unknown.stderr.contains(": The profile \"nope\" was not found"), "\(unknown.stderr)")

        let plain = try f.write("version: 1\ntables:\n  - source: \(name)\n    target: \(name)-copy\n", to: "plain.yaml")
        let flag = try f.run(["verify", plain, "--source-profile", "dev", "--target-profile", "nope"])
        #expect(flag.status == 2)
        #expect(flag.stderr.hasPrefix("error: --target-profile nope: The profile \"nope\" was not found"), "\(flag.stderr)")

        let malformed = try f.run(["verify", plain, "--target-role-arn", "arn:aws:iam::12:role/x"])
        #expect(malformed.status == 2)
        #expect(malformed.stderr.contains("--target-role-arn: 'arn:aws:iam::12:role/x' is not a role ARN"), "\(malformed.stderr)")

        let badKeys = try f.write(
            "version: 1\ntables:\n  - source: \(name)\n    target:\n      table: \(name)-copy\n      external-id: x\n      region: Eu_West\n", to: "keys.yaml")
        let keys = try f.run(["verify", badKeys])
        #expect(keys.status == 2)
        #expect(keys.stderr.contains("\(badKeys):6:7: 'external-id' needs a 'role-arn' beside it"), "\(keys.stderr)")
        #expect(keys.stderr.contains("\(badKeys):7:15: 'region' 'Eu_West' is not a region name"), "\(keys.stderr)")

        // Two spellings of one place (a flag repeating the profile's region) are one side: no copy into itself.
        let same = try f.write("version: 1\ntables:\n  - source: \(name)\n    target: \(name)\n", to: "same.yaml")
        let itself = try f.run(["migrate", same, "--source-profile", "dev", "--target-profile", "dev", "--target-region", "us-east-1"])
        #expect(itself.status == 2)
        #expect(itself.stderr.contains("table '\(name)' would be both a source and a target"), "\(itself.stderr)")

        // STS refuses (here: nothing listens where STS should be): the error names the role and its source.
        let refused = try f.run(
            ["verify", plain, "--source-profile", "dev", "--target-profile", "prod"], extra: ["AWS_ENDPOINT_URL_STS": "http://127.0.0.1:9"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("assume role arn:aws:iam::\(Self.prodAccount):role/migrator"), "\(refused.stderr)")
    }

    @Test("backup replicate into another account and region, replicate-to: checked by backup verify, and a drill there")
    func replicatePolicyDrill() async throws {
        let f = try Fixture()
        let dev = try f.client(Connection(profile: "dev"))
        let west = try f.client(Connection(profile: "prod", region: "us-west-2"))
        let items = sampleItems(25)
        let name = try await Self.table(dev, prefix: "conn-rep", items: items)
        let state = f.home.appendingPathComponent("backups").path

        let replicate = try f.run(
            ["backup", "replicate", name, "--profile", "dev", "--to-region", "us-west-2", "--to-profile", "prod", "--state-dir", state, "--json"])
        #expect(replicate.status == 0, "\(replicate.stderr)")
        let record = try #require(try JSONSerialization.jsonObject(with: Data(replicate.stdout.utf8)) as? [String: Any])
        #expect(record["itemCount"] as? Int == 25)
        let destination = try #require(record["destination"] as? [String: Any])
        #expect(destination["account"] as? String == Self.prodAccount)
        #expect(destination["region"] as? String == "us-west-2")
        #expect((record["source"] as? [String: Any])?["account"] as? String == Self.devAccount)
        let sourceChecksum = try #require(record["sourceChecksum"] as? [String: Any])
        #expect(sourceChecksum["itemCount"] as? Int == 25)
        #expect(sourceChecksum["digest"] as? String != nil)
        #expect(sourceChecksum["digest"] as? String == (record["replicaChecksum"] as? [String: Any])?["digest"] as? String)
        let replicaTable = try #require(record["replicaTable"] as? String)
        #expect(replicaTable.hasPrefix("\(name)-replica-"))
        #expect(try await west.describeTableIfExists(replicaTable) == nil, "the copy is deleted once backed up")
        let backupArn = try #require(record["backupArn"] as? String)
        #expect(try await west.describeBackup(arn: backupArn).backup.status == "AVAILABLE")

        func policy(_ region: String) throws -> String {
            try f.write(
                """
                version: 1
                policies:
                  - name: dr
                    tables: [\(name)]
                    pitr: { required: false }
                    rpo: none
                    retention: { daily: 0, weekly: 0, monthly: 0 }
                    replicate-to: { region: \(region), profile: prod, rpo: 1h }
                """, to: "policy-\(region).yaml")
        }
        let verified = try f.run(["backup", "verify", "--policy", try policy("us-west-2"), "--profile", "dev", "--state-dir", state])
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        let missing = try f.run(["backup", "verify", "--policy", try policy("eu-central-1"), "--profile", "dev", "--state-dir", state])
        #expect(missing.status == 1)
        #expect(missing.stdout.contains("\(name): no replica in eu-central-1"), "\(missing.stdout)")

        let drill = try f.run(
            ["drill", "run", name, "--latest-backup", "--profile", "dev", "--to-region", "us-west-2", "--to-profile", "prod", "--state-dir", state, "--json"])
        #expect(drill.status == 0, "\(drill.stdout)\(drill.stderr)")
        let output = try #require(try JSONSerialization.jsonObject(with: Data(drill.stdout.utf8)) as? [String: Any])
        let drillRecord = try #require(output["drill"] as? [String: Any])
        #expect(drillRecord["sourceReference"] as? String == backupArn)
        #expect(drillRecord["validation"] as? String == "passed")
        #expect((drillRecord["notes"] as? [String])?.first?.contains("account \(Self.prodAccount)") == true, "\(drillRecord)")
        #expect((drillRecord["notes"] as? [String])?.first?.contains("region us-west-2") == true)

        let nowhere = try f.run(["drill", "run", name, "--latest-backup", "--profile", "dev", "--to-region", "ap-south-1", "--state-dir", state])
        #expect(nowhere.status == 1)
        #expect(nowhere.stderr.contains("no replica of \(name) is recorded in ap-south-1"), "\(nowhere.stderr)")
    }

    @Test("decommission records the identity it would delete with, and refuses one that is not the identity verify read the source as")
    func decommissionIdentity() async throws {
        let f = try Fixture()
        let dev = try f.client(Connection(profile: "dev"))
        let name = try await Self.table(dev, prefix: "conn-dec", items: sampleItems(5))
        let mapping = try f.write(
            "version: 1\ntables:\n  - source: \(name)\n    target: \(name)\ndecommission: [\(name)]\n", to: "dec.yaml")
        let state = f.home.appendingPathComponent("state-dec").path
        let sides = ["--source-profile", "dev", "--target-profile", "prod"]
        #expect(try f.run(["migrate", mapping, "--state-dir", state] + sides).status == 0)
        #expect(try f.run(["verify", mapping, "--state-dir", state] + sides).status == 0)

        func identityCheck(_ run: CLIRun) throws -> [String: Any] {
            let decisions = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]], "\(run.stdout)\(run.stderr)")
            let checks = try #require(decisions.first?["checks"] as? [[String: Any]])
            return try #require(checks.first { $0["name"] as? String == "same identity as verify" })
        }
        // The identity verify used: the check passes (other checks, such as the backup, may still refuse).
        let same = try f.run(["decommission", mapping, "--state-dir", state, "--json"] + sides)
        let passed = try identityCheck(same)
        #expect(passed["passed"] as? Bool == true)
        #expect((passed["evidence"] as? String)?.hasPrefix("deleting as account \(Self.devAccount)") == true, "\(passed)")
        #expect((passed["evidence"] as? String)?.contains("\(name) as account \(Self.prodAccount)") == true, "\(passed)")

        // A table of the same name in another account: proof from account 123456789012 does not cover it.
        let otherRole = "arn:aws:iam::333333333333:role/ops"
        let other = try f.client(Connection(profile: "dev", roleArn: otherRole))
        try await other.createTable(
            CreateTableInput(name: name, keySchema: KeySchema(partitionKey: KeyAttribute(name: "pk", type: .string)), billingMode: .payPerRequest))
        try await other.waitUntilActive(name, pollInterval: .milliseconds(50))
        try await writeAll(other, name, sampleItems(5))
        let elsewhere = try f.run(
            [
                "decommission", mapping, "--state-dir", state, "--json", "--execute", "--yes-delete", name,
                "--source-profile", "dev", "--source-role-arn", otherRole, "--target-profile", "prod",
            ])
        #expect(elsewhere.status == 1)
        let refused = try identityCheck(elsewhere)
        #expect(refused["passed"] as? Bool == false)
        #expect((refused["evidence"] as? String)?.contains("as account \(Self.devAccount)") == true, "\(refused)")
        #expect((refused["evidence"] as? String)?.contains("would delete it as account 333333333333") == true, "\(refused)")
        #expect(try await other.describeTableIfExists(name) != nil, "nothing deleted")
        #expect(try await dev.describeTableIfExists(name) != nil)
    }

    @Test("export --source-profile from one account, import --target-profile into another account and region")
    func exportImportAcrossAccounts() async throws {
        let f = try Fixture()
        let dev = try f.client(Connection(profile: "dev"))
        let prod = try f.client(Connection(profile: "prod"))
        let items = sampleItems(15)
        let name = try await Self.table(dev, prefix: "conn-exp", items: items)
        let folder = f.home.appendingPathComponent("export").path
        let export = try f.run(["export", name, "--to", folder, "--source-profile", "dev"])
        #expect(export.status == 0, "\(export.stderr)")
        let load = try f.run(["import", folder, "--table", name, "--create", "--target-profile", "prod"])
        #expect(load.status == 0, "\(load.stderr)")
        #expect(byKey(try await scanAll(prod, name)) == byKey(items))

        // The disaster a drill is for: restore that export in another account and region, and time it there.
        let drill = try f.run(
            [
                "drill", "run", name, "--from-export", folder, "--profile", "dev", "--to-region", "us-west-2", "--to-profile", "prod", "--json",
                "--state-dir", f.home.appendingPathComponent("drills").path,
            ])
        #expect(drill.status == 0, "\(drill.stdout)\(drill.stderr)")
        let output = try #require(try JSONSerialization.jsonObject(with: Data(drill.stdout.utf8)) as? [String: Any])
        let record = try #require(output["drill"] as? [String: Any])
        #expect(record["validation"] as? String == "passed")
        #expect((record["notes"] as? [String])?.first?.hasPrefix("restored and measured in account \(Self.prodAccount)") == true, "\(record)")
    }
}
