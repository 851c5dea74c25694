import Foundation
import RunState
import TableIO
import Testing
import TestSupport
import Verification

/// A broken verification.json is named, with where it is broken and what to do.
@Suite struct VerificationRecordFileTests {
    @Test func aBrokenRecordNamesTheFileAndTheFix() throws {
        let directory = TestEnvironment.temporaryDirectory("verification")
        #expect(try VerificationRecord.read(from: directory) == nil)
        let path = directory.appendingPathComponent("verification.json").path
        try Data(#"{"verifiedAt":"2026-11-30T07:00:00Z","mapping":"m.yaml","format":"dmc1","matched":"yes","targets":[]}"#.utf8)
            .write(to: URL(fileURLWithPath: path))
        do {
            _ = try VerificationRecord.read(from: directory)
            Issue.record("a broken record was read")
        } catch {
            #expect("\(error)" == "\(path): not a valid verification record ('matched' is not true or false); run `dynamo-migrate verify` again to record a new one")
        }
    }
}
