import Foundation
import Pipeline
import RunState
import TableIO
import TestSupport
import Testing

/// A broken checkpoint.json is named, with where it is broken and what to do; never Foundation's
/// "DecodingError.dataCorrupted…".
@Suite struct StateFileErrorTests {
    func load(_ text: String) throws -> (path: String, message: String) {
        let directory = TestEnvironment.temporaryDirectory("checkpoint")
        let store = FileCheckpointStore(directory: directory)
        try Data(text.utf8).write(to: store.path)
        do {
            _ = try store.load()
            Issue.record("a broken checkpoint loaded")
            return (store.path.path, "")
        } catch {
            return (store.path.path, "\(error)")
        }
    }

    static let remedy =
        "where the migration stood cannot be known from it. "
        + "Put back a good copy and rerun with --resume, or move it aside and rerun without --resume to start over."

    @Test func truncatedJSONIsPlacedByLineAndColumn() throws {
        let (path, message) = try load("{\n  \"planFingerprint\": \"abc\",\n  \"startedAt\": \"2026-")
        #expect(message.hasPrefix("\(path): not a valid checkpoint (not JSON: "), "\(message)")
        #expect(message.contains(" at line 3, column "), "\(message)")
        #expect(message.hasSuffix("); " + Self.remedy))
        #expect(!message.contains("DecodingError"))
    }

    @Test func aMissingOrMistypedMemberIsNamedByItsPath() throws {
        let missing = try load(#"{"planFingerprint":"abc","startedAt":"2026-11-30T07:00:00Z","updatedAt":"2026-11-30T07:00:00Z"}"#)
        #expect(missing.message == "\(missing.path): not a valid checkpoint ('sources' is missing); " + Self.remedy)
        let mistyped = try load(
            #"""
            {"planFingerprint":"abc","startedAt":"2026-11-30T07:00:00Z","updatedAt":"2026-11-30T07:00:00Z",
             "sources":{"t/s":{"source":"s","target":"t","totalSegments":1,"segments":[{"segment":0,"done":"yes"}]}}}
            """#)
        #expect(mistyped.message == #"\#(mistyped.path): not a valid checkpoint ('sources["t/s"].segments[0].done' is not true or false); "# + Self.remedy)
    }

    @Test func anEmptyFileSaysSo() throws {
        let (path, message) = try load("")
        #expect(message == "\(path): not a valid checkpoint (the file is empty); " + Self.remedy)
    }
}
