import Backup
import Decommission
import DynamoClient
import DynamoCore
import Foundation
import Mappings
import Pipeline
import RunState
import TableIO
import Testing
import TestSupport
import Verification

/// A small estate: two sources merged into a target, a scratch table whose data is not worth keeping,
/// and a bystander the mapping ignores.
struct DecommissionFixture {
    let client: DynamoDBClient
    let a: String, b: String, scratch: String, bystander: String, target: String
    let state: URL
    var yamlOverride: String? = nil
    let mappingPath = "decommission-test.yaml"

    static func make(_ client: DynamoDBClient, protectA: Bool = false) async throws -> DecommissionFixture {
        let a = try await makeTable(client, prefix: "dec-a")
        let b = try await makeTable(client, prefix: "dec-b")
        let scratch = try await makeTable(client, prefix: "dec-scratch")
        let bystander = try await makeTable(client, prefix: "dec-bystander")
        try await writeAll(client, a, sampleItems(30))
        try await writeAll(client, b, (30..<50).map { ["pk": .s("item-\($0)"), "from": .s("b")] })
        try await writeAll(client, scratch, sampleItems(5))
        try await writeAll(client, bystander, sampleItems(3))
        if protectA { try await client.updateTable(UpdateTableInput(name: a, deletionProtection: true)) }
        return DecommissionFixture(client: client, a: a, b: b, scratch: scratch, bystander: bystander,
                                   target: TestEnvironment.uniqueTableName("dec-target"),
                                   state: TestEnvironment.temporaryDirectory("decommission"))
    }

    var yaml: String {
        if let yamlOverride { return yamlOverride }
        return """
        version: 1
        tables:
          - target: \(target)
            sources:
              - table: \(a)
              - table: \(b)
        decommission: [\(a), \(b), \(scratch)]
        discard-data: [\(scratch)]
        ignore: [\(bystander)]
        """
    }

    func resolved() async throws -> ResolvedMapping {
        try MappingLoader.parse(yaml: yaml, file: mappingPath, env: nil)
            .resolve(existingTables: try await client.listTables() + Decommissioner.deletedTables(in: state))
    }

    func migrate() async throws {
        var options = MigrationOptions(stateDirectory: state, planFingerprint: "decommission")
        options.resume = FileManager.default.fileExists(atPath: state.appendingPathComponent("checkpoint.json").path)
        _ = try await Migrator(client: client, mapping: try await resolved(), options: options).run()
    }

    func verify() async throws {
        let record = try await MappingVerifier(checksummer: Checksummer(client: client), mapping: try await resolved())
            .verify(mappingPath: mappingPath, env: nil)
        try record.write(to: state)
    }

    func backUp(_ tables: [String]) async throws {
        for table in tables {
            let backup = try await client.createBackup(table: table, name: "\(table)-before-decommission")
            try await client.waitUntilBackupAvailable(backup.arn, pollInterval: .milliseconds(50))
        }
    }

    /// Backups taken with `backup create`, which records each one's content checksum.
    func recordedBackUp(_ tables: [String]) async throws {
        let manager = BackupManager(client: client, store: BackupStateStore(directory: backupState))
        for table in tables { _ = try await manager.create(table: table) }
    }

    var backupState: URL { state.appendingPathComponent("backups") }

    func decommission(execute: Bool, confirm: Set<String>? = nil, disableProtection: Bool = false,
                      exports: [URL] = [], using other: DynamoDBClient? = nil) async throws -> [String: TableDecision] {
        var options = DecommissionOptions(stateDirectory: state, mappingPath: mappingPath)
        options.exportDirectories = exports
        options.backupStateDirectory = backupState
        let client = other ?? self.client
        options.execute = execute
        options.disableDeletionProtection = disableProtection
        let confirmed = confirm
        let decisions = try await Decommissioner(client: client, mapping: try await resolved(), options: options) { table in
            confirmed?.contains(table) ?? true
        }.run()
        return Dictionary(uniqueKeysWithValues: decisions.map { ($0.table, $0) })
    }

    func exists(_ table: String) async throws -> Bool { try await client.describeTableIfExists(table) != nil }

    func cleanUp() async {
        for table in [a, b, scratch, bystander, target] {
            _ = try? await client.updateTable(UpdateTableInput(name: table, deletionProtection: false))
            try? await client.deleteTable(table)
        }
    }
}

func failed(_ decision: TableDecision?) -> [String] {
    decision?.checks.filter { !$0.passed }.map(\.name) ?? ["no decision"]
}

@Suite(needsLocalServer)
struct DecommissionTests {
    let client = makeClient(endpoint: localEndpoint)

