// Records of one shard written with BatchWriteItem, in order.
import DynamoClient
import DynamoCore
import RunState

/// Consecutive records of one shard, their writes gathered into one BatchWriteItem. Order is kept because
/// a batch never holds two writes to one key of one table (a record touching a key already in the batch
/// closes it first), and batches are sent one after another. A record is never split across batches, so
/// the position can move to the batch's last record once the batch is written.
struct FollowBatch {
    struct Pending {
        var record: StreamRecord
        var skipped: Bool
        var changes: [(target: String, change: AppliedChange)]
    }
    struct TableKey: Hashable {
        var table: String
        var key: Item
    }

    private(set) var requests: [String: [WriteRequest]] = [:]
    private(set) var keys = Set<TableKey>()
    private(set) var count = 0
    private(set) var pending: [Pending] = []

    var isEmpty: Bool { pending.isEmpty }

    /// Whether a record with these writes fits: at most 25 writes, no key twice.
    func canTake(_ writes: [(table: String, key: Item, request: WriteRequest)]) -> Bool {
        if count + writes.count > DynamoDBLimits.maxBatchWriteRequests { return false }
        var seen = keys
        for write in writes where !seen.insert(TableKey(table: write.table, key: write.key)).inserted { return false }
        return true
    }

    mutating func add(_ writes: [(table: String, key: Item, request: WriteRequest)], pending record: Pending) {
        for write in writes {
            requests[write.table, default: []].append(write.request)
            keys.insert(TableKey(table: write.table, key: write.key))
            count += 1
        }
        pending.append(record)
    }

    /// Empties the batch, returning the records it held.
    mutating func take() -> (requests: [String: [WriteRequest]], pending: [Pending]) {
        defer { self = FollowBatch() }
        return (requests, pending)
    }
}
