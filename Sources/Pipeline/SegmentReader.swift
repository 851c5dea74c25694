import DynamoClient
import DynamoCore
import Mappings

/// Reads one source table segment by segment: Scan pages from the checkpoint on, transforms each item,
/// and hands the results to the writers through the bounded queue (waiting while it is full).
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

    func read(segment progress: SegmentProgress) async throws {
        var start = try progress.resumeKey()
        var sequence = 0
        repeat {
            if shouldStop() { return }
            let page: ItemPage
            let throttlesBefore = client.statistics.throttles
            do {
                page = try await client.scan(ScanInput(
                    table: source, segment: totalSegments > 1 ? progress.segment : nil,
                    totalSegments: totalSegments > 1 ? totalSegments : nil, limit: pageLimit,
                    exclusiveStartKey: start, returnConsumedCapacity: true))
            } catch {
                throw PipelineError.client(error)
            }
            if client.statistics.throttles > throttlesBefore { limiter.noteThrottle() }
            // Eventually consistent reads: half a unit per 4 KB.
            let readUnits = page.consumedCapacity ?? Double(max(1, (page.responseBytes + 8191) / 8192))
            try await limiter.acquire(readUnits)

            let ref = PageRef(source: checkpointKey, segment: progress.segment, sequence: sequence)
            var counts = PageCounts(read: page.items.count, bytesRead: page.responseBytes)
            var units: [WriteUnit] = []
            units.reserveCapacity(page.items.count)
            for item in page.items {
                do {
                    guard let out = try transform.apply(item) else {
                        counts.filtered += 1
                        continue
                    }
                    let size = dynamoDBItemSize(out)
                    guard size <= DynamoDBLimits.maxItemBytes else {
                        deadLetter(item, reason: "transformed item is \(size) bytes, over DynamoDB's 400 KB item limit")
                        counts.deadLettered += 1
                        continue
                    }
                    guard let key = targetKey.key(of: out) else {
                        deadLetter(item, reason: "transformed item lacks the target key \(targetKey)")
                        counts.deadLettered += 1
                        continue
                    }
                    units.append(WriteUnit(item: out, key: key, size: size, page: ref))
                } catch {
                    deadLetter(item, reason: error.description)
                    counts.deadLettered += 1
                }
            }
            statistics.addRead(page.items.count, bytes: page.responseBytes)
            statistics.addFiltered(counts.filtered)
            statistics.addDeadLettered(counts.deadLettered)
            ledger.register(ref, lastEvaluatedKey: page.lastEvaluatedKey, writes: units.count, counts: counts)
            if deadLetters.count > maxFailures {
                throw PipelineError.tooManyFailures(limit: maxFailures, deadLetters: deadLetters.path)
            }
            if !units.isEmpty {
                // False means the run is ending because of an error elsewhere: stop reading.
                guard await queue.send(units) else { return }
            }
            start = page.lastEvaluatedKey
            sequence += 1
        } while start != nil
    }

    func deadLetter(_ item: Item, reason: String) {
        deadLetters.record(source: source, target: target, key: sourceKey.key(of: item), item: item, reason: reason)
    }
}