    @Test func theHappyPathDeletesExactlyTheListedTables() async throws {
        let f = try await DecommissionFixture.make(client)
        try await f.migrate()
        try await f.backUp([f.a, f.b, f.scratch])
        try await f.verify()

        let dryRun = try await f.decommission(execute: false)
        #expect(dryRun.mapValues(\.decision) == [f.a: .wouldDelete, f.b: .wouldDelete, f.scratch: .wouldDelete])
        for table in [f.a, f.b, f.scratch] { #expect(try await f.exists(table), "a dry run deletes nothing") }

        let decisions = try await f.decommission(execute: true)
        #expect(decisions.mapValues(\.decision) == [f.a: .deleted, f.b: .deleted, f.scratch: .deleted])
        #expect(decisions[f.a]?.checks.map(\.name) == ["data accounted for", "verified backup", "deletion protection", "operator confirmed"])
        #expect(decisions[f.scratch]?.checks.first?.evidence == "the mapping lists \(f.scratch) under discard-data: its data is not worth keeping")
        for table in [f.a, f.b, f.scratch] { #expect(try await f.exists(table) == false) }
        #expect(try await f.exists(f.target), "the target is never touched")
        #expect(try await f.exists(f.bystander), "tables outside decommission are never touched")

        let audit = try String(contentsOf: f.state.appendingPathComponent(Decommissioner.auditLogName), encoding: .utf8)
            .split(separator: "\n")
        #expect(audit.count == 6, "three dry-run decisions, then three deletions")
        #expect(audit.last?.contains("\"decision\":\"deleted\"") == true)
        await f.cleanUp()
    }

    @Test func refusesWithoutVerificationOrBackupAndSaysWhatToRun() async throws {
        let f = try await DecommissionFixture.make(client)
        try await f.migrate()
        let decisions = try await f.decommission(execute: true)
        #expect(failed(decisions[f.a]) == ["data accounted for", "verified backup"])
        let data = try #require(decisions[f.a]?.checks.first)
        #expect(data.evidence == "no verification recorded in \(f.state.path)")
        #expect(data.remedy == "run `dynamo-migrate verify \(f.mappingPath)` against \(localEndpoint)")
        #expect(decisions[f.a]?.checks[1].remedy == "take one: `dynamo-migrate backup create \(f.a)`")
        #expect(failed(decisions[f.scratch]) == ["verified backup"], "discard-data still needs a backup")
        for table in [f.a, f.b, f.scratch] { #expect(try await f.exists(table)) }
        await f.cleanUp()
    }

    @Test func aTamperedTargetIsRefused() async throws {
        let f = try await DecommissionFixture.make(client)
        try await f.migrate()
        try await f.backUp([f.a, f.b])
        try await client.putItem(table: f.target, item: ["pk": .s("item-3"), "tampered": .bool(true)])
        try await client.deleteItem(table: f.target, key: ["pk": .s("item-4")])
        try await client.putItem(table: f.target, item: ["pk": .s("intruder")])
        try await f.verify()
        let decisions = try await f.decommission(execute: true)
        #expect(failed(decisions[f.a]) == ["data accounted for"])
        #expect(decisions[f.a]?.checks.first?.evidence.hasPrefix("target \(f.target) did not verify") == true)
        #expect(try await f.exists(f.a))
        #expect(try await f.exists(f.b))
        await f.cleanUp()
    }

    @Test func aBackupOlderThanTheMigrationIsRefused() async throws {
        let f = try await DecommissionFixture.make(client)
        try await f.backUp([f.a])
        try await Task.sleep(for: .milliseconds(1100))
        try await f.migrate()
        try await f.verify()
        let decisions = try await f.decommission(execute: true)
        #expect(failed(decisions[f.a]) == ["verified backup"])
        #expect(decisions[f.a]?.checks[1].evidence.contains("is older than the migration's last read") == true)
        #expect(try await f.exists(f.a))
        await f.cleanUp()
    }

    @Test func deletionProtectionAndConfirmation() async throws {
        let f = try await DecommissionFixture.make(client, protectA: true)
        try await f.migrate()
        try await f.backUp([f.a, f.b, f.scratch])
        try await f.verify()

        var decisions = try await f.decommission(execute: true, confirm: [f.a, f.b])
        #expect(failed(decisions[f.a]) == ["deletion protection"])
        #expect(decisions[f.b]?.decision == .deleted)
        #expect(decisions[f.scratch]?.decision == .notConfirmed)
        #expect(try await f.exists(f.a))
        #expect(try await f.exists(f.scratch))

        decisions = try await f.decommission(execute: true, confirm: [f.a], disableProtection: true)
        #expect(decisions[f.a]?.decision == .deleted)
        #expect(decisions[f.b]?.decision == .alreadyDeleted)
        #expect(try await f.exists(f.a) == false)
        #expect(try await f.exists(f.scratch), "still not confirmed")
        await f.cleanUp()
    }

    @Test func aLocalExportCountsAsABackupUntilOneByteOfItChanges() async throws {
        let f = try await DecommissionFixture.make(client)
        try await f.migrate()
        try await f.backUp([f.a, f.b])
        try await f.verify()
        let exports = TestEnvironment.temporaryDirectory("dec-exports")
        let result = try await TableExporter(client: client).export(table: f.scratch, to: exports, options: ExportOptions(segments: 1))

        // A one-byte change in the export's data file: refused, naming the file.
        let dataFile = try #require(try FileManager.default.contentsOfDirectory(at: result.location.dataDirectory, includingPropertiesForKeys: nil).first)
        var bytes = try Data(contentsOf: dataFile)
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: dataFile)
        let refused = try await f.decommission(execute: true, confirm: [f.scratch], exports: [exports])
        #expect(failed(refused[f.scratch]) == ["verified backup"])
        let evidence = try #require(refused[f.scratch]?.checks[1].evidence)
        #expect(evidence.hasPrefix("no AVAILABLE on-demand backup of \(f.scratch); export \(result.location.directory.path) does not verify: "))
        #expect(evidence.contains(dataFile.lastPathComponent))
        #expect(try await f.exists(f.scratch))

        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: dataFile)
        let accepted = try await f.decommission(execute: true, confirm: [f.scratch], exports: [exports])
        #expect(accepted[f.scratch]?.decision == .deleted)
        #expect(accepted[f.scratch]?.checks[1].evidence.contains("re-verified: 1 data files, 5 items, content checksum equal to the table's") == true)
        await f.cleanUp()
    }

    @Test func deadLetteredItemsKeepTheSource() async throws {
        let f = try await DecommissionFixture.make(client)
        // One item of A has a price that is not a number: the mapping's convert fails on it and the
        // migrator dead-letters it (the other items have no price and pass untouched).
        try await writeAll(client, f.a, [["pk": .s("bad-1"), "price": .s("twelve")]])
        let yaml = f.yaml.replacingOccurrences(of: "      - table: \(f.a)\n",
                                               with: "      - table: \(f.a)\n        transforms:\n          - convert: { price: number }\n")
        #expect(yaml.contains("convert: { price: number }"))
        let custom = DecommissionFixture(client: client, a: f.a, b: f.b, scratch: f.scratch, bystander: f.bystander,
                                         target: f.target, state: f.state, yamlOverride: yaml)
        try await custom.migrate()
        try await custom.recordedBackUp([f.a])
        try await custom.verify()
        let decisions = try await custom.decommission(execute: true, confirm: [f.a])
        #expect(failed(decisions[f.a]) == ["data accounted for"])
        #expect(decisions[f.a]?.checks.first?.evidence.hasPrefix("1 items of \(f.a) could not be migrated") == true)
        #expect(try await f.exists(f.a))
        await f.cleanUp()
    }

    @Test func proofFromAnotherEndpointDoesNotCount() async throws {
        let f = try await DecommissionFixture.make(client)
        try await f.migrate()
        try await f.recordedBackUp([f.a, f.b])
        try await f.verify()
        // The same server through a proxy is, as far as any record can tell, another endpoint.
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        let elsewhere = makeClient(endpoint: proxy.endpoint)
        let decisions = try await f.decommission(execute: true, using: elsewhere)
        #expect(failed(decisions[f.a]) == ["data accounted for"])
        #expect(decisions[f.a]?.checks.first?.evidence == "the migration in \(f.state.path) ran against \(localEndpoint), not \(proxy.endpoint)")
        #expect(try await f.exists(f.a))
        await f.cleanUp()
    }

    @Test func aSourceWrittenAfterVerificationIsKept() async throws {
        let f = try await DecommissionFixture.make(client)
        try await f.migrate()
        try await f.recordedBackUp([f.a, f.b])
        try await f.verify()
        try await client.putItem(table: f.a, item: ["pk": .s("late-arrival")])
        let decisions = try await f.decommission(execute: true)
        #expect(failed(decisions[f.a]) == ["data accounted for", "verified backup"])
        #expect(decisions[f.a]?.checks[0].evidence == "\(f.a) changed since it was verified (30 items then, 31 now)")
        // moto's DescribeTable counts are live, so the count check speaks first here; on DynamoDB (counts
        // refreshed every six hours) the recorded content checksum is what catches it.
        #expect(decisions[f.a]?.checks[1].evidence.hasSuffix("holds 30 items but the table reports 31") == true)
        #expect(decisions[f.b]?.decision == .deleted, "the other source is unaffected")
        #expect(try await f.exists(f.a))
        await f.cleanUp()
    }

    @Test func anItemChangedInPlaceIsCaughtByTheContentChecksums() async throws {
        let f = try await DecommissionFixture.make(client)
        try await f.migrate()
        try await f.recordedBackUp([f.a, f.b])
        try await f.verify()
        try await client.putItem(table: f.a, item: ["pk": .s("item-7"), "edited": .bool(true)])
        let decisions = try await f.decommission(execute: true)
        #expect(failed(decisions[f.a]) == ["data accounted for", "verified backup"])
        #expect(decisions[f.a]?.checks[0].evidence == "\(f.a) changed since it was verified (30 items then, 30 now)")
        #expect(decisions[f.a]?.checks[1].evidence.hasPrefix("the table changed after backup \(f.a)-") == true)
        #expect(try await f.exists(f.a))
        await f.cleanUp()
    }
}
