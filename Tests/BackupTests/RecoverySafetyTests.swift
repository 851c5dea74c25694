import Backup
import DynamoClient
import DynamoCore
import Foundation
import RunState
import TableIO
import TestSupport
import Testing

/// The restore paths refuse what would give a false sense of safety.
@Suite(needsLocalServer) struct RecoverySafetyTests {
    let client = makeClient(endpoint: localEndpoint)

    @Test func importRefusesADamagedExportAndLoadsNothing() async throws {
        let (source, result) = try await exportFixture(client, items: sampleItems(30, sortKey: true), segments: 1)
        try forgeOneItem(in: result)
        let target = TestEnvironment.uniqueTableName("bk-import-refused")
        let run = try TestEnvironment.runCLI([
            "import", result.location.directory.path, "--table", target, "--create",
            "--endpoint-url", localEndpoint,
        ])
        #expect(run.status == 1)
        #expect(run.stderr.hasPrefix("error: the export in \(result.location.directory.path) does not verify, so nothing was loaded:"))
        #expect(try await client.describeTableIfExists(target) == nil, "no table was created")
        try await client.deleteTable(source)
    }

    @Test func aDrillFromAnotherTablesExportFails() async throws {
        let (source, result) = try await exportFixture(client, items: sampleItems(10, sortKey: true), segments: 1)
        let other = try await makeTable(client, prefix: "bk-other", sortKey: KeyAttribute(name: "sk", type: .number))
        let drill = try await RestoreDrill(client: client, store: BackupStateStore(directory: TestEnvironment.temporaryDirectory("bk-drill")))
            .run(table: other, from: .export(result.location.directory))
        #expect(!drill.passed)
        #expect(drill.error == "the export in \(result.location.directory.path) is of table \(source), not \(other)")
        try await client.deleteTable(other)
        try await client.deleteTable(source)
    }
}
