import AWSAuth
import DynamoClient
import DynamoCore
import Foundation
import Logging
import Mappings
import RunState

/// One item on its way to a target table, with the page it came from (for acknowledgement).
public struct WriteUnit: Sendable {
    public var item: Item
    /// The item's primary key in the target.
    public var key: Item
    /// DynamoDB's size of the item.
    public var size: Int
    public var page: PageRef
    /// The item as the bytes its Scan page carried, when nothing changes it on the way (`item` is
    /// empty then: see ``content()``).
    public var raw: ArraySlice<UInt8>?
    public init(item: Item, key: Item, size: Int, page: PageRef) {
        self.item = item; self.key = key; self.size = size; self.page = page
    }
    /// A unit written as the bytes it was read as.
    public init(raw: RawItem, page: PageRef) {
        self.item = [:]; self.key = raw.key; self.size = raw.size; self.page = page; self.raw = raw.bytes
    }
    /// The item, built from the bytes for a raw unit (only the conditional and probe modes, which
    /// must look at items, need it; the migrator sends them no raw units).
    public func content() throws -> Item {
        guard let raw else { return item }
        return try JSONReader.parseItem(Array(raw))
    }
    /// The unit as a BatchWriteItem put.
    var writeRequest: WriteRequest { raw.map { .putRaw($0) } ?? .put(item) }
}

/// Errors that stop a migration; each says what happened and what to do.
public enum PipelineError: Error, CustomStringConvertible {
    case conflict(table: String, key: String, source: String)
    case noProgress(table: String, attempts: Int, pending: Int)
    case tooManyFailures(limit: Int, deadLetters: URL)
    case keySchemaMismatch(target: String, expected: String, actual: String)
    case missingTable(String)
    case fingerprintMismatch(stateDirectory: String)
    case client(DynamoDBError)

    public var description: String {
        switch self {
        case .conflict(let table, let key, let source):
            return
                "conflict in \(table): key \(key) from \(source) already exists with different content, and the mapping's conflict policy is 'fail'. Choose 'overwrite' or 'keep-existing', or fix the key rewrite so sources do not collide."
        case .noProgress(let table, let attempts, let pending):
            return
                "BatchWriteItem into \(table) left \(pending) items unprocessed \(attempts) times in a row; stopping rather than giving up silently. Check the table's capacity, then rerun with --resume."
        case .tooManyFailures(let limit, let path):
            return "more than \(limit) items could not be migrated (--max-failures); see \(path.path)"
        case .keySchemaMismatch(let target, let expected, let actual):
            return "target table \(target) already exists with key schema \(actual), but the mapping needs \(expected); refusing to write into it"
        case .missingTable(let name):
            return "table \(name) does not exist at this endpoint"
        case .fingerprintMismatch(let dir):
            return "the state directory \(dir) belongs to a different mapping or table set; use another --state-dir, or delete it to start over"
        case .client(let error):
            return error.description
        }
    }
}

/// Writes units into one target table: batches of at most 25 items and 16 MB (BatchWriteItem), checked
/// first with a BatchGetItem of their keys, or conditional puts, as ``mode`` says (see
/// ``TargetWriteMode`` for when each is exact); where the key is already there the policy decides by
/// ``ConflictPolicy/merge(existing:incoming:)``. `UnprocessedItems` and `UnprocessedKeys` are resent
/// with capped exponential backoff and full jitter until done; never dropped.
///
/// Several writers may consume one queue. Each written unit is reported through `acknowledge`
/// (with `keptExisting` true when a conditional put left an existing item in place).
public struct TargetWriter: Sendable {
    let client: DynamoDBClient
    let table: String
    let keySchema: KeySchema
    let policy: ConflictPolicy
    let limiter: RateLimiter
    let statistics: PipelineStatistics
    let logger: Logger
    /// What the backoff between resends waits on.
    let clock: any RunClock
    let acknowledge: @Sendable (_ page: PageRef, _ count: Int, _ keptExisting: Int) -> Void
    /// Checked before each new batch: once true, the writer finishes the batch in flight and takes no more
    /// (what is left unwritten is not acknowledged, so a resume reads it again).
    public var shouldStop: @Sendable () -> Bool = { false }
    /// Consecutive rounds without any progress before giving up loudly.
    var maxStalledRounds = 60
    /// How the policy is kept: plain batches, batches checked by a BatchGetItem, or conditional puts.
    /// Defaults to the mode that is exact whoever else writes to the table (``TargetWriteMode/batch``
    /// for `overwrite`, ``TargetWriteMode/conditional`` otherwise); the migrator picks faster ones
    /// where they are exact too.
    public var mode: TargetWriteMode

