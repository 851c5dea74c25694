// Follow: applies the sources' DynamoDB Streams to their targets after the copy, until cutover.
//
// Positions. Before any source is scanned, every shard DescribeStream lists is recorded, and the capture
// time. The follow later reads each shard from its trim horizon (or after its last applied record) and
// applies every record made after `capturedAt - margin` (``FollowPositionRule``). Why not LATEST: a
// LATEST iterator names no sequence number, dies after 15 minutes and cannot be checkpointed, so a crash
// during a long scan would leave no position at all. Reading from the trim horizon cannot miss a record
// written between the capture and the scan (nothing before the capture is skipped unless it is older than
// the margin, and such a write is in the scan); applying a change the scan already saw is harmless,
// because each record is a put or delete of a whole item and records of one item are applied in order, so
// each item ends as its last record says. The price is reading (not writing) older records once.
//
// Order. Records of one item live in one shard at a time; after a split its later records are in a child
// shard. So shards are read in parallel, records in sequence order within a shard, and a child only after
// its parent is read to its end (``ShardLineage``).
import AWSAuth
import DynamoClient
import DynamoCore
import Foundation
import Logging
import Mappings
import RunState
import Synchronization
import TableIO

/// How a follow runs.
public struct FollowOptions: Sendable {
    public var stateDirectory: URL
    public var planFingerprint: String
    /// Stop once every shard is caught up and no record arrived for this long (nil: run until stopped).
    public var untilIdle: Duration?
    /// Pause after a GetRecords that found nothing new (DynamoDB allows 5 GetRecords per shard per second).
    public var pollInterval: Duration = .seconds(1)
    /// How often DescribeStream is asked for new shards (also after any shard finishes).
    public var discoveryInterval: Duration = .seconds(10)
    public var recordsPerCall = 1000
    /// Shards read at the same time per source (a table with many partitions has many shards).
    public var maxConcurrentShards = 64
    /// The Streams API endpoint when it is not the one derived from the client's endpoint
    /// (``DynamoDBClient/streamsEndpoint(for:)``).
    public var streamsEndpoint: String?
    /// Prometheus textfile to keep up to date (written atomically).
    public var metricsFile: URL?
    public var metricsInterval: Duration = .seconds(5)
    public var clock: any RunClock = SystemClock()

    public init(stateDirectory: URL, planFingerprint: String) {
        self.stateDirectory = stateDirectory
        self.planFingerprint = planFingerprint
    }
}

/// Follows the streams of a mapping's sources into its targets.
public final class StreamFollower: Sendable {
    /// The sources' side: DescribeTable, UpdateTable of the sources.
    public let client: DynamoDBClient
    /// The targets' side (another account or region, with per-side connections): DescribeTable and the writes.
    public let targetClient: DynamoDBClient
    /// The Streams API client (its own endpoint on AWS).
    public let streams: DynamoDBClient
    public let mapping: ResolvedMapping
    public let options: FollowOptions
    let resolvers: [String: any TargetItemSource]
    let logger: Logger
    let state: Mutex<StreamPositions?> = Mutex(nil)
    let dirty = Mutex(false)
    let stopRequested = Mutex(false)
    let failure: Mutex<(any Error)?> = Mutex(nil)
    let live = Mutex<[String: LiveShard]>([:])
    let counters = Mutex(Counters())
    let lastArrival: Mutex<ContinuousClock.Instant>
    let started: Mutex<(instant: ContinuousClock.Instant, date: Date)>
    /// Sources whose DescribeStream should be read at once (a shard of theirs finished).
    let discoverNow = Mutex<Set<String>>([])
    /// Shards finished since DescribeStream was last read, per source: a drain must wait until the
    /// children of a finished shard are known, or it could end with a child's records unread.
    let undiscovered = Mutex<[String: Int]>([:])

    struct LiveShard: Sendable {
        var caughtUp = false
        var running = false
        var applied = 0
        /// When the newest record read was made, applied or skipped: the lag while catching up.
        var lastReadRecordAt: Date?
    }

