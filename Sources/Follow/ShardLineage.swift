// Shard lineage: which shards of a stream may be read now.
import Foundation
import RunState

/// The order rule for a stream's shards: records of one item are in one shard at a time, and after a
/// split (or a shard's rollover) the item's later records are in a child shard whose `ParentShardId` names
/// the shard that held the earlier ones. So a child is read only once its parent is read to its end
/// (closed, and GetRecords returned no next iterator); shards of unrelated lineages are read in parallel.
public enum ShardLineage {
    /// The shards that may be read now: not finished, not already being read, and whose parent is finished
    /// or unknown. An unknown parent is one DescribeStream no longer lists and the positions never held:
    /// its records are past the 24-hour window, older than the position capture, so already in the scan.
    /// Sorted by shard id, for a stable order.
    public static func readyShards(_ shards: [String: ShardProgress], running: Set<String>) -> [String] {
        shards.values.filter { shard in
            guard !shard.finished, !running.contains(shard.shardId) else { return false }
            guard let parent = shard.parentShardId, let parentProgress = shards[parent] else { return true }
            return parentProgress.finished
        }.map(\.shardId).sorted()
    }

    /// Adds the shards DescribeStream lists that `shards` does not hold yet (new children after a split),
    /// each to be read from its start. Returns the ids added.
    @discardableResult
    /// - Parameter createdAfter: when the previous listing was taken (a shard it did not list was created
    ///   after it); nil for the listing taken with the positions.
    public static func merge(
        _ listed: [(shardId: String, parentShardId: String?)], into shards: inout [String: ShardProgress], createdAfter: Date? = nil
    ) -> [String] {
        var added: [String] = []
        for shard in listed where shards[shard.shardId] == nil {
            shards[shard.shardId] = ShardProgress(shardId: shard.shardId, parentShardId: shard.parentShardId, readSince: createdAfter)
            added.append(shard.shardId)
        }
        return added
    }

    /// Drops finished shards DescribeStream no longer lists (trimmed, 24 hours after they closed), so a
    /// long follow's positions do not grow for ever. A shard still listed is kept even when finished: were
    /// it forgotten, the next listing would add it again and its old records would be applied after its
    /// children's. Returns the ids dropped.
    @discardableResult
    public static func prune(_ shards: inout [String: ShardProgress], listed: Set<String>) -> [String] {
        let gone = shards.values.filter { $0.finished && !listed.contains($0.shardId) }.map(\.shardId).sorted()
        for id in gone { shards[id] = nil }
        return gone
    }
}
