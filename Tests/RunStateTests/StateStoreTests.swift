import Foundation
import RunState
import TestSupport
import Testing

/// The local state store: one permission policy, versioned records, conditional replace.
@Suite struct StateStoreTests {
    func permissions(_ url: URL) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int)
    }

    func checkpoint() -> MigrationCheckpoint {
        var checkpoint = MigrationCheckpoint(planFingerprint: "plan-1", startedAt: Date(timeIntervalSince1970: 1_795_000_000))
        checkpoint.sources["t/s"] = SourceProgress(source: "s", target: "t", totalSegments: 2)
        return checkpoint
    }

    @Test func recordsAreOwnerOnlyFilesInOwnerOnlyDirectories() throws {
        let root = TestEnvironment.temporaryDirectory("state-perm")
        let state = root.appendingPathComponent("state")
        let store = LocalDirectoryStateStore(directory: state)
        try store.saveCheckpoint(checkpoint())
        try store.append(line: Data("{}".utf8), to: "dead-letters.jsonl")
        try BackupStateStore(directory: state.appendingPathComponent("backups"))
            .recordScratchTable("orders-drill-1", endpoint: "http://127.0.0.1:1")

        #expect(try permissions(state) == 0o700)
        #expect(try permissions(state.appendingPathComponent("backups/scratch-tables")) == 0o700)
        #expect(try permissions(state.appendingPathComponent("checkpoint.json")) == 0o600)
        #expect(try permissions(state.appendingPathComponent("dead-letters.jsonl")) == 0o600)
        #expect(try permissions(state.appendingPathComponent("backups/scratch-tables/orders-drill-1")) == 0o600)
    }

    @Test func aLogCreatedWorldReadableByAnOlderVersionIsNarrowedOnAppend() throws {
        let state = TestEnvironment.temporaryDirectory("state-narrow")
        let log = state.appendingPathComponent("backups.jsonl")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: log.path, contents: Data(), attributes: [.posixPermissions: 0o644])
        try LocalDirectoryStateStore(directory: state).append(line: Data("{}".utf8), to: "backups.jsonl")
        #expect(try permissions(log) == 0o600)
    }

    @Test func aSymlinkedRecordIsRefusedAndNothingIsWrittenThroughIt() throws {
        let state = TestEnvironment.temporaryDirectory("state-link")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        let elsewhere = state.appendingPathComponent("elsewhere.txt")
        try Data("untouched\n".utf8).write(to: elsewhere)
        let store = LocalDirectoryStateStore(directory: state)
        for name in ["dead-letters.jsonl", "checkpoint.json"] {
            try FileManager.default.createSymbolicLink(atPath: state.appendingPathComponent(name).path, withDestinationPath: elsewhere.path)
        }
        #expect(throws: StateFileError.notAFile(path: store.location(of: "dead-letters.jsonl"), what: "a symbolic link")) {
            try store.append(line: Data("{}".utf8), to: "dead-letters.jsonl")
        }
        #expect(throws: StateFileError.notAFile(path: store.location(of: "checkpoint.json"), what: "a symbolic link")) {
            try store.replace("checkpoint.json", with: Data("{}".utf8))
        }
        #expect(throws: StateFileError.notAFile(path: store.location(of: "checkpoint.json"), what: "a symbolic link")) {
            _ = try store.read("checkpoint.json")
        }
        #expect(try String(contentsOf: elsewhere, encoding: .utf8) == "untouched\n")
    }

    @Test func aRecordInAFutureFormatIsRefusedNamingTheFile() throws {
        let state = TestEnvironment.temporaryDirectory("state-future")
        let store = LocalDirectoryStateStore(directory: state)
        try store.saveCheckpoint(checkpoint())
        let path = state.appendingPathComponent("checkpoint.json")
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as? [String: Any])
        #expect(json["formatVersion"] as? Int == 1)
        json["formatVersion"] = 2
        try JSONSerialization.data(withJSONObject: json).write(to: path)
        do {
            _ = try store.loadCheckpoint()
            Issue.record("a checkpoint in format 2 was read")
        } catch let error as CheckpointError {
            #expect(
                error.description
                    == "cannot read the checkpoint \(path.path): format version 2, written by a newer dynamo-migrate (this one reads up to version 1); upgrade, or pass another --state-dir"
            )
        }

        // A log with one line in a newer format is refused whole, naming the file and the line.
        let backups = BackupStateStore(directory: state)
        try Data("{\"formatVersion\":7}\n".utf8).write(to: backups.drillsFile)
        #expect(throws: StateFileError.newerFormat(path: "\(backups.drillsFile.path), line 1", record: "drill record", found: 7, supported: 1)) {
            _ = try backups.drills()
        }
        #expect(
            "\(StateFileError.newerFormat(path: "/s/drills.jsonl, line 1", record: "drill record", found: 7, supported: 1))"
                == "/s/drills.jsonl, line 1: not a valid drill record (format version 7; this dynamo-migrate reads up to version 1): it was written by a newer dynamo-migrate; upgrade, or pass another --state-dir"
        )
    }

    @Test func recordsWrittenBeforeFormatVersionsStillRead() throws {
        let state = TestEnvironment.temporaryDirectory("state-old")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        // As written by earlier versions: no formatVersion anywhere.
        try Data(
            """
            {"planFingerprint":"old","sources":{},"startedAt":"2026-11-01T00:00:00Z","updatedAt":"2026-11-01T00:00:00Z","endpoint":"http://h:8000/"}
            """.utf8
        ).write(to: state.appendingPathComponent("checkpoint.json"))
        let drill = """
            {"table":"orders","scratchTable":"orders-drill-1","sourceKind":"pitr","sourceReference":"latest","startedAt":"2026-11-01T00:00:00.250Z","phases":[],"measuredRTOSeconds":12.5,"expectedFrom":"","validation":"not-compared","kept":false,"notes":[]}
            """
        try Data((drill + "\n" + "{\"table\":\"cut sh" + "\n").utf8).write(to: state.appendingPathComponent("drills.jsonl"))

        let checkpoint = try #require(try LocalDirectoryStateStore(directory: state).loadCheckpoint())
        #expect(checkpoint.planFingerprint == "old")
        #expect(checkpoint.formatVersion == nil)
        #expect(checkpoint.endpoint == "http://h:8000")
        let (drills, skipped) = try BackupStateStore(directory: state).drills()
        #expect(drills.map(\.sourceKind) == [.pitr])
        #expect(drills.map(\.validation) == [.notCompared])
        #expect(drills.first?.formatVersion == nil)
        #expect(skipped == [2])
    }

    @Test func recordedStatesRoundTripAsTheStringsTheyAlwaysWere() throws {
        let state = TestEnvironment.temporaryDirectory("state-enums")
        let backups = BackupStateStore(directory: state)
        try backups.appendDrill(
            DrillRecord(
                table: "t", scratchTable: "t-drill", sourceKind: .export, sourceReference: "/x",
                startedAt: Date(timeIntervalSince1970: 0), phases: [], measuredRTOSeconds: 1,
                rtoTargetSeconds: nil, expectedChecksum: nil, expectedFrom: "", actualChecksum: nil,
                validation: .notCompared, kept: false, notes: [], error: nil))
        let line = try String(contentsOf: backups.drillsFile, encoding: .utf8)
        #expect(line.contains("\"sourceKind\":\"export\""))
        #expect(line.contains("\"validation\":\"not-compared\""))
        #expect(line.contains("\"formatVersion\":1"))
        #expect(line.hasSuffix("}\n") && line.split(separator: "\n").count == 1)
    }

    @Test func aConditionalReplaceRefusesAStaleGeneration() throws {
        let state = TestEnvironment.temporaryDirectory("state-generation")
        let store = LocalDirectoryStateStore(directory: state)
        #expect(try store.read("doc.json") == nil)
        let first = try store.replace("doc.json", with: Data("one".utf8), expectedGeneration: 0)
        #expect(first == 1)
        // Two writers read generation 1; the first to write wins, the second is refused.
        let second = try store.replace("doc.json", with: Data("two".utf8), expectedGeneration: 1)
        #expect(second == 2)
        #expect(throws: StateFileError.staleGeneration(path: store.location(of: "doc.json"), expected: 1, found: 2)) {
            try store.replace("doc.json", with: Data("stale".utf8), expectedGeneration: 1)
        }
        // "Create only" is refused once the document exists.
        #expect(throws: StateFileError.staleGeneration(path: store.location(of: "doc.json"), expected: 0, found: 2)) {
            try store.replace("doc.json", with: Data("new".utf8), expectedGeneration: 0)
        }
        #expect(try store.read("doc.json") == StoredDocument(data: Data("two".utf8), generation: 2))
        // Typed records carry the generation too.
        let saved = try store.save(checkpoint(), to: "checkpoint.json", expectedGeneration: 0)
        #expect(try store.load(MigrationCheckpoint.self, from: "checkpoint.json")?.generation == saved)
    }

    @Test func aDocumentThatIsNotAValidRecordIsNamedWithWhatToDo() throws {
        let state = TestEnvironment.temporaryDirectory("state-garbage")
        let store = LocalDirectoryStateStore(directory: state)
        try store.replace("verification.json", with: Data("{\"verifiedAt\":3}".utf8))
        #expect(throws: StateFileError.self) { _ = try store.loadVerification() }
        do { _ = try store.loadVerification() } catch {
            #expect("\(error)".hasPrefix("\(store.location(of: "verification.json")): not a valid verification record ("))
            #expect("\(error)".hasSuffix("); move the file aside, or pass another --state-dir"))
        }
    }
}
