import DynamoClient
import DynamoCore
import Foundation
import RunState
import TableIO
import TestSupport
import Testing

@testable import Backup

/// Backups, drills and imports whose CreateBackup / RestoreTableFromBackup / CreateTable answer is
/// lost on the way back (the server applied it): each must end in the state it was asked for.
@Suite(.serialized, needsLocalServer) struct LostAnswerBackupTests {
    let client = makeClient(endpoint: localEndpoint)

    func store() -> BackupStateStore { BackupStateStore(directory: TestEnvironment.temporaryDirectory("bk-lost")) }

    func withProxy(_ operation: String, _ body: (DynamoDBClient) async throws -> Void) async throws {
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        proxy.inject(.resetAfterForwarding, operation: operation, times: 1)
        try await body(makeClient(endpoint: proxy.endpoint))
        #expect(proxy.counters.applied(.resetAfterForwarding) == 1, "the \(operation) answer was lost")
    }

    @Test func backupCreateWithALostAnswerRecordsExactlyOneBackup() async throws {
        let table = try await makeTable(client, prefix: "bk-lost-create")
        try await writeAll(client, table, sampleItems(12))
        let store = store()
        var record: BackupRecord?
        try await withProxy("CreateBackup") { faulty in
            record = try await BackupManager(client: faulty, store: store).create(table: table)
        }
        let listed = try await client.listBackups(table: table)
        #expect(listed.map(\.arn) == [try #require(record).backupArn], "exactly one backup, and it is the recorded one")
        #expect(try store.backups().records.map(\.backupArn) == listed.map(\.arn))
        #expect(record?.itemCount == 12)
        for backup in listed { try await client.deleteBackup(arn: backup.arn) }
        try await client.deleteTable(table)
    }

    @Test func drillWithALostRestoreAnswerPassesAndLeavesNoScratchTable() async throws {
        let table = try await makeTable(client, prefix: "bk-lost-drill")
        try await writeAll(client, table, sampleItems(20))
        let store = store()
        let backup = try await BackupManager(client: client, store: store).create(table: table)
        var drill: DrillRecord?
        try await withProxy("RestoreTableFromBackup") { faulty in
            drill = try await RestoreDrill(client: faulty, store: store).run(table: table, from: .backup(arn: backup.backupArn))
        }
        let record = try #require(drill)
        #expect(record.error == nil)
        #expect(record.validation == .passed)
        #expect(record.passed)
        #expect(record.notes.contains("the answer to RestoreTableFromBackup was lost; the scratch table it made was adopted"))
        #expect(try await client.describeTableIfExists(record.scratchTable) == nil, "the scratch table is deleted")
        #expect(store.scratchTables().isEmpty, "nothing left to clean up")
        try await client.deleteBackup(arn: backup.backupArn)
        try await client.deleteTable(table)
    }

    @Test func aScratchTableLeftByAKilledDrillIsDeletedByTheNextDrill() async throws {
        let table = try await makeTable(client, prefix: "bk-left-drill")
        try await writeAll(client, table, sampleItems(8))
        let store = store()
        let backup = try await BackupManager(client: client, store: store).create(table: table)
        // What a drill killed after its restore leaves: the recorded name and a full copy under it.
        let left = RestoreDrill.scratchName(for: table, at: Date(timeIntervalSince1970: 1_795_780_800))
        try store.recordScratchTable(left, endpoint: client.configuration.endpoint)
        try await client.restoreTableFromBackup(backupArn: backup.backupArn, targetTable: left)
        try await client.waitUntilActive(left, pollInterval: .milliseconds(50))

        let drill = try await RestoreDrill(client: client, store: store).run(table: table, from: .backup(arn: backup.backupArn))
        #expect(drill.passed)
        #expect(drill.notes.contains("deleted the scratch table \(left) left by an earlier drill"))
        #expect(try await client.describeTableIfExists(left) == nil)
        #expect(try await client.describeTableIfExists(drill.scratchTable) == nil)
        #expect(store.scratchTables().isEmpty)
        try await client.deleteBackup(arn: backup.backupArn)
        try await client.deleteTable(table)
    }

