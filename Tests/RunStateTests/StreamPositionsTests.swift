// The follow's positions: a typed, versioned record through the StateStore.
import Foundation
import RunState
import TestSupport
import Testing

@Suite struct StreamPositionsTests {
    @Test func positionsRoundTripAndANewerFormatIsRefusedNamingTheFile() throws {
        let store = LocalDirectoryStateStore(directory: TestEnvironment.temporaryDirectory("positions"))
        #expect(try store.loadStreamPositions() == nil)
        let captured = Date(timeIntervalSince1970: 1_800_000_000.25)
        var positions = StreamPositions(planFingerprint: "fp", endpoint: "http://127.0.0.1:8000")
        var source = SourceStreamPosition(table: "orders", streamArn: "arn:s", capturedAt: captured, applyFrom: captured.addingTimeInterval(-900))
        source.shards["p"] = ShardProgress(shardId: "p", parentShardId: nil, lastSequenceNumber: "1100000000017454423011", finished: true, recordsApplied: 3)
        source.shards["c"] = ShardProgress(shardId: "c", parentShardId: "p", readSince: captured)
        source.outcome = FollowOutcome(drainedAt: captured.addingTimeInterval(60), lastRecordAt: captured, recordsApplied: 3)
        positions.sources["orders"] = source
        try store.saveStreamPositions(positions)
        var loaded = try #require(try store.loadStreamPositions())
        #expect(loaded.formatVersion == 1)
        loaded.formatVersion = nil
        #expect(loaded == positions)

        let path = store.url(of: StreamPositions.fileName).path
        var text = try String(contentsOfFile: path, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"formatVersion\" : 1", with: "\"formatVersion\" : 2")
        try store.replace(StreamPositions.fileName, with: Data(text.utf8))
        #expect(throws: StateFileError.newerFormat(path: path, record: "stream positions record", found: 2, supported: 1)) {
            try store.loadStreamPositions()
        }
    }
}
