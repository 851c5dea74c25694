import DynamoClient
import DynamoCore
import Foundation
import RunState
import TableIO
import TestSupport
import Testing

// Attribute names and string values that Swift calls equal but DynamoDB keeps apart ("é" as U+00E9 and as
// "e" + U+0301) survive a backup, its restore drill and the drill's validation as two attributes.
@testable import Backup

private let nfc = "\u{E9}", nfd = "e\u{301}"

@Suite(.serialized, needsLocalServer) struct ByteNameDrillTests {
    let client = makeClient(endpoint: localEndpoint)
    let checksummer = MultisetContentChecksummer()

    /// Items holding both spellings as names (top level and nested), as values and as partition keys.
    var items: [Item] {
        [
            [
                "pk": .s(nfc), AttributeName(nfc): .s("nfc"), AttributeName(nfd): .s("nfd"),
                "m": .m([AttributeName(nfc): .n(DynamoNumber(1)), AttributeName(nfd): .n(DynamoNumber(2))]),
                "ss": .ss([nfc, nfd]),
            ],
            ["pk": .s(nfd), AttributeName(nfc): .s(nfd)],
        ]
    }

    @Test func aBackupDrillRestoresBothSpellingsAndValidatesThem() async throws {
        let table = try await makeTable(client, prefix: "bk-bytes")
        try await writeAll(client, table, items)
        let stored = try await scanAll(client, table)
        #expect(stored.count == 2, "DynamoDB (moto) keeps both partition keys apart")
        #expect(stored.first { $0["pk"] == .s(nfc) }?.count == 5, "five attributes: pk, both spellings, m, ss")

        let store = BackupStateStore(directory: TestEnvironment.temporaryDirectory("bk-bytes-state"))
        let backup = try await BackupManager(client: client, store: store).create(table: table)
        #expect(backup.itemCount == 2)
        #expect(backup.contentChecksum == checksummer.checksum(items: items))

        // Folding the two spellings into one would be another checksum: the drill's comparison can tell.
        let folded: [Item] = [
            ["pk": .s(nfc), AttributeName(nfc): .s("nfd"), "m": .m([AttributeName(nfc): .n(DynamoNumber(2))]), "ss": .ss([nfc])],
            ["pk": .s(nfd), AttributeName(nfc): .s(nfd)],
        ]
        #expect(checksummer.checksum(items: folded) != backup.contentChecksum)

        let drill = try await RestoreDrill(client: client, store: store).run(table: table, from: .latestBackup)
        #expect(drill.error == nil)
        #expect(drill.passed)
        #expect(drill.actualChecksum == checksummer.checksum(items: items))
        #expect(try await client.describeTableIfExists(drill.scratchTable) == nil)
        try await client.deleteTable(table)
    }
}