    public init(
        client: DynamoDBClient, table: String, keySchema: KeySchema, policy: ConflictPolicy = .overwrite,
        limiter: RateLimiter = RateLimiter(unitsPerSecond: nil), statistics: PipelineStatistics = PipelineStatistics(),
        logger: Logger = Logger(label: "dynamo-migrate.writer"), clock: (any RunClock)? = nil,
        acknowledge: @escaping @Sendable (_ page: PageRef, _ count: Int, _ keptExisting: Int) -> Void = { _, _, _ in }
    ) {
        self.client = client; self.table = table; self.keySchema = keySchema; self.policy = policy
        self.limiter = limiter; self.statistics = statistics; self.logger = logger
        self.clock = clock ?? client.clock; self.acknowledge = acknowledge
        self.mode = policy.mayKeepExisting ? .conditional : .batch
    }

    /// Writes everything sent to `queue` until it is finished and drained.
    public func run(_ queue: BoundedQueue<[WriteUnit]>) async throws {
        var batch: [WriteUnit] = []
        var batchBytes = 0
        var keysInBatch = Set<Item>()
        for await units in queue {
            if shouldStop() {
                // Readers waiting to hand over pages learn that nobody takes them any more.
                queue.finish()
                return
            }
            for unit in units {
                if mode == .conditional {
                    try await conditionalPut(unit)
                    continue
                }
                // DynamoDB rejects a batch holding one key twice: send what we have first.
                if batch.count == DynamoDBLimits.maxBatchWriteRequests
                    || batchBytes + unit.size + 1024 > DynamoDBLimits.maxBatchWriteBytes
                    || keysInBatch.contains(unit.key)
                {
                    try await send(batch)
                    batch.removeAll(keepingCapacity: true)
                    keysInBatch.removeAll(keepingCapacity: true)
                    batchBytes = 0
                }
                batch.append(unit)
                batchBytes += unit.size
                keysInBatch.insert(unit.key)
            }
            // Nothing more waiting: send a partial batch rather than hold acknowledgements back.
            if !batch.isEmpty, batch.count == DynamoDBLimits.maxBatchWriteRequests || queue.bufferedCount == 0 {
                try await send(batch)
                batch.removeAll(keepingCapacity: true)
                keysInBatch.removeAll(keepingCapacity: true)
                batchBytes = 0
            }
        }
        if !batch.isEmpty, !shouldStop() { try await send(batch) }
    }

    /// One batch of distinct keys, as the mode says.
    func send(_ units: [WriteUnit]) async throws {
        if mode == .probe {
            try await write(try await absent(units))
        } else {
            try await write(units)
        }
    }

    /// The units whose keys are not in the table (a consistent BatchGetItem of all of them); the
    /// others are settled here by the policy: kept (acknowledged as such) or a conflict.
    func absent(_ units: [WriteUnit]) async throws -> [WriteUnit] {
        var existing: [Item: Item] = [:]
        var pending = units.map(\.key)
        var stalled = 0
        var random = SystemRandomNumberGenerator()
        while !pending.isEmpty {
            let output: BatchGetOutput
            do {
                output = try await client.batchGetItem([table: pending], consistentRead: true)
            } catch {
                throw PipelineError.client(error)
            }
            statistics.addRequest()
            for item in output.responses[table] ?? [] {
                if let key = keySchema.key(of: item) { existing[key] = item }
            }
            let left = output.unprocessedKeys[table] ?? []
            stalled = left.count == pending.count ? stalled + 1 : 0
            pending = left
            if pending.isEmpty { break }
            limiter.noteThrottle()
            if stalled >= maxStalledRounds {
                throw PipelineError.noProgress(table: table, attempts: stalled, pending: pending.count)
            }
            try await clock.sleep(for: client.retryPolicy.delay(beforeRetry: max(1, stalled + 1), using: &random))
        }
        if existing.isEmpty { return units }
        var toWrite: [WriteUnit] = []
        toWrite.reserveCapacity(units.count - existing.count)
        var kept: [WriteUnit] = []
        for unit in units {
            guard let found = existing[unit.key] else {
                toWrite.append(unit)
                continue
            }
            switch policy.merge(existing: found, incoming: try unit.content()) {
            case .keepExisting:
                kept.append(unit)
            case .conflict:
                acknowledge(kept, keptExisting: true)
                throw PipelineError.conflict(table: table, key: describeKey(unit.key), source: unit.page.source)
            case .takeIncoming:
                toWrite.append(unit)
            }
        }
        statistics.addKeptExisting(kept.count)
        acknowledge(kept, keptExisting: true)
        return toWrite
    }

