// Shard lineage: a child shard is read only once its parent is read to its end.
import DynamoClient
import DynamoCore
import Follow
import RunState
import Testing

@Suite struct ShardLineageTests {
    func shards(_ list: [(String, String?, Bool)]) -> [String: ShardProgress] {
        Dictionary(uniqueKeysWithValues: list.map { ($0.0, ShardProgress(shardId: $0.0, parentShardId: $0.1, finished: $0.2)) })
    }

    /// A split: root → (a, b), a → (a1, a2). Only the root may be read first; its children together once
    /// it is finished; a's children only after a; an unrelated lineage (x) in parallel all along.
    @Test func childrenWaitForTheirParentAndUnrelatedShardsRunInParallel() {
        var all = shards([
            ("root", nil, false), ("a", "root", false), ("b", "root", false), ("a1", "a", false), ("a2", "a", false),
            ("x", nil, false),
        ])
        #expect(ShardLineage.readyShards(all, running: []) == ["root", "x"])
        #expect(ShardLineage.readyShards(all, running: ["root", "x"]) == [])
        all["root"]?.finished = true
        #expect(ShardLineage.readyShards(all, running: ["x"]) == ["a", "b"])
        all["b"]?.finished = true
        #expect(ShardLineage.readyShards(all, running: ["a", "x"]) == [])
        all["a"]?.finished = true
        #expect(ShardLineage.readyShards(all, running: ["x"]) == ["a1", "a2"])
    }

    /// A parent the positions never held (DescribeStream no longer lists it: trimmed, older than the
    /// capture) does not hold its child back.
    @Test func anUnknownParentIsTakenAsFinished() {
        #expect(ShardLineage.readyShards(shards([("child", "gone", false)]), running: []) == ["child"])
    }

    /// A replayed ordering: records applied shard by shard in readiness order never apply a child's record
    /// before every record of its parent.
    @Test func applyingInReadinessOrderPutsEveryParentRecordBeforeItsChildren() {
        var all = shards([("p", nil, false), ("c1", "p", false), ("c2", "p", false), ("g", "c1", false)])
        var order: [String] = []
        while let next = ShardLineage.readyShards(all, running: []).first {
            order.append(next)
            all[next]?.finished = true
        }
        #expect(order == ["p", "c1", "c2", "g"])
        for (shard, progress) in all {
            if let parent = progress.parentShardId {
                #expect(order.firstIndex(of: parent)! < order.firstIndex(of: shard)!)
            }
        }
    }

    @Test func mergeAddsOnlyNewShardsAndKeepsProgress() {
        var all = shards([("p", nil, true)])
        all["p"]?.lastSequenceNumber = "100"
        let added = ShardLineage.merge([("p", nil), ("c", "p")], into: &all)
        #expect(added == ["c"])
        #expect(all["p"]?.lastSequenceNumber == "100")
        #expect(all["c"] == ShardProgress(shardId: "c", parentShardId: "p"))
    }

    @Test func sequenceNumbersCompareAsNumbers() {
        #expect(compareSequenceNumbers("9", "10") < 0)
        #expect(compareSequenceNumbers("000100", "100") == 0)
        #expect(compareSequenceNumbers("1100000000017454423011", "1100000000017454423009") > 0)
    }

    /// Finished shards are forgotten only once DescribeStream stops listing them: a listed one forgotten
    /// would be added again and re-read after its children.
    @Test func onlyFinishedShardsNoLongerListedArePruned() {
        var all = shards([("old", nil, true), ("listed", "old", true), ("open", "listed", false), ("gone-open", nil, false)])
        #expect(ShardLineage.prune(&all, listed: ["listed", "open"]) == ["old"])
        #expect(Set(all.keys) == ["listed", "open", "gone-open"])
        #expect(ShardLineage.readyShards(all, running: []) == ["gone-open", "open"])
    }
}