    struct Counters: Sendable {
        var applied: [String: Int] = [:]
        var skipped: [String: Int] = [:]
        var timeToLive: [String: Int] = [:]
        var puts = 0
        var deletes = 0
        var deadLettered = 0
    }

    /// - Parameters:
    ///   - streams: the Streams API client; by default the one of `client`'s endpoint.
    ///   - targetClient: the targets' client when they are not on `client`'s account and region.
    ///   - resolvers: by target name, for targets that cannot be followed from their own records
    ///     (several sources, or a policy other than `overwrite`); see ``TargetItemSource``.
    public init(
        client: DynamoDBClient, streams: DynamoDBClient? = nil, mapping: ResolvedMapping, options: FollowOptions,
        resolvers: [String: any TargetItemSource] = [:], logger: Logger = Logger(label: "dynamo-migrate.follow"),
        targetClient: DynamoDBClient? = nil
    ) {
        self.client = client
        self.targetClient = targetClient ?? client
        self.streams = streams ?? client.streamsClient(endpoint: options.streamsEndpoint)
        self.mapping = mapping
        self.options = options
        self.resolvers = resolvers
        self.logger = logger
        self.lastArrival = Mutex(options.clock.now)
        self.started = Mutex((options.clock.now, options.clock.date))
    }

    var store: LocalDirectoryStateStore { LocalDirectoryStateStore(directory: options.stateDirectory) }
    var isStopping: Bool { stopRequested.withLock { $0 } }

    /// Asks the follow to stop: shards stop after their current record, positions are saved.
    public func requestStop() { stopRequested.withLock { $0 = true } }

    /// The source tables, each once, in mapping order.
    public var sourceTables: [String] {
        var seen = Set<String>()
        return mapping.targets.flatMap(\.sources).map(\.table).filter { seen.insert($0).inserted }
    }

    // MARK: - Before the copy

    /// Refuses targets that cannot be followed record by record and have no resolver: several sources, or
    /// a conflict policy other than `overwrite` (whose outcome depends on what the target held before).
    public static func checkFollowable(_ mapping: ResolvedMapping, resolvers: Set<String>) throws(FollowError) {
        for target in mapping.targets where !resolvers.contains(target.name) {
            if target.sources.count > 1 {
                throw .unsupportedTarget(
                    target: target.name,
                    reason:
                        "it merges \(target.sources.count) sources (\(target.sources.map(\.table).joined(separator: ", "))), and following merged targets needs the merge resolver, which this build does not have"
                )
            }
            if target.conflict != .overwrite {
                throw .unsupportedTarget(
                    target: target.name,
                    reason:
                        "its conflict policy is \(target.conflict): what it must hold depends on what it held before, which only the merge resolver can recompute"
                )
            }
        }
    }

    /// Makes sure every source has a NEW_AND_OLD_IMAGES stream; turns one on where there is none when
    /// `enable` is set (UpdateTable, then waits until ACTIVE). Returns the stream ARN of each source.
    public func prepareStreams(enable: Bool) async throws -> [String: String] {
        var arns: [String: String] = [:]
        for table in sourceTables {
            var description = try await client.describeTable(table)
            let command = "aws dynamodb update-table --table-name \(table) --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES"
            if description.stream != .newAndOldImages {
                // Changing the view type of a live stream means turning it off first, which cuts off its
                // other readers: never done for the operator.
                guard enable, description.stream == nil else {
                    throw FollowError.noStream(table: table, viewType: description.stream?.rawValue, command: command)
                }
                logger.notice("turning on a NEW_AND_OLD_IMAGES stream on \(table) (--enable-streams)")
                try await client.enableStream(table: table)
                description = try await client.describeTable(table)
            }
            guard let arn = description.raw["LatestStreamArn"]?.stringValue else {
                throw FollowError.noStream(table: table, viewType: nil, command: command)
            }
            arns[table] = arn
        }
        return arns
    }

