import DynamoClient
import DynamoCore
import Foundation
import RunState
import TableIO
import TestSupport
import Testing

@testable import Backup

/// Checksums like the default, then writes one more item to the table: a write landing between the
/// checksum and CreateBackup, the race `backup create` cannot rule out and a drill must catch.
struct RacingWriteChecksummer: ContentChecksummer {
    let base = MultisetContentChecksummer()
    var algorithm: String { base.algorithm }
    func checksum<S: Sequence>(items: S) -> ContentChecksum where S.Element == Item { base.checksum(items: items) }
    func combine(_ a: ContentChecksum, _ b: ContentChecksum) -> ContentChecksum { base.combine(a, b) }
    func checksum(table: String, client: DynamoDBClient, segments: Int) async throws -> ContentChecksum {
        let result = try await base.scanChecksum(table: table, client: client, segments: segments)
        try await client.putItem(table: table, item: ["pk": .s("late-write"), "v": .n(DynamoNumber(1))])
        return result
    }
}

@Suite(.serialized, needsLocalServer) struct BackupDrillTests {
    let client = makeClient(endpoint: localEndpoint)
    let checksummer = MultisetContentChecksummer()

    func tableWithItems(_ count: Int) async throws -> (String, [Item]) {
        let table = try await makeTable(client, prefix: "bk-drill")
        let items = sampleItems(count)
        try await writeAll(client, table, items)
        return (table, items)
    }

    func store() -> BackupStateStore { BackupStateStore(directory: TestEnvironment.temporaryDirectory("bk-state")) }

    @Test func backupCreateRecordsTheChecksumTakenJustBefore() async throws {
        let (table, items) = try await tableWithItems(25)
        let store = store()
        let at = Date(timeIntervalSince1970: 1_795_780_800)  // 2026-11-27 12:00:00 UTC
        let record = try await BackupManager(client: client, store: store).create(table: table, now: at)
        #expect(record.backupName == "\(table)-20261127-120000")
        #expect(record.table == table)
        #expect(record.itemCount == 25)
        #expect(record.contentChecksum == checksummer.checksum(items: items))
        let (records, skipped) = try store.backups()
        #expect(skipped == [])
        #expect(records.map(\.backupArn) == [record.backupArn])
        #expect(records.map(\.contentChecksum) == [record.contentChecksum])
        let listed = try await client.listBackups(table: table)
        #expect(listed.map(\.arn) == [record.backupArn])
        #expect(listed.map(\.status) == ["AVAILABLE"])
    }

    @Test func drillFromTheLatestBackupPassesAndCleansUp() async throws {
        let (table, _) = try await tableWithItems(40)
        let store = store()
        let first = try await BackupManager(client: client, store: store).create(table: table, now: Date(timeIntervalSince1970: 1_795_780_800))
        let latest = try await BackupManager(client: client, store: store).create(table: table, now: Date(timeIntervalSince1970: 1_795_780_801))
        #expect(first.backupArn != latest.backupArn)
        let drill = try await RestoreDrill(client: client, store: store).run(
            table: table, from: .latestBackup, options: DrillOptions(rtoSeconds: 4 * 3600), now: Date(timeIntervalSince1970: 1_795_780_900))
        #expect(drill.error == nil)
        #expect(drill.sourceReference == latest.backupArn)
        #expect(drill.scratchTable == "\(table)-drill-20261127120140")
        #expect(drill.phases.map(\.name) == ["restore requested", "ACTIVE", "validated"])
        #expect(drill.expectedChecksum == latest.contentChecksum)
        #expect(drill.actualChecksum == latest.contentChecksum)
        #expect(drill.validation == .passed)
        #expect(drill.rtoMet == true)
        #expect(drill.passed)
        #expect(try await client.describeTableIfExists(drill.scratchTable) == nil)
        #expect(try store.drills().records == [drill])
    }

    @Test func drillFailsWhenAWriteRacedTheBackup() async throws {
        let (table, items) = try await tableWithItems(20)
        let store = store()
        let record = try await BackupManager(client: client, store: store, checksummer: RacingWriteChecksummer()).create(table: table)
        // The record describes the 20 items; the table (and the backup) hold 21.
        #expect(record.contentChecksum == checksummer.checksum(items: items))
        #expect(try await scanAll(client, table).count == 21)
        let drill = try await RestoreDrill(client: client, store: store).run(table: table, from: .backup(arn: record.backupArn))
        #expect(drill.error == nil)
        #expect(drill.validation == .failed)
        #expect(drill.actualChecksum?.itemCount == 21)
        #expect(drill.expectedChecksum?.itemCount == 20)
        #expect(!drill.passed)
        #expect(try await client.describeTableIfExists(drill.scratchTable) == nil)
    }

