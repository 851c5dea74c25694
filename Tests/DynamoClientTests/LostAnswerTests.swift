import DynamoClient
import DynamoCore
import Foundation
import TestSupport
import Testing

/// Create and delete calls whose answer is lost (the server applied the request, the client never
/// heard): the retry meets the consequence, and the call must still end in the state asked for.
@Suite(needsLocalServer)
struct LostAnswerTests {
    let direct = makeClient(endpoint: localEndpoint)
    let key = KeySchema(partitionKey: KeyAttribute(name: "pk", type: .string))

    func withProxy(_ body: (FaultProxy, DynamoDBClient) async throws -> Void) async throws {
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        try await body(proxy, makeClient(endpoint: proxy.endpoint))
    }

    @Test func createTableWhoseAnswerIsLostAdoptsTheTableItMade() async throws {
        let name = TestEnvironment.uniqueTableName("lost-create")
        try await withProxy { proxy, client in
            proxy.inject(.resetAfterForwarding, operation: "CreateTable", times: 1)
            let (table, adopted) = try await client.createOrAdoptTable(CreateTableInput(name: name, keySchema: key), pollInterval: .milliseconds(50))
            #expect(adopted)
            #expect(table.status == "ACTIVE")
            #expect(table.keySchema == key)
            #expect(proxy.counters.applied(.resetAfterForwarding) == 1)
            #expect(proxy.log.filter { $0.operation == "CreateTable" }.count == 2, "the request reached the server twice")
        }
        try await direct.deleteTable(name)
    }

    @Test func aTableWithAnotherKeyIsNotAdopted() async throws {
        let name = try await makeTable(direct, prefix: "lost-other-key")
        let other = KeySchema(partitionKey: KeyAttribute(name: "id", type: .number))
        await #expect(throws: TableAdoptionError.self) {
            try await direct.createOrAdoptTable(CreateTableInput(name: name, keySchema: other), pollInterval: .milliseconds(50))
        }
        #expect(try await direct.describeTable(name).keySchema == key, "the table is left as it was")
        try await direct.deleteTable(name)
    }

    @Test func createBackupWhoseAnswerIsLostLeavesExactlyOneBackup() async throws {
        let table = try await makeTable(direct, prefix: "lost-backup")
        let name = "\(table)-once"
        try await withProxy { proxy, client in
            proxy.inject(.resetAfterForwarding, operation: "CreateBackup", times: 1)
            let summary = try await client.createBackupOnce(table: table, name: name)
            #expect(summary.name == name)
            #expect(proxy.counters.applied(.resetAfterForwarding) == 1)
            #expect(
                proxy.log.filter { $0.operation == "CreateBackup" }.count == 1,
                "sent once: the lost answer was resolved by ListBackups, not by sending it again")
        }
        let backups = try await direct.listBackups(table: table)
        #expect(backups.count == 1, "one backup, not one per attempt: \(backups.map(\.arn))")
        #expect(backups.map(\.name) == [name])
        for backup in backups { try await direct.deleteBackup(arn: backup.arn) }
        try await direct.deleteTable(table)
    }

    @Test func deleteBackupWhoseAnswerIsLostCountsAsDone() async throws {
        let table = try await makeTable(direct, prefix: "lost-delbackup")
        let backup = try await direct.createBackup(table: table, name: "\(table)-gone")
        try await withProxy { proxy, client in
            proxy.inject(.resetAfterForwarding, operation: "DeleteBackup", times: 1)
            try await client.deleteBackupIfPresent(arn: backup.arn)
            #expect(proxy.counters.applied(.resetAfterForwarding) == 1)
        }
        #expect(try await direct.listBackups(table: table).isEmpty)
        try await direct.deleteTable(table)
    }

    @Test func restoreWhoseAnswerIsLostAdoptsTheRestoredTable() async throws {
        let table = try await makeTable(direct, prefix: "lost-restore")
        try await writeAll(direct, table, sampleItems(5))
        let backup = try await direct.createBackup(table: table, name: "\(table)-r")
        let target = TestEnvironment.uniqueTableName("lost-restore-to")
        try await withProxy { proxy, client in
            proxy.inject(.resetAfterForwarding, operation: "RestoreTableFromBackup", times: 1)
            let adopted = try await client.restoreTableFromBackupOrAdopt(backupArn: backup.arn, targetTable: target)
            #expect(adopted)
            #expect(proxy.counters.applied(.resetAfterForwarding) == 1)
        }
        #expect(byKey(try await scanAll(direct, target)) == byKey(sampleItems(5)))
        try await direct.deleteTable(target)
        try await direct.deleteBackup(arn: backup.arn)
        try await direct.deleteTable(table)
    }
}
