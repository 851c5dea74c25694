import Foundation
import RunState
import TestSupport
import Testing

/// Table and backup names may be 255 characters each; a file name may be 255 bytes, and an atomic replace
/// writes `.<name>.<pid>.tmp` first. Pending backups and scratch tables of such names must still be kept.
@Suite struct LongNameStateFileTests {
    static let table = "orders-" + String(repeating: "x", count: 248)  // 255 characters

    @Test("a pending backup of a 255-character table with a 255-character backup name is recorded, listed and forgotten")
    func pendingBackupOfALongName() throws {
        let store = BackupStateStore(directory: TestEnvironment.temporaryDirectory("long-pending"))
        let pending = PendingBackup(
            backupName: String(Self.table.prefix(240)) + "-20261130-0830",
            table: Self.table, endpoint: "http://127.0.0.1:1",
            checksumTakenAt: Date(timeIntervalSince1970: 1_796_000_000),
            requestedAt: Date(timeIntervalSince1970: 1_796_000_001),
            contentChecksum: ContentChecksum(algorithm: "dmc1-sha256-sum128", itemCount: 3, digest: "00"))
        try store.recordPendingBackup(pending)
        #expect(store.pendingBackups() == [pending])
        let files = try FileManager.default.contentsOfDirectory(atPath: store.pendingBackupsDirectory.path)
        #expect(files.filter { !$0.hasPrefix(".") }.count == 1, "\(files)")
        #expect(files.allSatisfy { $0.utf8.count <= 255 }, "every file name, the store's own dot files included, fits: \(files)")
        store.forgetPendingBackup(pending)
        #expect(store.pendingBackups().isEmpty)
    }

    @Test("a scratch table with a 255-character name is recorded, listed by its full name and forgotten; short names keep their file names")
    func scratchTableOfALongName() throws {
        let store = BackupStateStore(directory: TestEnvironment.temporaryDirectory("long-scratch"))
        try store.recordScratchTable(Self.table, endpoint: "http://127.0.0.1:1")
        try store.recordScratchTable("orders-drill-1", endpoint: "http://127.0.0.1:2")
        #expect(store.scratchTables().map(\.name).sorted() == ["orders-drill-1", Self.table])
        #expect(store.scratchTables().first { $0.name == Self.table }?.endpoint == "http://127.0.0.1:1")
        let files = try FileManager.default.contentsOfDirectory(atPath: store.scratchTablesDirectory.path)
        #expect(files.contains("orders-drill-1"))
        #expect(files.allSatisfy { $0.utf8.count <= 255 }, "\(files)")
        store.forgetScratchTable(Self.table)
        #expect(store.scratchTables().map(\.name) == ["orders-drill-1"])
    }

    @Test("a scratch-table file written before names were stored inside (the endpoint alone) is read by its file name")
    func scratchFileOfTheEarlierFormat() throws {
        let directory = TestEnvironment.temporaryDirectory("old-scratch")
        let store = BackupStateStore(directory: directory)
        try store.recordScratchTable("placeholder", endpoint: "x")  // creates the folder with its permissions
        store.forgetScratchTable("placeholder")
        try Data("http://127.0.0.1:3\n".utf8).write(to: store.scratchTablesDirectory.appendingPathComponent("orders-drill-2"))
        #expect(store.scratchTables().map(\.name) == ["orders-drill-2"])
        #expect(store.scratchTables().map(\.endpoint) == ["http://127.0.0.1:3"])
    }
}