    @Test func drillWithoutARecordedChecksumIsNotAPass() async throws {
        let (table, _) = try await tableWithItems(5)
        let backup = try await client.createBackup(table: table, name: "by-hand")
        try await client.waitUntilBackupAvailable(backup.arn, pollInterval: .milliseconds(50))
        let drill = try await RestoreDrill(client: client, store: store()).run(
            table: table, from: .backup(arn: backup.arn), options: DrillOptions(keepScratchTable: true))
        #expect(drill.validation == .notCompared)
        #expect(drill.expectedFrom == "none")
        #expect(drill.actualChecksum?.itemCount == 5)
        #expect(!drill.passed)
        #expect(drill.kept)
        #expect(try await client.describeTableIfExists(drill.scratchTable) != nil)
        try await client.deleteTable(drill.scratchTable)
    }

    @Test func missedRTOFailsTheDrill() async throws {
        let (table, _) = try await tableWithItems(5)
        let store = store()
        _ = try await BackupManager(client: client, store: store).create(table: table)
        let drill = try await RestoreDrill(client: client, store: store).run(
            table: table, from: .latestBackup,
            options: DrillOptions(rtoSeconds: 1e-9))
        #expect(drill.validation == .passed)
        #expect(drill.rtoMet == false)
        #expect(!drill.passed)
    }

    @Test func pointInTimeDrillComparesWithTheCurrentSourceAndSaysSo() async throws {
        let (table, items) = try await tableWithItems(10)
        // Without PITR there is nothing to restore to a point in time (moto would restore anyway).
        let refused = try await RestoreDrill(client: client, store: store()).run(table: table, from: .pointInTime(.latest))
        #expect(!refused.passed)
        #expect(refused.error?.hasPrefix("point-in-time recovery is off for \(table)") == true)
        #expect(try await client.describeTableIfExists(refused.scratchTable) == nil)

        try await client.updateContinuousBackups(table: table, pointInTimeRecovery: true)
        let drill = try await RestoreDrill(client: client, store: store()).run(table: table, from: .pointInTime(.latest))
        #expect(drill.sourceKind == .pitr)
        #expect(drill.expectedFrom == "current source table (no checksum is recorded for a point in time)")
        #expect(drill.actualChecksum == checksummer.checksum(items: items))
        #expect(drill.passed)
    }

    @Test func drillFromAnExportPassesAndFailsOnForgedContent() async throws {
        let items = sampleItems(30, sortKey: true)
        let (table, result) = try await exportFixture(client, items: items, segments: 2)
        let store = store()
        let good = try await RestoreDrill(client: client, store: store).run(table: table, from: .export(result.location.directory))
        #expect(good.phases.map(\.name) == ["created and imported", "validated"])
        #expect(good.expectedFrom == "checksum recorded in the export's manifest-summary.json")
        #expect(good.actualChecksum == checksummer.checksum(items: items))
        #expect(good.passed)

        try forgeOneItem(in: result)
        let forged = try await RestoreDrill(client: client, store: store).run(
            table: table, from: .export(result.location.directory),
            now: Date().addingTimeInterval(5))
        #expect(forged.error == nil)
        #expect(forged.validation == .failed)
        #expect(forged.actualChecksum?.itemCount == 30)
        #expect(forged.actualChecksum != forged.expectedChecksum)
        #expect(try store.drills().records.map(\.passed) == [true, false])
    }

    @Test func livePolicyVerdictFailsThenPassesOnceEnforced() async throws {
        let prefix = "bk-policy-\(UInt32.random(in: 0...UInt32.max))"
        let table = "\(prefix)-orders"
        try await client.createTable(CreateTableInput(name: table, keySchema: KeySchema(partitionKey: KeyAttribute(name: "pk", type: .string))))
        try await client.waitUntilActive(table, pollInterval: .milliseconds(50))
        try await writeAll(client, table, sampleItems(3))
        let policy = try BackupPolicy.parse(
            yaml: """
                version: 1
                policies:
                  - name: live
                    tables: ["\(prefix)-*"]
                    pitr: { required: true, recoveryPeriodDays: 7 }
                    rpo: 1h
                    retention: { daily: 7, weekly: 4, monthly: 3 }
                """, file: "live.yaml")
        let before = try await BackupPolicyAuditor(client: client).audit(policy)
        #expect(before.map(\.name) == [table])
        #expect(before.first?.verdict.violations == [.pitrDisabled, .noBackups])

        try await client.updateContinuousBackups(table: table, pointInTimeRecovery: true, recoveryPeriodInDays: 7)
        _ = try await BackupManager(client: client, store: store()).create(table: table)
        let after = try await BackupPolicyAuditor(client: client).audit(policy)
        #expect(after.first?.verdict.violations == [])
        #expect(after.first?.verdict.backupCount == 1)
    }
}