    /// Takes (or, with `resume`, loads) the stream positions. Must run before the copy's first Scan: a
    /// new copy takes them here; a copy that already started without them is refused.
    @discardableResult
    public func capturePositions(streamArns: [String: String], resume: Bool) async throws -> StreamPositions {
        // Another run on this state directory (a migrate, a follow) must not take positions under us.
        let lock = try store.lock()
        defer { withExtendedLifetime(lock) {} }
        if let existing = try store.loadStreamPositions() {
            guard existing.planFingerprint == options.planFingerprint else { throw FollowError.otherMapping(stateDirectory: options.stateDirectory.path) }
            guard resume else { throw FollowError.followExists(stateDirectory: options.stateDirectory.path) }
            for (table, arn) in streamArns where existing.sources[table].map({ $0.streamArn != arn }) ?? true {
                let recorded = existing.sources[table]?.streamArn ?? "none"
                throw FollowError.trimmed(
                    table: table, detail: "its stream is now \(arn), the positions were taken on \(recorded)",
                    stateDirectory: options.stateDirectory.path)
            }
            state.withLock { $0 = existing }
            return existing
        }
        if let checkpoint = try store.loadCheckpoint(), !checkpoint.sources.isEmpty {
            throw FollowError.copyWithoutPositions(stateDirectory: options.stateDirectory.path)
        }
        let capturedAt = options.clock.date
        var positions = StreamPositions(planFingerprint: options.planFingerprint, endpoint: client.configuration.endpoint)
        for table in sourceTables {
            guard let arn = streamArns[table] else { continue }
            let description = try await streams.describeStream(arn: arn, table: table)
            var source = SourceStreamPosition(
                table: table, streamArn: arn, capturedAt: capturedAt, applyFrom: capturedAt.addingTimeInterval(-FollowPositionRule.margin))
            ShardLineage.merge(description.shards.map { ($0.shardId, $0.parentShardId) }, into: &source.shards)
            source.listedAt = capturedAt
            positions.sources[table] = source
        }
        try store.saveStreamPositions(positions)
        state.withLock { $0 = positions }
        return positions
    }

    // MARK: - After the copy

