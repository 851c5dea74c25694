import AWSAuth
import Backup
import Decommission
import DynamoClient
import DynamoCore
import Foundation
import Mappings
import Pipeline
import RunState
import Synchronization
import TableIO
import TestSupport
import Testing
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
        return DecommissionFixture(
            client: client, a: a, b: b, scratch: scratch, bystander: bystander,
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
        try await loaded().resolved
    }

    /// The mapping as `verify` and `decommission` load it: the document and its resolution.
    func loaded() async throws -> (document: MappingDocument, resolved: ResolvedMapping, fingerprints: MappingFingerprints) {
        let document = try MappingLoader.parse(yaml: yaml, file: mappingPath, env: nil)
        let resolved = try document.resolve(existingTables: try await client.listTables() + Decommissioner.deletedTables(in: state))
        return (document, resolved, MappingFingerprints(document: document, resolved: resolved))
    }

    /// The same estate under another mapping text.
    func with(yaml: String) -> DecommissionFixture {
        DecommissionFixture(
            client: client, a: a, b: b, scratch: scratch, bystander: bystander, target: target,
            state: state, yamlOverride: yaml)
    }

    func migrate(clock: any RunClock = SystemClock()) async throws {
        var options = MigrationOptions(stateDirectory: state, planFingerprint: "decommission")
        options.clock = clock
        options.resume = FileManager.default.fileExists(atPath: state.appendingPathComponent("checkpoint.json").path)
        _ = try await Migrator(client: client, mapping: try await resolved(), options: options).run()
    }

    func verify(clock: any RunClock = SystemClock()) async throws {
        let mapping = try await loaded()
        var verifier = MappingVerifier(
            checksummer: Checksummer(client: client), mapping: mapping.resolved,
            fingerprints: mapping.fingerprints)
        verifier.clock = clock
        let record = try await verifier.verify(mappingPath: mappingPath, env: nil)
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

    func decommission(
        execute: Bool, confirm: Set<String>? = nil, disableProtection: Bool = false,
        exports: [URL] = [], using other: DynamoDBClient? = nil,
        beforeConfirming: @escaping @Sendable (String) async -> Void = { _ in }
    ) async throws -> [String: TableDecision] {
        var options = DecommissionOptions(stateDirectory: state, mappingPath: mappingPath)
        options.exportDirectories = exports
        options.backupStateDirectory = backupState
        let client = other ?? self.client
        options.execute = execute
        options.disableDeletionProtection = disableProtection
        let confirmed = confirm
        let mapping = try await loaded()
        let decisions = try await Decommissioner(
            client: client, mapping: mapping.resolved, fingerprints: mapping.fingerprints,
            options: options
        ) { table in
            await beforeConfirming(table)
            return confirmed?.contains(table) ?? true
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
        #expect(
            decisions[f.a]?.checks.map(\.name) == [
                "data accounted for", "verified backup", "deletion protection", "follow drained", "operator confirmed",
                "unchanged right before delete",
            ])
        #expect(
            decisions[f.a]?.checks.first?.evidence.hasPrefix(
                "\(f.target) recomputed now: its sources through the current mapping produce exactly what it holds (50 items") == true)
        #expect(decisions[f.scratch]?.checks.first?.evidence == "the mapping lists \(f.scratch) under discard-data: its data is not worth keeping")
        for table in [f.a, f.b, f.scratch] { #expect(try await f.exists(table) == false) }
        #expect(try await f.exists(f.target), "the target is never touched")
        #expect(try await f.exists(f.bystander), "tables outside decommission are never touched")

        let auditURL = f.state.appendingPathComponent(Decommissioner.auditLogName)
        let audit = try String(contentsOf: auditURL, encoding: .utf8).split(separator: "\n")
        #expect(audit.count == 9, "three dry-run decisions, then for each deletion its intent and its outcome")
        #expect(audit.filter { $0.contains("\"decision\":\"delete-requested\"") }.count == 3)
        #expect(audit.last?.contains("\"decision\":\"deleted\"") == true)
        let permissions = try FileManager.default.attributesOfItem(atPath: auditURL.path)[.posixPermissions] as? Int
        #expect(permissions == 0o600, "the audit log is the owner's alone")
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
        // By their clock, the migration and its verification happen two seconds after the backup
        // (records keep whole seconds), without waiting for it.
        let later = ShiftedDateClock(by: 2)
        try await f.migrate(clock: later)
        try await f.verify(clock: later)
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
        #expect(
            decisions[f.a]?.checks.first?.evidence.contains("not recomputed: \(f.b) deleted by an earlier decommission") == true,
            "with a merged source gone, the target cannot be recomputed; the record and the unchanged target are what is left")
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
        let yaml = f.yaml.replacingOccurrences(
            of: "      - table: \(f.a)\n",
            with: "      - table: \(f.a)\n        transforms:\n          - convert: { price: number }\n")
        #expect(yaml.contains("convert: { price: number }"))
        let custom = DecommissionFixture(
            client: client, a: f.a, b: f.b, scratch: f.scratch, bystander: f.bystander,
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
        // The recorded content checksum catches it, not DynamoDB's ItemCount (refreshed every six hours on AWS).
        #expect(decisions[f.a]?.checks[1].evidence.hasPrefix("the table changed after backup ") == true)
        // The other source's items are all in the target, but the target as a whole no longer holds what
        // its sources produce, so nothing proves it until the change is migrated and verified.
        #expect(
            decisions[f.b]?.checks.first?.evidence.hasPrefix(
                "recomputed now through the current mapping, target \(f.target) does not hold what its sources should produce: expected 51 items") == true)
        #expect(try await f.exists(f.b))
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
    // MARK: - Proof, not a verdict (issue 16)

    /// The issue's example: migrated and verified with a filter (83 of 150 items), then the filter is
    /// removed from the mapping. The old verification says nothing about the edited mapping.
    @Test func aMappingEditedAfterVerifyIsRefused() async throws {
        let f = try await DecommissionFixture.make(client)
        let source = try await makeTable(client, prefix: "dec-filtered")
        try await writeAll(client, source, (0..<150).map { ["pk": .s("item-\($0)"), "keep": .s($0 < 83 ? "yes" : "no")] })
        func mapping(filter: Bool) -> String {
            """
            version: 1
            tables:
              - target: \(f.target)
                sources:
                  - table: \(source)
            \(filter ? "        transforms:\n          - filter: { attribute: keep, equals: \"yes\" }" : "")
            decommission: [\(source)]
            ignore: [\(f.a), \(f.b), \(f.scratch), \(f.bystander)]
            """
        }
        let filtered = f.with(yaml: mapping(filter: true))
        #expect(filtered.yaml.contains("- filter: { attribute: keep, equals: \"yes\" }"))
        try await filtered.migrate()
        try await filtered.verify()
        #expect(try await scanAll(client, f.target).count == 83)
        try await filtered.recordedBackUp([source])
        let underVerifiedMapping = try await filtered.decommission(execute: false)
        #expect(underVerifiedMapping[source]?.decision == .wouldDelete, "the filter's 67 items are meant to be left out")

        let edited = f.with(yaml: mapping(filter: false))
        let decisions = try await edited.decommission(execute: true)
        #expect(failed(decisions[source]) == ["data accounted for"])
        let check = try #require(decisions[source]?.checks.first)
        #expect(
            check.evidence
                == "the mapping's entry for target \(f.target) (its sources, transforms, filters, key prefixes, conflict policy or env) changed since it was verified: re-run verify"
        )
        #expect(
            check.remedy
                == "migrate what the edited mapping adds (`dynamo-migrate migrate \(f.mappingPath)`), then run `dynamo-migrate verify \(f.mappingPath)` against \(localEndpoint)"
        )
        #expect(try await f.exists(source))
        try? await client.deleteTable(source)
        await f.cleanUp()
    }

    /// Only what changes a target's content changes its fingerprint: not a comment, nor a line moved.
    @Test func fingerprintsFollowMeaningNotText() throws {
        func fingerprint(_ yaml: String, env: String? = nil) throws -> String? {
            let document = try MappingLoader.parse(yaml: yaml, file: "m.yaml", env: env)
            let resolved = try document.resolve(existingTables: ["src", "other"])
            return MappingFingerprints(document: document, resolved: resolved)["dst"]
        }
        let base = """
            version: 1
            tables:
              - target: dst
                sources:
                  - table: src
                    transforms:
                      - filter: { attribute: keep, equals: true }
                      - set: { label: "{env}-x" }
            """
        let original = try #require(try fingerprint(base, env: "prod"))
        #expect(try fingerprint("# a comment\n\n" + base, env: "prod") == original)
        #expect(try fingerprint(base, env: "staging") != original, "{env} changes what set writes")
        #expect(try fingerprint(base.replacingOccurrences(of: "equals: true", with: "equals: false"), env: "prod") != original)
        #expect(try fingerprint(base.replacingOccurrences(of: "          - filter: { attribute: keep, equals: true }\n", with: ""), env: "prod") != original)
        #expect(
            try fingerprint(base.replacingOccurrences(of: "  - table: src\n", with: "  - table: src\n        key-prefix: \"p#\"\n"), env: "prod") != original)
        #expect(
            try fingerprint(base.replacingOccurrences(of: "  - target: dst\n", with: "  - target: dst\n    conflict: keep-existing\n"), env: "prod") != original
        )
    }

    /// A MISMATCH whose verdict was edited to MATCH, then a record forged consistently (expected set to
    /// the target's actual figures): neither deletes anything.
    @Test func aHandEditedOrForgedVerdictIsRefused() async throws {
        let f = try await DecommissionFixture.make(client)
        try await f.migrate()
        try await f.recordedBackUp([f.a, f.b])
        try await client.deleteItem(table: f.target, key: ["pk": .s("item-4")])
        try await f.verify()
        let url = f.state.appendingPathComponent(VerificationRecord.fileName)
        func edit(_ change: (inout [String: Any]) -> Void) throws {
            var record = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            var targets = try #require(record["targets"] as? [[String: Any]])
            change(&targets[0])
            record["targets"] = targets
            record["matched"] = true
            try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]).write(to: url)
        }

        #expect(try String(contentsOf: url, encoding: .utf8).contains("\"status\" : \"MISMATCH\""))
        try edit {
            $0["status"] = "MATCH"; $0["reason"] = "49 items match"
        }
        var decisions = try await f.decommission(execute: true)
        #expect(failed(decisions[f.a]) == ["data accounted for"])
        let evidence = try #require(decisions[f.a]?.checks.first?.evidence)
        #expect(evidence.hasPrefix("target \(f.target) did not verify: its record says MATCH, but the recorded figures differ (expected 50 items, hash "))
        #expect(evidence.contains("actual 49 items"))

        try edit { target in
            target["expected"] = target["actual"]
            target["differingBuckets"] = [String]()
        }
        decisions = try await f.decommission(execute: true)
        #expect(failed(decisions[f.a]) == ["data accounted for"])
        #expect(
            decisions[f.a]?.checks.first?.evidence.hasPrefix(
                "recomputed now through the current mapping, target \(f.target) does not hold what its sources should produce: expected 50 items") == true)
        #expect(failed(decisions[f.b]) == ["data accounted for"])
        #expect(try await f.exists(f.a))
        #expect(try await f.exists(f.b))
        await f.cleanUp()
    }

    /// DeleteTable is applied but its answer never arrives: the table is gone, so the outcome is
    /// "deleted", and the audit log holds the intent and the outcome.
    @Test func aLostDeleteTableAnswerEndsDeletedWithIntentAndOutcomeAudited() async throws {
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        let f = try await DecommissionFixture.make(makeClient(endpoint: proxy.endpoint))
        try await f.backUp([f.scratch])
        proxy.inject(.resetAfterForwarding, operation: "DeleteTable", times: 1)
        let decisions = try await f.decommission(execute: true, confirm: [f.scratch])
        #expect(decisions[f.scratch]?.decision == .deleted)
        let deleteCheck = try #require(decisions[f.scratch]?.checks.last)
        #expect(deleteCheck.name == "DeleteTable")
        #expect(deleteCheck.evidence.hasPrefix("the answer to DeleteTable was lost ("))
        #expect(deleteCheck.evidence.hasSuffix("but \(f.scratch) is gone"))
        #expect(try await f.exists(f.scratch) == false)
        let audit = try String(contentsOf: f.state.appendingPathComponent(Decommissioner.auditLogName), encoding: .utf8)
            .split(separator: "\n").filter { $0.contains("\"table\":\"\(f.scratch)\"") }
        #expect(audit.count == 2)
        #expect(audit.first?.contains("\"decision\":\"delete-requested\"") == true)
        #expect(audit.last?.contains("\"decision\":\"deleted\"") == true)
        #expect(try await f.decommission(execute: true, confirm: [])[f.scratch]?.decision == .alreadyDeleted)
        await f.cleanUp()
    }

    /// A run that stopped after sending DeleteTable left only the intent: the table being gone then
    /// counts as deleted by that decommission, not as a table that vanished unexplained.
    @Test func anIntentWithoutOutcomeCountsAsDeleted() async throws {
        let f = try await DecommissionFixture.make(client)
        try FileManager.default.createDirectory(at: f.state, withIntermediateDirectories: true)
        let intent =
            #"{"checks":[],"decidedAt":"2026-11-30T02:00:00Z","decision":"delete-requested","dryRun":false,"mapping":"decommission-test.yaml","table":"\#(f.scratch)"}"#
        try Data((intent + "\n").utf8).write(to: f.state.appendingPathComponent(Decommissioner.auditLogName))
        try await client.deleteTable(f.scratch)
        try await client.waitUntilDeleted(f.scratch, pollInterval: .milliseconds(50))
        let decisions = try await f.decommission(execute: false)
        #expect(decisions[f.scratch]?.decision == .alreadyDeleted)
        await f.cleanUp()
    }

    /// A second decommission on the same state directory, started while the first waits for its
    /// confirmation, is refused before it looks at any table.
    @Test func aSecondConcurrentDecommissionIsRefused() async throws {
        let f = try await DecommissionFixture.make(client)
        try await f.backUp([f.scratch])
        let second = Mutex<String?>(nil)
        let first = try await f.decommission(
            execute: true, confirm: [],
            beforeConfirming: { _ in
                do {
                    _ = try await f.decommission(execute: true, confirm: [f.scratch])
                    second.withLock { $0 = "ran" }
                } catch {
                    second.withLock { $0 = "\(error)" }
                }
            })
        #expect(
            second.withLock { $0 }
                == "another dynamo-migrate process is using \(f.state.path) (its lock is held); wait for it to finish, or use another --state-dir")
        #expect(first[f.scratch]?.decision == .notConfirmed)
        #expect(try await f.exists(f.scratch))
        await f.cleanUp()
    }

    /// The audit log is never written through a symbolic link.
    @Test func aSymlinkedAuditLogIsRefused() async throws {
        let f = try await DecommissionFixture.make(client)
        try await f.backUp([f.scratch])
        try FileManager.default.createDirectory(at: f.state, withIntermediateDirectories: true)
        let victim = TestEnvironment.temporaryDirectory("dec-victim").appendingPathComponent("precious.txt")
        try FileManager.default.createDirectory(at: victim.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("keep me\n".utf8).write(to: victim)
        let log = f.state.appendingPathComponent(Decommissioner.auditLogName)
        try FileManager.default.createSymbolicLink(at: log, withDestinationURL: victim)
        await #expect {
            _ = try await f.decommission(execute: true, confirm: [f.scratch])
        } throws: { error in
            "\(error)"
                == "the audit log \(log.path) is a symbolic link, not a regular file; decommission does not write through it (remove it, or pass another --state-dir)"
        }
        #expect(try String(contentsOf: victim, encoding: .utf8) == "keep me\n")
        #expect(try await f.exists(f.scratch))
        await f.cleanUp()
    }

    /// An item written between the proof and DeleteTable keeps the table: it is scanned again right
    /// before the delete.
    @Test func aWriteAfterTheProofKeepsTheTable() async throws {
        let f = try await DecommissionFixture.make(client)
        try await f.recordedBackUp([f.scratch])
        let client = self.client
        let decisions = try await f.decommission(
            execute: true, confirm: [f.scratch],
            beforeConfirming: { table in
                try? await client.putItem(table: table, item: ["pk": .s("written-during-decommission")])
            })
        #expect(failed(decisions[f.scratch]) == ["unchanged right before delete"])
        #expect(decisions[f.scratch]?.checks.last?.evidence == "\(f.scratch) changed after it was proven (5 items then, 6 now): something still writes to it")
        #expect(try await f.exists(f.scratch))
        await f.cleanUp()
    }
}
