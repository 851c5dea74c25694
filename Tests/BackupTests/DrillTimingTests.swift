import Backup
import DynamoClient
import DynamoCore
import Foundation
import RunState
import TableIO
import TestSupport
import Testing

/// Drills within DynamoDB's limits: scratch table names of at most 255 characters, and a point in
/// time inside the table's recovery window (checked against DescribeContinuousBackups first).
@Suite(.serialized, needsLocalServer)
struct DrillTimingTests {
    let client = makeClient(endpoint: localEndpoint)
    let at = Date(timeIntervalSince1970: 1_795_780_800)  // 2026-11-27 12:00:00 UTC

    func store() -> BackupStateStore { BackupStateStore(directory: TestEnvironment.temporaryDirectory("drill-timing")) }

    @Test func scratchNamesAreCutTo255CharactersAndStayUniqueAndRecognisable() {
        let short = "orders"
        #expect(RestoreDrill.scratchName(for: short, at: at) == "orders-drill-20261127120000")
        let fits = String(repeating: "a", count: 234)
        #expect(RestoreDrill.scratchName(for: fits, at: at) == fits + "-drill-20261127120000", "exactly 255: not cut")
        let long1 = String(repeating: "t", count: 240) + "-one"
        let long2 = String(repeating: "t", count: 240) + "-two"
        let name1 = RestoreDrill.scratchName(for: long1, at: at)
        let name2 = RestoreDrill.scratchName(for: long2, at: at)
        #expect(name1.count == 255)
        #expect(name2.count == 255)
        #expect(name1 != name2, "tables that share the first 225 characters get different scratch tables")
        #expect(name1.hasPrefix(String(repeating: "t", count: 225) + "-"))
        #expect(name1.hasSuffix("-drill-20261127120000"))
        #expect(name1 == RestoreDrill.scratchName(for: long1, at: at), "the same on every run")
        #expect(name1.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
    }

    @Test func backupNamesOfLongTablesKeepTheirTimestampAndStayDistinct() {
        let long1 = String(repeating: "t", count: 240) + "-one"
        let long2 = String(repeating: "t", count: 240) + "-two"
        let later = at.addingTimeInterval(1)
        let names = [(long1, at), (long1, later), (long2, at)].map {
            BackupManager.backupName(template: BackupManager.defaultNameTemplate, table: $0.0, at: $0.1)
        }
        #expect(names.map(\.count) == [255, 255, 255])
        #expect(names[0].hasSuffix("-20261127-120000") && names[1].hasSuffix("-20261127-120001"), "the timestamp survives")
        #expect(Set(names).count == 3, "two runs, or two tables sharing a long beginning, never share a name")
        #expect(names[0].hasPrefix(String(repeating: "t", count: 230) + "-"))
        #expect(BackupManager.backupName(template: BackupManager.defaultNameTemplate, table: "orders", at: at) == "orders-20261127-120000")
        #expect(BackupManager.backupName(template: "nightly {table} {date}", table: "orders", at: at) == "nightly-orders-20261127")
        #expect(BackupManager.backupName(template: "{table}-{unknown}", table: "orders", at: at) == "orders--unknown-")
    }

    @Test func aDrillOfATableWithALongNameRestoresIntoAValidScratchTable() async throws {
        let base = TestEnvironment.uniqueTableName("long")
        let table = base + "-" + String(repeating: "x", count: 250 - base.count - 1)
        #expect(table.count == 250)
        try await client.createTable(CreateTableInput(name: table, keySchema: KeySchema(partitionKey: KeyAttribute(name: "pk", type: .string))))
        try await client.waitUntilActive(table, pollInterval: .milliseconds(50))
        try await writeAll(client, table, sampleItems(12))
        // A backup with a short name: `backup create`'s own name (<table>-<timestamp>) is as long as the table's.
        let backup = try await client.createBackup(table: table, name: "long-name-drill")
        try await client.waitUntilBackupAvailable(backup.arn, pollInterval: .milliseconds(50))
        let drill = try await RestoreDrill(client: client, store: store()).run(table: table, from: .backup(arn: backup.arn), now: at)
        #expect(drill.error == nil)
        #expect(drill.scratchTable.count == 255)
        #expect(drill.scratchTable.hasSuffix("-drill-20261127120000"))
        #expect(drill.phases.map(\.name) == ["restore requested", "ACTIVE", "validated"], "restored and scanned")
        #expect(try await client.describeTableIfExists(drill.scratchTable) == nil, "cleaned up")
        try await client.deleteBackup(arn: backup.arn)
        try await client.deleteTable(table)
    }

    @Test func aScratchTableWithA255CharacterNameIsRecordedFoundAgainAndForgotten() throws {
        let store = store()
        let name = RestoreDrill.scratchName(for: String(repeating: "n", count: 250), at: at)
        #expect(name.count == 255)
        try store.recordScratchTable(name, endpoint: "http://127.0.0.1:1")
        try store.recordScratchTable("short-drill-1", endpoint: "http://127.0.0.1:2")
        #expect(store.scratchTables().map(\.name).sorted() == ["short-drill-1", name].sorted())
        #expect(store.scratchTables().first { $0.name == name }?.endpoint == "http://127.0.0.1:1")
        store.forgetScratchTable(name)
        #expect(store.scratchTables().map(\.name) == ["short-drill-1"])
    }

    @Test func aPointInTimeOutsideTheRecoveryWindowIsRefusedNamingTheWindow() async throws {
        let table = try await makeTable(client, prefix: "drill-window")
        try await client.updateContinuousBackups(table: table, pointInTimeRecovery: true)
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        // AWS keeps 35 days at most; this window is 2026-11-20 12:00 to 2026-11-27 12:00 UTC.
        proxy.inject(
            .rewriteMember(
                "ContinuousBackupsDescription.PointInTimeRecoveryDescription",
                json: #"{"PointInTimeRecoveryStatus":"ENABLED","EarliestRestorableDateTime":1795176000,"LatestRestorableDateTime":1795780800}"#),
            operation: "DescribeContinuousBackups", times: 2)
        let faulty = makeClient(endpoint: proxy.endpoint)
        let drill = RestoreDrill(client: faulty, store: store())
        let tooEarly = try await drill.run(table: table, from: .pointInTime(.at(Date(timeIntervalSince1970: 1_795_000_000))), now: at)
        #expect(
            tooEarly.error
                == "--pitr 2026-11-18T11:06:40.000Z is before the point-in-time recovery window of \(table), which is 2026-11-20T12:00:00.000Z to 2026-11-27T12:00:00.000Z (EarliestRestorableDateTime to LatestRestorableDateTime): choose a time inside it, or --pitr latest"
        )
        let tooLate = try await drill.run(table: table, from: .pointInTime(.at(at.addingTimeInterval(60))), now: at)
        #expect(tooLate.error?.hasPrefix("--pitr 2026-11-27T12:01:00.000Z is after the point-in-time recovery window of \(table)") == true)
        #expect(!proxy.log.contains { $0.operation == "RestoreTableToPointInTime" }, "nothing restored")
        #expect(tooEarly.passed == false)
        try await client.deleteTable(table)
    }
}