    /// Applies the streams until drained (`untilIdle`) or stopped.
    public func run() async throws -> FollowReport {
        guard state.withLock({ $0 }) != nil else {
            throw FollowError.copyWithoutPositions(stateDirectory: options.stateDirectory.path)
        }
        // One follower per state directory: two would move the same positions.
        let lock = try store.lock()
        defer { withExtendedLifetime(lock) {} }
        started.withLock { $0 = (options.clock.now, options.clock.date) }
        lastArrival.withLock { $0 = options.clock.now }
        try checkTrimHorizon()
        let appliers = try await makeAppliers()
        let deadLetters = try DeadLetterLog(store: store)
        defer { deadLetters.close() }

        let monitor = Task { await self.monitor() }
        defer { monitor.cancel() }
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for table in sourceTables where state.withLock({ $0?.sources[table] }) != nil {
                    group.addTask { try await self.followSource(table, appliers: appliers[table] ?? [], deadLetters: deadLetters) }
                }
                do {
                    try await group.waitForAll()
                } catch {
                    requestStop()
                    throw error
                }
            }
        } catch {
            saveIfDirty()
            throw failure.withLock({ $0 }) ?? error
        }
        if let error = failure.withLock({ $0 }) {
            saveIfDirty()
            throw error
        }
        saveIfDirty()
        let report = snapshot()
        try writeMetrics(report)
        return report
    }

    /// A stream keeps records 24 hours: a shard that still has to be read from its start (nothing applied
    /// yet) is complete only while its records from `applyFrom` on are all still kept.
    func checkTrimHorizon() throws {
        let now = options.clock.date
        guard let positions = state.withLock({ $0 }) else { return }
        for source in positions.sources.values.sorted(by: { $0.table < $1.table }) {
            // Shards with a position are checked by DynamoDB (TrimmedDataAccessException); a shard with
            // nothing applied is read from its trim horizon, which moves silently.
            for shard in source.shards.values.sorted(by: { $0.shardId < $1.shardId }) where !shard.finished && shard.lastSequenceNumber == nil {
                let unread = now.timeIntervalSince(shard.readSince ?? source.applyFrom)
                if unread >= Self.streamRetention {
                    throw FollowError.trimmed(
                        table: source.table,
                        detail: String(format: "shard %@ has had nothing read for %.1f hours", shard.shardId, unread / 3600),
                        stateDirectory: options.stateDirectory.path)
                }
            }
        }
    }

    func makeAppliers() async throws -> [String: [RecordApplier]] {
        var appliers: [String: [RecordApplier]] = [:]
        for target in mapping.targets {
            let description = try await targetClient.describeTable(target.name)
            for source in target.sources {
                let transform = source.itemTransform(targetKey: description.keySchema.spec)
                appliers[source.table, default: []].append(
                    RecordApplier(
                        client: targetClient, source: source.table, target: target.name, transform: transform,
                        targetKey: description.keySchema, resolver: resolvers[target.name]))
            }
        }
        return appliers
    }

    /// Empty GetRecords pages in a row after which a shard counts as caught up.
    static let emptyPagesForCaughtUp = 3

    /// How long DynamoDB Streams keep a record.
    static let streamRetention: TimeInterval = 24 * 3600

    static func liveKey(_ table: String, _ shard: String) -> String { table + "\u{0}" + shard }

    func followSource(_ table: String, appliers: [RecordApplier], deadLetters: DeadLetterLog) async throws {
        guard let arn = state.withLock({ $0?.sources[table]?.streamArn }) else { return }
        var lastDiscovery: ContinuousClock.Instant?
        try await withThrowingTaskGroup(of: Void.self) { group in
            while !isStopping {
                if let error = failure.withLock({ $0 }) { throw error }
                // Listed at once when the run starts: shards may have split or rolled over while nothing ran.
                let due = lastDiscovery.map { options.clock.now - $0 >= options.discoveryInterval } ?? true
                if due || discoverNow.withLock({ $0.remove(table) != nil }) {
                    let finishedBefore = undiscovered.withLock { $0[table] ?? 0 }
                    let listing = options.clock.date
                    let description: StreamDescription
                    do {
                        description = try await streams.describeStream(arn: arn, table: table)
                    } catch let error as DynamoDBError where error.isTransitional {
                        // LimitExceededException: DescribeStream is limited to 10 calls a second per account.
                        logger.info("\(table): DescribeStream \(error.errorType ?? "busy"); trying again shortly")
                        discoverNow.withLock { _ = $0.insert(table) }
                        try? await options.clock.sleep(for: options.pollInterval)
                        continue
                    }
                    state.withLock { positions in
                        guard var source = positions?.sources[table] else { return }
                        ShardLineage.merge(
                            description.shards.map { ($0.shardId, $0.parentShardId) }, into: &source.shards,
                            createdAfter: source.listedAt ?? source.capturedAt)
                        ShardLineage.prune(&source.shards, listed: Set(description.shards.map(\.shardId)))
                        source.listedAt = listing
                        positions?.sources[table] = source
                        dirty.withLock { $0 = true }
                    }
                    lastDiscovery = options.clock.now
                    undiscovered.withLock { $0[table, default: 0] -= finishedBefore }
                    // A shard created while nothing ran for 24 hours has lost its first records.
                    try checkTrimHorizon()
                }
                let shards = state.withLock { $0?.sources[table]?.shards ?? [:] }
                let running = Set(live.withLock { live in shards.keys.filter { live[Self.liveKey(table, $0)]?.running == true } })
                for shard in ShardLineage.readyShards(shards, running: running).prefix(max(0, options.maxConcurrentShards - running.count)) {
                    live.withLock { $0[Self.liveKey(table, shard), default: LiveShard()].running = true }
                    group.addTask {
                        do {
                            try await self.followShard(table, shard: shard, arn: arn, appliers: appliers, deadLetters: deadLetters)
                        } catch {
                            self.failure.withLock { if $0 == nil { $0 = error } }
                            self.requestStop()
                        }
                        self.live.withLock { $0[Self.liveKey(table, shard)]?.running = false }
                    }
                }
                try? await options.clock.sleep(for: options.pollInterval)
            }
            try await group.waitForAll()
        }
    }

    func iterator(_ table: String, shard: String, arn: String) async throws -> String {
        let last = state.withLock { $0?.sources[table]?.shards[shard]?.lastSequenceNumber }
        do {
            return try await streams.getShardIterator(
                arn: arn, shardId: shard, start: last.map { .afterSequenceNumber($0) } ?? .trimHorizon, table: table)
        } catch {
            guard error.errorType == "TrimmedDataAccessException" else { throw error }
            throw FollowError.trimmed(
                table: table, detail: "shard \(shard) no longer holds the record after \(last ?? "its start")", stateDirectory: options.stateDirectory.path)
        }
    }

    func followShard(_ table: String, shard: String, arn: String, appliers: [RecordApplier], deadLetters: DeadLetterLog) async throws {
        guard let applyFrom = state.withLock({ $0?.sources[table]?.applyFrom }) else { return }
        let key = Self.liveKey(table, shard)
        var iterator = try await iterator(table, shard: shard, arn: arn)
        var emptyPages = 0
        while !isStopping {
            let page: StreamRecordsPage
            let failure: DynamoDBError
            do {
                page = try await streams.getRecords(iterator: iterator, limit: options.recordsPerCall, table: table)
            } catch {
                failure = error
                switch error.errorType {
                case "ExpiredIteratorException":
                    // Iterators live 15 minutes; the position is the last applied record, so nothing is lost.
                    logger.info("\(table) shard \(shard): iterator expired; taking a new one after the last applied record")
                    iterator = try await self.iterator(table, shard: shard, arn: arn)
                    continue
                case "TrimmedDataAccessException":
                    throw FollowError.trimmed(
                        table: table, detail: "shard \(shard) was trimmed past the follow's position", stateDirectory: options.stateDirectory.path)
                default:
                    // LimitExceededException: too many GetRecords on this shard (other readers share it).
                    guard failure.isTransitional else { throw failure }
                    logger.info("\(table) shard \(shard): \(failure.errorType ?? "busy"); waiting")
                    try? await options.clock.sleep(for: options.pollInterval)
                    continue
                }
            }
            if !page.records.isEmpty {
                lastArrival.withLock { $0 = options.clock.now }
                live.withLock { $0[key, default: LiveShard()].caughtUp = false }
            }
            var batch = FollowBatch()
            for record in page.records {
                let skip = record.approximateCreationDateTime.map { $0 < applyFrom } ?? false
                var writes: [(table: String, key: Item, request: WriteRequest)] = []
                var changes: [(target: String, change: AppliedChange)] = []
                if !skip {
                    for applier in appliers {
                        if applier.resolver != nil {
                            // Resolved targets read the sources: everything before must be written first.
                            try await flush(&batch, table: table, shard: shard, deadLetters: deadLetters)
                            changes.append((applier.target, try await applier.apply(record)))
                            continue
                        }
                        let planned = try applier.plan(record)
                        var change = AppliedChange()
                        change.timeToLiveDelete = record.isTimeToLiveDelete
                        change.failure = planned.failure
                        if let key = planned.delete {
                            writes.append((applier.target, key, .delete(key: key)))
                            change.deletes += 1
                        }
                        if let item = planned.put, let key = applier.targetKey.key(of: item) {
                            writes.append((applier.target, key, .put(item)))
                            change.puts += 1
                        }
                        changes.append((applier.target, change))
                    }
                }
                if !batch.canTake(writes) { try await flush(&batch, table: table, shard: shard, deadLetters: deadLetters) }
                batch.add(writes, pending: FollowBatch.Pending(record: record, skipped: skip, changes: changes))
            }
            try await flush(&batch, table: table, shard: shard, deadLetters: deadLetters)
            guard let next = page.nextShardIterator else {
                state.withLock { $0?.sources[table]?.shards[shard]?.finished = true }
                dirty.withLock { $0 = true }
                undiscovered.withLock { $0[table, default: 0] += 1 }
                discoverNow.withLock { _ = $0.insert(table) }
                saveIfDirty()
                return
            }
            iterator = next
            guard page.records.isEmpty else {
                emptyPages = 0
                continue
            }
            // An empty page can also mean "nothing in this portion of the shard, more further on" (GetRecords'
            // documentation): the next pages are asked for at once, and the shard counts as caught up only
            // after several empty pages in a row.
            emptyPages += 1
            guard emptyPages >= Self.emptyPagesForCaughtUp else { continue }
            live.withLock { $0[key, default: LiveShard()].caughtUp = true }
            // Read to its end: every record made before the call is read (only matters while nothing is applied).
            let readAt = options.clock.date.addingTimeInterval(-60)
            state.withLock { positions in
                if positions?.sources[table]?.shards[shard]?.lastSequenceNumber == nil {
                    positions?.sources[table]?.shards[shard]?.readSince = readAt
                }
            }
            try? await options.clock.sleep(for: options.pollInterval)
        }
    }

    /// Writes the batch (resending UnprocessedItems), then moves the shard's position over its records.
    func flush(_ batch: inout FollowBatch, table: String, shard: String, deadLetters: DeadLetterLog) async throws {
        guard !batch.isEmpty else { return }
        let (requests, pending) = batch.take()
        var remaining = requests
        var attempt = 0
        while remaining.values.contains(where: { !$0.isEmpty }) {
            if attempt > 0 {
                // DynamoDB wrote part of the batch: wait a little longer each time, as the SDKs do.
                try? await options.clock.sleep(for: .milliseconds(min(50 << min(attempt, 6), 2000)))
            }
            attempt += 1
            remaining = try await targetClient.batchWriteItem(remaining).unprocessedItems
        }
        let key = Self.liveKey(table, shard)
        for entry in pending {
            let record = entry.record
            if entry.skipped {
                counters.withLock { $0.skipped[table, default: 0] += 1 }
                live.withLock { $0[key, default: LiveShard()].lastReadRecordAt = record.approximateCreationDateTime }
            } else {
                for (target, change) in entry.changes {
                    counters.withLock { c in
                        c.puts += change.puts
                        c.deletes += change.deletes
                    }
                    if let reason = change.failure {
                        deadLetters.record(source: table, target: target, key: record.keys, item: record.newImage, reason: reason)
                        counters.withLock { $0.deadLettered += 1 }
                    }
                }
                counters.withLock { c in
                    c.applied[table, default: 0] += 1
                    if record.isTimeToLiveDelete { c.timeToLive[table, default: 0] += 1 }
                }
                live.withLock { $0[key, default: LiveShard()].applied += 1 }
            }
            // The position moves only once the record's writes are done.
            state.withLock { positions in
                positions?.sources[table]?.shards[shard]?.lastSequenceNumber = record.sequenceNumber
                if !entry.skipped {
                    positions?.sources[table]?.shards[shard]?.recordsApplied += 1
                    positions?.sources[table]?.shards[shard]?.lastRecordAt = record.approximateCreationDateTime
                }
            }
        }
        dirty.withLock { $0 = true }
    }

    // MARK: - Checkpoints, idle detection, metrics

    func saveIfDirty() {
        let changed = dirty.withLock { flag in
            defer { flag = false }; return flag
        }
        guard changed, let positions = state.withLock({ $0 }) else { return }
        do {
            try store.saveStreamPositions(positions)
        } catch {
            dirty.withLock { $0 = true }
            logger.warning("could not save the stream positions: \(error)")
        }
    }

    func monitor() async {
        var lastMetrics = options.clock.now
        while !Task.isCancelled && !isStopping {
            try? await options.clock.sleep(for: Duration.milliseconds(500))
            saveIfDirty()
            if options.clock.now - lastMetrics >= options.metricsInterval {
                lastMetrics = options.clock.now
                try? writeMetrics(snapshot())
            }
            if let idle = options.untilIdle, isDrained(idle: idle) {
                markDrained()
                requestStop()
            }
        }
    }

    /// Every unfinished shard is being read and its last GetRecords found nothing, and no record arrived
    /// on any shard for `idle`.
    func isDrained(idle: Duration) -> Bool {
        guard options.clock.now - lastArrival.withLock({ $0 }) >= idle, let positions = state.withLock({ $0 }) else { return false }
        guard undiscovered.withLock({ $0.values.allSatisfy { $0 <= 0 } }) else { return false }
        let live = live.withLock { $0 }
        for source in positions.sources.values {
            for shard in source.shards.values where !shard.finished {
                guard let l = live[Self.liveKey(source.table, shard.shardId)], l.running, l.caughtUp else { return false }
            }
        }
        return true
    }

    func markDrained() {
        let now = options.clock.date
        state.withLock { positions in
            guard var all = positions else { return }
            for (table, source) in all.sources {
                let shards = source.shards.values
                all.sources[table]?.outcome = FollowOutcome(
                    drainedAt: now, lastRecordAt: shards.compactMap(\.lastRecordAt).max(),
                    recordsApplied: shards.reduce(0) { $0 + $1.recordsApplied })
            }
            positions = all
        }
        dirty.withLock { $0 = true }
        saveIfDirty()
    }

    /// The follow as it stands.
    public func snapshot() -> FollowReport {
        let now = options.clock.date
        let (startInstant, startDate) = started.withLock { $0 }
        let elapsed = max(0.001, seconds(options.clock.now - startInstant))
        let positions = state.withLock { $0 }
        let live = live.withLock { $0 }
        let counters = counters.withLock { $0 }
        var sources: [SourceFollowReport] = []
        for table in sourceTables {
            guard let source = positions?.sources[table] else { continue }
            let shards = source.shards.values.sorted { $0.shardId < $1.shardId }.map { shard -> ShardFollowReport in
                let l = live[Self.liveKey(table, shard.shardId)]
                let caughtUp = l?.caughtUp ?? false
                let newest = [shard.lastRecordAt, l?.lastReadRecordAt].compactMap { $0 }.max()
                let lag: Double? = (caughtUp || shard.finished) ? 0 : newest.map { max(0, now.timeIntervalSince($0)) }
                return ShardFollowReport(
                    shardId: shard.shardId, parentShardId: shard.parentShardId, finished: shard.finished, caughtUp: caughtUp,
                    recordsApplied: l?.applied ?? 0, lastSequenceNumber: shard.lastSequenceNumber, lastRecordAt: shard.lastRecordAt,
                    lagSeconds: lag)
            }
            sources.append(
                SourceFollowReport(
                    table: table, streamArn: source.streamArn, recordsApplied: counters.applied[table] ?? 0,
                    recordsSkipped: counters.skipped[table] ?? 0, timeToLiveDeletes: counters.timeToLive[table] ?? 0,
                    lagSeconds: shards.compactMap { $0.lagSeconds }.max(), lastRecordAt: shards.compactMap { $0.lastRecordAt }.max(),
                    drainedAt: source.outcome?.drainedAt, shards: shards))
        }
        let applied = counters.applied.values.reduce(0, +)
        let drained = !sources.isEmpty && sources.allSatisfy { $0.drainedAt != nil && $0.drainedAt! >= startDate }
        return FollowReport(
            startedAt: startDate, finishedAt: now, drained: drained, interrupted: isStopping && !drained,
            recordsApplied: applied, recordsPerSecond: Double(applied) / elapsed, puts: counters.puts, deletes: counters.deletes,
            timeToLiveDeletes: counters.timeToLive.values.reduce(0, +), deadLettered: counters.deadLettered,
            lagSeconds: sources.compactMap(\.lagSeconds).max(), sources: sources)
    }

    /// Writes the Prometheus textfile (atomically: the collector never reads half a file).
    public func writeMetrics(_ report: FollowReport) throws {
        guard let file = options.metricsFile else { return }
        try writeAtomically(Data(report.prometheusText.utf8), to: file)
    }

    func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
