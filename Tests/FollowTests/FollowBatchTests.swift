import DynamoClient
import DynamoCore
import Testing

// Records written in batches keep their order: a key never appears twice in one batch.
@testable import Follow

@Suite struct FollowBatchTests {
    func put(_ k: String) -> (table: String, key: Item, request: WriteRequest) {
        ("t", ["id": .s(k)], .put(["id": .s(k), "v": .s("x")]))
    }
    func pending(_ seq: String) -> FollowBatch.Pending {
        FollowBatch.Pending(record: StreamRecord(eventName: .insert, keys: [:], sequenceNumber: seq), skipped: false, changes: [])
    }

    @Test func aSecondWriteToAKeyOrThe26thWriteClosesTheBatch() {
        var batch = FollowBatch()
        #expect(batch.canTake([put("a")]))
        batch.add([put("a")], pending: pending("1"))
        #expect(!batch.canTake([put("a")]), "the same key twice in one BatchWriteItem would lose the order")
        #expect(batch.canTake([put("b")]))
        #expect(FollowBatch().canTake([]))
        for i in 0..<24 { batch.add([put("k\(i)")], pending: pending("\(i + 2)")) }
        #expect(batch.count == 25)
        #expect(!batch.canTake([put("z")]))
        #expect(batch.canTake([]), "a record without writes (filtered) rides along")
        let taken = batch.take()
        #expect(taken.pending.map(\.record.sequenceNumber) == ["1"] + (2...25).map(String.init))
        #expect(taken.requests["t"]?.count == 25)
        #expect(batch.isEmpty && batch.count == 0)
    }

    @Test func aRecordsDeleteAndPutOnOneKeyNeverShareABatch() {
        let both: [(table: String, key: Item, request: WriteRequest)] = [("t", ["id": .s("a")], .delete(key: ["id": .s("a")])), put("a")]
        #expect(!FollowBatch().canTake(both))
    }
}
