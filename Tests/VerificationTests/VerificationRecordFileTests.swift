import Foundation
import RunState
import TableIO
import TestSupport
import Testing
import Verification

/// A broken verification.json is named, with where it is broken and what to do.
@Suite struct VerificationRecordFileTests {
    @Test func aBrokenRecordNamesTheFileAndTheFix() throws {
        let directory = TestEnvironment.temporaryDirectory("verification")
        #expect(try LocalDirectoryStateStore(directory: directory).loadVerification() == nil)
        let path = directory.appendingPathComponent("verification.json").path
        try Data(#"{"verifiedAt":"2026-11-30T07:00:00Z","mapping":"m.yaml","format":"dmc1","matched":"yes","targets":[]}"#.utf8)
            .write(to: URL(fileURLWithPath: path))
        do {
            _ = try LocalDirectoryStateStore(directory: directory).loadVerification()
            Issue.record("a broken record was read")
        } catch {
            #expect("\(error)" == "\(path): not a valid verification record ('matched' is not true or false); move the file aside, or pass another --state-dir")
        }
    }
}
