import DynamoClient
import DynamoCore
import Mappings
import RunState
import Synchronization
import TableIO

/// Reads one source table with a ``ParallelScan`` from the checkpoint on, transforms each item, and
/// hands the results to the writers through the bounded queue (waiting while it is full).
struct SegmentReader: Sendable {
    let client: DynamoDBClient
    let source: String
    let sourceKey: KeySchema
    let target: String
    let targetKey: KeySchema
    let transform: CompiledTransform
    let checkpointKey: String
    let totalSegments: Int
    let pageLimit: Int?
    let limiter: RateLimiter
    let ledger: ProgressLedger
    let statistics: PipelineStatistics
    let deadLetters: DeadLetterLog
    let maxFailures: Int
    let queue: BoundedQueue<[WriteUnit]>
    let shouldStop: @Sendable () -> Bool
    /// Set when items pass unchanged (no transform, same key): pages keep their items as bytes, and
    /// these (the target key's) attributes are parsed for the checkpoint and the writer.
    var rawKeyAttributes: [AttributeName]? = nil

    /// Reads the given segments in parallel, each from its checkpointed resume key, until done or stopped.
    func read(segments: [SegmentProgress]) async throws {
        var startKeys: [Int: Item] = [:]
        for segment in segments {
            if let key = try segment.resumeKey() { startKeys[segment.segment] = key }
        }
        // Pages of one segment arrive in order on that segment's task; number them for the ledger.
        let sequences = Locked<[Int: Int]>([:])
        var scan = ParallelScan(client: client, table: source, totalSegments: totalSegments, pageLimit: pageLimit, limiter: limiter)
        scan.rawKeyAttributes = rawKeyAttributes
        do {
            try await scan.forEachPage(startKeys: startKeys, segments: segments.map(\.segment)) { segment, page in
                let sequence = sequences.withLock { counters -> Int in
                    defer { counters[segment, default: 0] += 1 }
                    return counters[segment, default: 0]
                }
                try await process(page, segment: segment, sequence: sequence)
                if shouldStop() { throw StopReading() }
            }
        } catch is StopReading {
            return
        } catch let error as DynamoDBError {
            throw PipelineError.client(error)
        }
    }

    /// Transforms one page, records it in the ledger, and hands its items to the writers.
    func process(_ page: ItemPage, segment: Int, sequence: Int) async throws {
        try await process(
            page.items, rawItems: page.rawItems, bytes: page.responseBytes, lastEvaluatedKey: page.lastEvaluatedKey, segment: segment,
            sequence: sequence)
    }

    /// ``process(_:segment:sequence:)`` for items from elsewhere (an export's data file: ExportSourceReader).
    /// `rawItems` are items passed on as the bytes the table sent (the raw-byte path: nothing transforms them).
    func process(
        _ parsed: [Item], rawItems: [RawItem] = [], bytes: Int, lastEvaluatedKey: Item?, segment: Int, sequence: Int
    ) async throws {
        let ref = PageRef(source: checkpointKey, segment: segment, sequence: sequence)
        let read = parsed.count + rawItems.count
        var counts = RunCounters(itemsRead: read, bytesRead: bytes)
        var units: [WriteUnit] = []
        units.reserveCapacity(read)
        var items = parsed
        for raw in rawItems {
            if raw.key.count == targetKey.attributeNames.count, raw.size <= DynamoDBLimits.maxItemBytes {
                units.append(WriteUnit(raw: raw, page: ref))
            } else {
                // Not what a table sends; the one projection rule says why it cannot be written.
                items.append((try? raw.item()) ?? [:])
            }
        }
        for item in items {
            switch project(item, through: transform, targetKey: targetKey) {
            case .written(let out, let key, let size):
                units.append(WriteUnit(item: out, key: key, size: size, page: ref))
            case .filtered:
                counts.itemsFiltered += 1
            case .failed(let reason):
                deadLetter(item, reason: reason)
                counts.itemsDeadLettered += 1
            }
        }
        statistics.addRead(read, bytes: bytes)
        statistics.addFiltered(counts.itemsFiltered)
        statistics.addDeadLettered(counts.itemsDeadLettered)
        ledger.register(ref, lastEvaluatedKey: lastEvaluatedKey, writes: units.count, counts: counts)
        if deadLetters.count > maxFailures {
            throw PipelineError.tooManyFailures(limit: maxFailures, deadLetters: deadLetters.path)
        }
        // False means the run is ending because of an error elsewhere: stop reading.
        if !units.isEmpty, await queue.send(units) == false { throw StopReading() }
    }

    func deadLetter(_ item: Item, reason: String) {
        deadLetters.record(source: source, target: target, key: sourceKey.key(of: item), item: item, reason: reason)
    }
}

/// Ends a parallel scan early without an error: a stop was requested or the writers are gone.
struct StopReading: Error {}

/// A value shared by the tasks of one scan.
final class Locked<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func withLock<R>(_ body: (inout Value) -> R) -> R { value.withLock { body(&$0) } }
}