    /// One batch, resending UnprocessedItems until every item is written.
    ///
    /// The limiter paces every send, resends included: a throttled call comes back to us at once (the
    /// client does not retry it on its own) and cuts the limiter's rate; `UnprocessedItems` for part of
    /// the batch is reported as the weaker signal; what DynamoDB accepted feeds the limiter's measured rate.
    func write(_ units: [WriteUnit]) async throws {
        var pending = units
        var stalled = 0
        var random = SystemRandomNumberGenerator()
        while !pending.isEmpty {
            let estimated = Double(pending.reduce(0) { $0 + writeUnits($1.size) })
            let sentAt = try await limiter.acquire(estimated)
            let output: BatchWriteOutput
            do {
                output = try await client.batchWriteItem(
                    [table: pending.map(\.writeRequest)], returnConsumedCapacity: true,
                    itemSizesChecked: true, retriesThrottling: false)
            } catch where error.isThrottling {
                // Nothing written: the strong signal. The units stay paid: every send is paced, resends
                // included, or a table that refuses everything would be asked again at once.
                statistics.addRequest()
                limiter.note(.throttled, sentAt: sentAt)
                stalled += 1
                if stalled >= maxStalledRounds {
                    throw PipelineError.noProgress(table: table, attempts: stalled, pending: pending.count)
                }
                try await clock.sleep(for: client.retryPolicy.delay(beforeRetry: stalled, using: &random))
                continue
            } catch {
                throw PipelineError.client(error)
            }
            let unprocessed = output.unprocessedItems[table] ?? []
            statistics.addRequest()
            if unprocessed.isEmpty {
                let consumed = output.consumedCapacity[table] ?? estimated
                // DynamoDB says what the batch really cost; pay any difference to the estimate (indexes cost extra).
                if consumed > estimated { try await limiter.acquire(consumed - estimated) }
                limiter.record(consumed: consumed)
                acknowledge(pending)
                statistics.addWritten(pending.count, bytes: pending.reduce(0) { $0 + $1.size })
                return
            }
            let left = Set(
                unprocessed.compactMap { request -> Item? in
                    if case .put(let item) = request { return keySchema.key(of: item) ?? item }
                    return nil
                })
            let done = pending.filter { !left.contains($0.key) }
            acknowledge(done)
            statistics.addWritten(done.count, bytes: done.reduce(0) { $0 + $1.size })
            pending = pending.filter { left.contains($0.key) }
            statistics.addUnprocessed(pending.count)
            let handedBack = Double(pending.reduce(0) { $0 + writeUnits($1.size) })
            limiter.record(consumed: output.consumedCapacity[table] ?? max(0, estimated - handedBack))
            limiter.note(.unprocessed, sentAt: sentAt)
            stalled = done.isEmpty ? stalled + 1 : 0
            if stalled >= maxStalledRounds {
                throw PipelineError.noProgress(table: table, attempts: stalled, pending: pending.count)
            }
            let delay = client.retryPolicy.delay(beforeRetry: max(1, stalled + 1), using: &random)
            logger.debug("resending UnprocessedItems", metadata: ["table": .string(table), "items": .stringConvertible(pending.count)])
            try await clock.sleep(for: delay)
        }
    }

    /// keep-existing and fail: PutItem with `attribute_not_exists` on the partition key; where the key is
    /// already there, the policy's merge decides (reading the existing item only when the policy compares).
    func conditionalPut(_ unit: WriteUnit) async throws {
        let partition = keySchema.partitionKey.name
        let item = try unit.content()
        while true {
            try await limiter.acquire(Double(writeUnits(unit.size)))
            do {
                try await client.putItem(
                    table: table, item: item, conditionExpression: "attribute_not_exists(#k)",
                    expressionAttributeNames: ["#k": partition])
                statistics.addRequest()
                statistics.addWritten(1, bytes: unit.size)
                acknowledge(unit.page, 1, 0)
                return
            } catch  where error.isConditionalCheckFailed {
                statistics.addRequest()
            } catch {
                throw PipelineError.client(error)
            }
            // The key is there. keep-existing decides without its content: the incoming item stands in.
            let existing: Item?
            if policy.comparesContent {
                do {
                    existing = try await client.getItem(table: table, key: unit.key, consistentRead: true)
                } catch {
                    throw PipelineError.client(error)
                }
            } else {
                existing = item
            }
            switch policy.merge(existing: existing, incoming: item) {
            case .keepExisting:
                // Includes the same content written by an earlier, interrupted run: not a conflict.
                statistics.addKeptExisting(1)
                acknowledge(unit.page, 1, 1)
                return
            case .conflict:
                throw PipelineError.conflict(table: table, key: describeKey(unit.key), source: unit.page.source)
            case .takeIncoming:
                // Deleted since the condition failed: put again, on the same condition.
                continue
            }
        }
    }

    func acknowledge(_ units: [WriteUnit], keptExisting: Bool = false) {
        var perPage: [PageRef: Int] = [:]
        for unit in units { perPage[unit.page, default: 0] += 1 }
        for (page, count) in perPage { acknowledge(page, count, keptExisting ? count : 0) }
    }
}

/// Write capacity units of an item: one per started KB.
func writeUnits(_ size: Int) -> Int { max(1, (size + 1023) / 1024) }

/// `pk="a", sk=3` for messages.
func describeKey(_ key: Item) -> String {
    key.keys.sorted().map { name in
        var writer = JSONWriter()
        writer.attributeValue(key[name]!)
        return "\(name)=\(String(decoding: writer.bytes, as: UTF8.self))"
    }.joined(separator: ", ")
}