    @Test func importCreateWithALostCreateTableAnswerAdoptsTheTable() async throws {
        let items = sampleItems(40, sortKey: true)
        let (table, result) = try await exportFixture(client, items: items)
        let reader = try ExportReader.open(result.location.directory.deletingLastPathComponent().deletingLastPathComponent())
        let target = TestEnvironment.uniqueTableName("bk-lost-import")
        var imported: ImportResult?
        try await withProxy("CreateTable") { faulty in
            imported = try await TableImporter(client: faulty).importExport(reader, into: target, options: ImportOptions(createTable: true))
        }
        #expect(imported?.createdTable == true)
        #expect(imported?.itemsWritten == items.count)
        #expect(byKey(try await scanAll(client, target)) == byKey(items))
        #expect(try await client.describeTable(target).keySchema == client.describeTable(table).keySchema)
        try await client.deleteTable(target)
        try await client.deleteTable(table)
    }
}

extension LostAnswerBackupTests {
    /// `backup create` killed after CreateBackup, before its record: the next run records that backup
    /// (with the checksum taken for it) instead of leaving it unrecorded.
    @Test func aBackupLeftUnrecordedByAKilledRunIsRecordedByTheNext() async throws {
        let table = try await makeTable(client, prefix: "bk-lost-kill")
        try await writeAll(client, table, sampleItems(6))
        let store = store()
        let checksum = MultisetContentChecksummer().checksum(items: sampleItems(6))
        let name = BackupManager.backupName(
            template: BackupManager.defaultNameTemplate, table: table,
            at: Date(timeIntervalSince1970: 1_795_780_800))
        let pending = PendingBackup(
            backupName: name, table: table, endpoint: client.configuration.endpoint,
            checksumTakenAt: Date(timeIntervalSince1970: 1_795_780_799),
            requestedAt: Date(timeIntervalSince1970: 1_795_780_800), contentChecksum: checksum)
        try store.recordPendingBackup(pending)
        let made = try await client.createBackup(table: table, name: name)
        // A pending backup DynamoDB never made is simply forgotten.
        try store.recordPendingBackup(
            PendingBackup(
                backupName: "never-made", table: table, endpoint: client.configuration.endpoint,
                checksumTakenAt: Date(), requestedAt: Date(), contentChecksum: checksum))

        let next = try await BackupManager(client: client, store: store).create(table: table)
        let records = try store.backups().records
        #expect(records.map(\.backupArn) == [made.arn, next.backupArn])
        #expect(records.first?.contentChecksum == checksum)
        #expect(records.first?.backupName == name)
        #expect(store.pendingBackups().isEmpty)
        #expect(Set(try await client.listBackups(table: table).map(\.arn)) == [made.arn, next.backupArn])
        for backup in try await client.listBackups(table: table) { try await client.deleteBackup(arn: backup.arn) }
        try await client.deleteTable(table)
    }
}

extension LostAnswerBackupTests {
    @Test func pointInTimeDrillWithALostRestoreAnswerPassesAndLeavesNoScratchTable() async throws {
        let table = try await makeTable(client, prefix: "bk-lost-pitr")
        try await writeAll(client, table, sampleItems(10))
        try await client.updateContinuousBackups(table: table, pointInTimeRecovery: true)
        let store = store()
        var drill: DrillRecord?
        try await withProxy("RestoreTableToPointInTime") { faulty in
            drill = try await RestoreDrill(client: faulty, store: store).run(table: table, from: .pointInTime(.latest))
        }
        let record = try #require(drill)
        #expect(record.error == nil)
        #expect(record.passed)
        #expect(record.notes.contains("the answer to RestoreTableToPointInTime was lost; the scratch table it made was adopted"))
        #expect(try await client.describeTableIfExists(record.scratchTable) == nil)
        #expect(store.scratchTables().isEmpty)
        try await client.deleteTable(table)
    }
}
