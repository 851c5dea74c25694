// Pipeline: the streaming migrator: parallel-scan readers, transforms, batched writers with backpressure, checkpoints.
import AWSAuth
import DynamoClient
import DynamoCore
import Foundation
import Logging
import Mappings
import RunState
import Synchronization
import TableIO

/// How a migration runs.
public struct MigrationOptions: Sendable {
    /// Holds the checkpoint, dead letters and reports.
    public var stateDirectory: URL
    /// Continue an interrupted run from its checkpoint.
    public var resume = false
    /// Scan segments per source table (default: chosen from the table's size).
    public var segments: Int?
    /// Scan `Limit` per page (default: DynamoDB's 1 MB pages).
    public var scanPageLimit: Int?
    /// Writer tasks per target table.
    public var writersPerTarget = 4
    /// Target tables migrated at the same time.
    public var parallelTargets = 4
    /// Stop once more items than this have been dead-lettered.
    public var maxFailures = 1000
    /// Read capacity units per second per source table (nil: unlimited, but adaptive on throttling).
    public var maxReadUnits: Double?
    /// Write capacity units per second per target table.
    public var maxWriteUnits: Double?
    /// Percent of a table's provisioned capacity (or of the assumed on-demand ceiling) to use.
    public var readPercent: Double?
    public var writePercent: Double?
    /// Identifies the mapping; a checkpoint from another mapping is refused.
    public var planFingerprint: String
    /// Pages buffered between the readers and the writers of one source.
    public var queueCapacity = 8
    /// Pass items that nothing changes (no transform or key prefix, the source's key, plain batches)
    /// from the Scan page to BatchWriteItem as the bytes DynamoDB sent (``RawItem``) instead of
    /// building and re-encoding each; false builds every item.
    public var rawItems = true
    /// What the run's rate limiters, write backoff and checkpoint flusher wait on, and the dates its
    /// checkpoint and report carry; tests pass a clock they control. (The flusher sleeps 500 ms between
    /// saves: a clock whose sleep returns at once makes it save as often as the ledger changes.)
    public var clock: any RunClock = SystemClock()
    /// Set when this process is one worker of many (`--worker I/N`): it copies only its share of the
    /// segments and uses its share of the capacity (see Migrator+Workers.swift).
    public var workerShare: WorkerShare?

    /// Capacity assumed for on-demand tables when a percentage is asked for: DynamoDB's default
    /// per-table quota of 40,000 read and 40,000 write units per second.
    public static let assumedOnDemandUnits = 40_000.0

    public init(stateDirectory: URL, planFingerprint: String) {
        self.stateDirectory = stateDirectory
        self.planFingerprint = planFingerprint
    }
}

/// Counts of one source table into one target, for the report (the counters encoded flat, as ever).
@dynamicMemberLookup
public struct SourceReport: Codable, Sendable, Equatable {
    public var source: String
    public var target: String
    public var segments: Int
    public var counts: RunCounters
    public var complete: Bool

    public init(source: String, target: String, segments: Int, counts: RunCounters, complete: Bool) {
        self.source = source; self.target = target; self.segments = segments; self.counts = counts; self.complete = complete
    }

    public subscript<T>(dynamicMember keyPath: KeyPath<RunCounters, T>) -> T { counts[keyPath: keyPath] }

    enum CodingKeys: String, CodingKey { case source, target, segments, complete }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        source = try c.decode(String.self, forKey: .source)
        target = try c.decode(String.self, forKey: .target)
        segments = try c.decode(Int.self, forKey: .segments)
        complete = try c.decode(Bool.self, forKey: .complete)
        counts = try RunCounters(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(source, forKey: .source)
        try c.encode(target, forKey: .target)
        try c.encode(segments, forKey: .segments)
        try c.encode(complete, forKey: .complete)
        try counts.encode(to: encoder)
    }
}

/// What a run did (the counters encoded flat, as ever).
@dynamicMemberLookup
public struct MigrationReport: Codable, Sendable {
    public var startedAt: Date
    public var finishedAt: Date
    public var durationSeconds: Double
    /// The run found a finished checkpoint and did nothing.
    public var alreadyComplete: Bool
    /// The run was stopped (Ctrl-C) before finishing; resume with --resume.
    public var interrupted: Bool
    public var createdTables: [String]
    public var sources: [SourceReport]
    /// The sum of the sources' counters.
    public var counts: RunCounters
    public var bytesWritten: Int
    public var itemsPerSecond: Double
    public var megabytesPerSecond: Double
    public var retries: Int
    public var throttles: Int
    public var unprocessedResent: Int
    public var deadLetterFile: String?
    public var stateDirectory: String

    public subscript<T>(dynamicMember keyPath: KeyPath<RunCounters, T>) -> T { counts[keyPath: keyPath] }

    enum CodingKeys: String, CodingKey {
        case startedAt, finishedAt, durationSeconds, alreadyComplete, interrupted, createdTables, sources
        case bytesWritten, itemsPerSecond, megabytesPerSecond, retries, throttles, unprocessedResent, deadLetterFile, stateDirectory
    }

    public init(
        startedAt: Date, finishedAt: Date, durationSeconds: Double, alreadyComplete: Bool, interrupted: Bool,
        createdTables: [String], sources: [SourceReport], counts: RunCounters, bytesWritten: Int,
        itemsPerSecond: Double, megabytesPerSecond: Double, retries: Int, throttles: Int, unprocessedResent: Int,
        deadLetterFile: String?, stateDirectory: String
    ) {
        self.startedAt = startedAt; self.finishedAt = finishedAt; self.durationSeconds = durationSeconds
        self.alreadyComplete = alreadyComplete; self.interrupted = interrupted; self.createdTables = createdTables
        self.sources = sources; self.counts = counts; self.bytesWritten = bytesWritten
        self.itemsPerSecond = itemsPerSecond; self.megabytesPerSecond = megabytesPerSecond
        self.retries = retries; self.throttles = throttles; self.unprocessedResent = unprocessedResent
        self.deadLetterFile = deadLetterFile; self.stateDirectory = stateDirectory
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        startedAt = try c.decode(Date.self, forKey: .startedAt)
        finishedAt = try c.decode(Date.self, forKey: .finishedAt)
        durationSeconds = try c.decode(Double.self, forKey: .durationSeconds)
        alreadyComplete = try c.decode(Bool.self, forKey: .alreadyComplete)
        interrupted = try c.decode(Bool.self, forKey: .interrupted)
        createdTables = try c.decode([String].self, forKey: .createdTables)
        sources = try c.decode([SourceReport].self, forKey: .sources)
        bytesWritten = try c.decode(Int.self, forKey: .bytesWritten)
        itemsPerSecond = try c.decode(Double.self, forKey: .itemsPerSecond)
        megabytesPerSecond = try c.decode(Double.self, forKey: .megabytesPerSecond)
        retries = try c.decode(Int.self, forKey: .retries)
        throttles = try c.decode(Int.self, forKey: .throttles)
        unprocessedResent = try c.decode(Int.self, forKey: .unprocessedResent)
        deadLetterFile = try c.decodeIfPresent(String.self, forKey: .deadLetterFile)
        stateDirectory = try c.decode(String.self, forKey: .stateDirectory)
        counts = try RunCounters(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(finishedAt, forKey: .finishedAt)
        try c.encode(durationSeconds, forKey: .durationSeconds)
        try c.encode(alreadyComplete, forKey: .alreadyComplete)
        try c.encode(interrupted, forKey: .interrupted)
        try c.encode(createdTables, forKey: .createdTables)
        try c.encode(sources, forKey: .sources)
        try c.encode(bytesWritten, forKey: .bytesWritten)
        try c.encode(itemsPerSecond, forKey: .itemsPerSecond)
        try c.encode(megabytesPerSecond, forKey: .megabytesPerSecond)
        try c.encode(retries, forKey: .retries)
        try c.encode(throttles, forKey: .throttles)
        try c.encode(unprocessedResent, forKey: .unprocessedResent)
        try c.encodeIfPresent(deadLetterFile, forKey: .deadLetterFile)
        try c.encode(stateDirectory, forKey: .stateDirectory)
        try counts.encode(to: encoder)
    }
}

/// Runs a resolved mapping: creates targets, then streams every source into its target.
///
/// Sources of one target run one after another in mapping order, so with `overwrite` the later
/// source wins deterministically; different targets run in parallel.
public final class Migrator: Sendable {
    /// The target side's client: the checkpoint records its endpoint.
    public let client: DynamoDBClient
    /// The client of each source and target (other accounts and regions); all `client` by default.
    public let clients: TableClients
    public let mapping: ResolvedMapping
    public let options: MigrationOptions
    let logger: Logger
    let stopRequested = Mutex(false)
    /// Set by ``runAsWorker(store:)``: waits until every worker has copied the sources of a target
    /// before the given position (see ``waitForEarlierSources(of:before:store:share:)``).
    let sourceBarrier = Mutex<(@Sendable (PreparedTarget, Int) async throws -> Void)?>(nil)
    let live = Mutex<[String: PipelineStatistics]>([:])
    let created = Mutex<[String]>([])
    let expected = Mutex(0)
    /// Export sources opened by prepareTargets, by their URL (ExportSourceReader).
    let exportSources = Mutex<[String: ExportSource]>([:])
    /// Data files of export sources that could not be read, by export URL (checkExportFailures).
    let exportFailures = Mutex<[String: [String]]>([:])

    /// Items DescribeTable reports for all sources (approximate), known once targets are prepared.
    public var expectedItems: Int { expected.withLock { $0 } }

    public init(
        client: DynamoDBClient, mapping: ResolvedMapping, options: MigrationOptions,
        logger: Logger = Logger(label: "dynamo-migrate.pipeline"), clients: TableClients? = nil
    ) {
        self.client = client
        self.clients = clients ?? TableClients(client)
        self.mapping = mapping
        self.options = options
        self.logger = logger
    }

    /// Asks the run to stop cleanly: readers stop, in-flight batches finish, the checkpoint is saved.
    public func requestStop() { stopRequested.withLock { $0 = true } }
    var isStopping: Bool { stopRequested.withLock { $0 } }

    /// Live counters per "target/source", for progress output.
    public func liveStatistics() -> [String: PipelineStatistics.Snapshot] {
        live.withLock { $0.mapValues(\.snapshot) }
    }

    /// Runs the migration to the end (or until stopped) and writes the reports.
    public func run() async throws -> MigrationReport {
        let started = options.clock.date
        // Before anything is created: the state directory must be ours alone, and writable.
        let lock = try StateDirectoryLock(directory: options.stateDirectory)
        defer { withExtendedLifetime(lock) {} }
        let store = FileCheckpointStore(directory: options.stateDirectory)
        var checkpoint: MigrationCheckpoint
        if let existing = try store.load() {
            guard existing.planFingerprint == options.planFingerprint else {
                throw PipelineError.fingerprintMismatch(stateDirectory: options.stateDirectory.path)
            }
            if existing.finishedAt != nil, existing.sources.values.allSatisfy(\.done) {
                return makeReport(existing, started: started, alreadyComplete: true, interrupted: false, deadLetters: nil)
            }
            if let endpoint = existing.endpoint, endpoint != client.configuration.endpoint {
                throw MigratorError.otherEndpoint(options.stateDirectory.path, recorded: endpoint, now: client.configuration.endpoint)
            }
            // Same endpoint is not same place when a side has its own connection (another account
            // through another profile or role, another region): items from two places must never mix.
            let now = connectionSummary()
            for (side, recorded) in (existing.connections ?? [:]).sorted(by: { $0.key < $1.key }) {
                if let current = now[side], current != recorded {
                    throw MigratorError.otherConnection(options.stateDirectory.path, side: side, recorded: recorded, now: current)
                }
            }
            // A run stopped while creating its targets has copied nothing yet: continuing it is the
            // same as starting over, so a plain rerun finishes the tables it left half set up.
            let copyingStarted = !existing.sources.isEmpty
            guard options.resume || !copyingStarted else { throw MigratorError.interruptedRunExists(options.stateDirectory.path) }
            checkpoint = existing
            if checkpoint.connections == nil { checkpoint.connections = now }
        } else {
            // --resume with no checkpoint is most likely a mistyped --state-dir: starting over silently
            // would re-read everything, and under `fail` could stop on the items already written.
            guard !options.resume else { throw MigratorError.nothingToResume(options.stateDirectory.path) }
            checkpoint = MigrationCheckpoint(planFingerprint: options.planFingerprint, startedAt: started)
            checkpoint.endpoint = client.configuration.endpoint
            checkpoint.connections = connectionSummary()
        }

        // Everything that can be checked before writing is checked first.
        let prepared = try await prepareTargets(checkpoint: &checkpoint, store: store)
        let ledger = ProgressLedger(checkpoint: checkpoint, clock: options.clock)
        try store.save(ledger.snapshot().0)
        let deadLetters = try DeadLetterLog(path: options.stateDirectory.appendingPathComponent("dead-letters.jsonl"))
        defer { deadLetters.close() }

        let flusher = Task {
            while !Task.isCancelled {
                try? await options.clock.sleep(for: .milliseconds(500))
                let (snapshot, changed) = ledger.snapshot()
                if changed { try? store.save(snapshot) }
            }
        }
        defer { flusher.cancel() }

        do {
            try await copyTargets(prepared, ledger: ledger, deadLetters: deadLetters)
        } catch {
            try? store.save(ledger.snapshot().0)
            throw error
        }
        let interrupted = isStopping
        if !interrupted { ledger.markFinished() }
        checkpoint = ledger.snapshot().0
        try store.save(checkpoint)
        let report = makeReport(
            checkpoint, started: started, alreadyComplete: false, interrupted: interrupted,
            deadLetters: deadLetters.count > 0 ? deadLetters.path : nil)
        try writeReports(report)
        return report
    }

    /// Copies every prepared target, `parallelTargets` at a time.
    func copyTargets(_ prepared: [PreparedTarget], ledger: ProgressLedger, deadLetters: DeadLetterLog) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            func addTarget() {
                let target = prepared[next]
                next += 1
                group.addTask { try await self.migrateTarget(target, ledger: ledger, deadLetters: deadLetters) }
            }
            for _ in 0..<min(options.parallelTargets, prepared.count) { addTarget() }
            while try await group.next() != nil {
                if next < prepared.count { addTarget() }
            }
        }
    }

    struct PreparedTarget: Sendable {
        var target: ResolvedTarget
        var blueprint: TargetBlueprint
        var sources: [(source: ResolvedSource, description: TableDescription)]
        var writeUnitsPerSecond: Double?
        /// Recorded in the checkpoint as created by this migration: it started empty and only this
        /// migration writes to it (what ``TargetWriteMode/choose`` relies on).
        var createdByThisMigration = false
    }

    /// Describes sources, creates missing targets (waiting until ACTIVE, then TTL and PITR), and
    /// refuses targets whose key schema differs from the mapping's. Every target is checked before
    /// any is created, so a refusal leaves the endpoint as it was.
    ///
    /// A table this migration asked to create is recorded in `checkpoint` (saved to `store`) before
    /// CreateTable and after each of its steps; a recorded table is ours: it is adopted (lost
    /// CreateTable answer, or a kill between steps) and its remaining steps are done.
    func prepareTargets(checkpoint: inout MigrationCheckpoint, store: any CheckpointSink) async throws -> [PreparedTarget] {
        var checked: [(PreparedTarget, existing: TableDescription?)] = []
        for target in mapping.targets {
            var sources: [(ResolvedSource, TableDescription)] = []
            for source in target.sources {
                guard let description = try await describeSource(source) else {
                    throw PipelineError.missingTable(source.table)
                }
                sources.append((source, description))
            }
            guard let first = sources.first else { continue }
            let sourceClient = clients.source(first.0.table)
            // An export has no table to take TTL and tags from.
            let ttl = first.0.export == nil ? try await sourceClient.describeTimeToLive(first.0.table) : nil
            let tags = try await first.1.arn.asyncFlatMap { arn in try await sourceClient.listTags(arn: arn) } ?? [:]
            let blueprint = TargetBlueprint.make(for: target, sources: sources.map(\.1), sourceTTL: ttl, sourceTags: tags)
            let existing = try await clients.target(target.name).describeTableIfExists(target.name)
            if let existing, existing.keySchema != blueprint.keySchema {
                throw PipelineError.keySchemaMismatch(
                    target: target.name, expected: blueprint.keySchema.description,
                    actual: existing.keySchema.description)
            }
            checked.append((PreparedTarget(target: target, blueprint: blueprint, sources: sources, writeUnitsPerSecond: nil), existing))
        }

        var prepared: [PreparedTarget] = []
        for (var target, existing) in checked {
            let name = target.target.name
            // A worker copies about 1/N of every source.
            expected.withLock { $0 += target.sources.reduce(0) { $0 + $1.description.itemCount } / (options.workerShare?.job.workers ?? 1) }
            var description: TableDescription
            if let existing, checkpoint.targetCreations?[name] == nil {
                // Not ours: use it as it is, apart from point-in-time recovery, which the mapping asks for.
                description = existing.status == "ACTIVE" ? existing : try await clients.target(name).waitUntilActive(name)
                try await enablePointInTimeRecovery(name, blueprint: target.blueprint)
            } else {
                let finishedBefore = checkpoint.targetCreations?[name]?.remaining.isEmpty == true
                description = try await createTarget(name, blueprint: target.blueprint, checkpoint: &checkpoint, store: store)
                if !finishedBefore { created.withLock { $0.append(name) } }
                target.createdByThisMigration = true
            }
            target.writeUnitsPerSecond = units(
                absolute: options.maxWriteUnits, percent: options.writePercent,
                of: description, write: true)
            prepared.append(target)
        }
        return prepared
    }

    /// Creates (or adopts, when the checkpoint records it as ours) the target `name` and does each
    /// remaining step, recording each in the checkpoint. Every step checks first whether it is already
    /// done, since a kill can land between doing it and recording it.
    func createTarget(
        _ name: String, blueprint: TargetBlueprint, checkpoint: inout MigrationCheckpoint,
        store: any CheckpointSink
    ) async throws -> TableDescription {
        let client = clients.target(name)
        let recorded = checkpoint.targetCreations?[name]
        var creation = recorded ?? TargetCreation(table: name)
        func record(_ step: TargetCreationStep?) async throws {
            if let step { creation.done.append(step) }
            checkpoint.targetCreations = (checkpoint.targetCreations ?? [:]).merging([name: creation]) { _, new in new }
            try await store.save(checkpoint)
        }
        if recorded == nil { try await record(nil) }
        var description: TableDescription
        if creation.remaining.contains(.createTable) {
            logger.info("\(recorded == nil ? "creating" : "finishing the creation of") \(name)")
            let table: TableDescription, adopted: Bool
            do {
                (table, adopted) = try await client.createOrAdoptTable(blueprint.table, intentRecorded: recorded != nil)
            } catch let error as DynamoDBError where recorded == nil && !error.mayHaveBeenApplied {
                // Refused outright (bad setting, limit): no table was made, so the intent is withdrawn and
                // a run that did nothing else leaves no checkpoint, letting the operator fix the mapping and rerun.
                checkpoint.targetCreations?[name] = nil
                if checkpoint.targetCreations?.isEmpty == true { checkpoint.targetCreations = nil }
                if checkpoint.targetCreations == nil, checkpoint.sources.isEmpty {
                    try? await store.discard()
                } else {
                    try await store.save(checkpoint)
                }
                throw error
            }
            if adopted { logger.info("\(name) was created by an earlier attempt (its answer was lost): adopting it") }
            description = table
            try await record(.createTable)
        } else {
            description = try await client.waitUntilActive(name)
            if description.keySchema != blueprint.keySchema {
                throw TableAdoptionError(table: name, reason: "its key is \(description.keySchema), the mapping's is \(blueprint.keySchema)")
            }
        }
        if creation.remaining.contains(.timeToLive) {
            if let attribute = blueprint.ttlAttribute {
                let ttl = try await client.describeTimeToLive(name)
                if !(ttl.isEnabled && ttl.attributeName == attribute) {
                    try await client.updateTimeToLive(name, attributeName: attribute, enabled: true)
                }
            }
            try await record(.timeToLive)
        }
        if creation.remaining.contains(.pointInTimeRecovery) {
            try await enablePointInTimeRecovery(name, blueprint: blueprint)
            try await record(.pointInTimeRecovery)
        }
        return description
    }

    func enablePointInTimeRecovery(_ name: String, blueprint: TargetBlueprint) async throws {
        let client = clients.target(name)
        if blueprint.pointInTimeRecovery,
            try await client.describeContinuousBackups(table: name).isPointInTimeRecoveryEnabled == false
        {
            // A table that has just turned ACTIVE refuses PITR on AWS for a while: the client waits that out.
            try await client.enablePointInTimeRecovery(table: name)
        }
    }

    func units(absolute: Double?, percent: Double?, of table: TableDescription, write: Bool) -> Double? {
        // Capacity is the whole job's: each of N workers takes 1/N of it.
        let share = 1 / Double(options.workerShare?.job.workers ?? 1)
        if let absolute { return max(1, absolute * share) }
        guard let percent else { return nil }
        let capacity: Double
        switch table.billingMode {
        case .payPerRequest: capacity = MigrationOptions.assumedOnDemandUnits
        case .provisioned(let read, let writeUnits): capacity = Double(write ? writeUnits : read)
        }
        return max(1, capacity * percent / 100 * share)
    }

    func migrateTarget(_ prepared: PreparedTarget, ledger: ProgressLedger, deadLetters: DeadLetterLog) async throws {
        let writeLimiter = RateLimiter(unitsPerSecond: prepared.writeUnitsPerSecond, clock: options.clock)
        // One after another, in mapping order: the policies' outcome and the write modes depend on it.
        for (position, (source, description)) in prepared.sources.enumerated() {
            if isStopping { return }
            // In a job of many workers, "one after another" must hold across processes too.
            if position > 0, let barrier = sourceBarrier.withLock({ $0 }) {
                try await barrier(prepared, position)
                if isStopping { return }
            }
            try await migrateSource(
                source, description: description, position: position, into: prepared, writeLimiter: writeLimiter,
                ledger: ledger, deadLetters: deadLetters)
        }
    }

    func segmentCount(for table: TableDescription) -> Int {
        if let segments = options.segments { return max(1, segments) }
        return ParallelScan.defaultSegments(for: table)
    }

    func migrateSource(
        _ source: ResolvedSource, description: TableDescription, position: Int, into prepared: PreparedTarget,
        writeLimiter: RateLimiter, ledger: ProgressLedger, deadLetters: DeadLetterLog
    ) async throws {
        let target = prepared.target.name
        let key = MigrationCheckpoint.sourceKey(target: target, source: source.table)
        let export = exportSources.withLock { $0[source.table] }
        let progress = ledger.ensureSource(
            key, source: source.table, target: target,
            totalSegments: options.workerShare?.job.segments[key] ?? export?.files.count ?? segmentCount(for: description))
        if progress.done { return }
        let statistics = PipelineStatistics()
        live.withLock { $0[key] = statistics }

        let transform = source.itemTransform(targetKey: prepared.blueprint.keySchema.spec)
        let readLimiter = RateLimiter(
            unitsPerSecond: units(
                absolute: options.maxReadUnits, percent: options.readPercent,
                of: description, write: false),
            clock: options.clock)
        let queue = BoundedQueue<[WriteUnit]>(capacity: options.queueCapacity)
        var configured = TargetWriter(
            client: clients.target(target), table: target, keySchema: prepared.blueprint.keySchema,
            policy: prepared.target.conflict, limiter: writeLimiter, statistics: statistics,
            logger: logger, clock: options.clock,
            acknowledge: { page, count, kept in ledger.acknowledge(page, count: count, keptExisting: kept) })
        configured.shouldStop = { [self] in isStopping }
        configured.mode = TargetWriteMode.choose(
            policy: prepared.target.conflict, targetCreatedByThisMigration: prepared.createdByThisMigration,
            sourcePosition: position,
            keysDistinctWithinSource: TargetWriteMode.keysAreDistinct(
                transform: transform, sourceKey: description.keySchema, targetKey: prepared.blueprint.keySchema))
        if prepared.target.conflict.mayKeepExisting {
            logger.debug(
                "write mode", metadata: ["target": .string(target), "source": .string(source.table), "mode": .string(configured.mode.description)])
        }
        let writer = configured
        var configuredReader = SegmentReader(
            client: clients.source(source.table), source: source.table, sourceKey: description.keySchema, target: target,
            targetKey: prepared.blueprint.keySchema, transform: transform, checkpointKey: key,
            totalSegments: progress.totalSegments, pageLimit: options.scanPageLimit,
            limiter: readLimiter, ledger: ledger, statistics: statistics, deadLetters: deadLetters,
            maxFailures: options.maxFailures, queue: queue, shouldStop: { [self] in isStopping })
        if options.rawItems, writer.mode == .batch, source.transform.isIdentity, source.keyPrefix == nil,
            description.keySchema == prepared.blueprint.keySchema
        {
            configuredReader.rawKeyAttributes = prepared.blueprint.keySchema.attributeNames.map { AttributeName($0) }
        }
        let reader = configuredReader

        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, options.writersPerTarget) {
                group.addTask { try await writer.run(queue) }
            }
            group.addTask {
                defer { queue.finish() }
                let mine = progress.segments.filter { !$0.done && self.copies(key, segment: $0.segment) }
                if let export {
                    try await self.readExport(export, pages: reader, files: mine.map(\.segment))
                } else {
                    try await reader.read(segments: mine)
                }
            }
            do {
                try await group.waitForAll()
            } catch {
                // Wake every stage blocked on the queue so the group can end.
                queue.finish()
                throw error
            }
        }
        try checkExportFailures(source)
    }

    func makeReport(
        _ checkpoint: MigrationCheckpoint, started: Date, alreadyComplete: Bool, interrupted: Bool,
        deadLetters: URL?
    ) -> MigrationReport {
        // In write order (mapping order), which is what decides keep-existing and overwrite.
        var order: [String: Int] = [:]
        for target in mapping.targets {
            for source in target.sources { order[MigrationCheckpoint.sourceKey(target: target.name, source: source.table)] = order.count }
        }
        func position(_ p: SourceProgress) -> Int { order[MigrationCheckpoint.sourceKey(target: p.target, source: p.source)] ?? Int.max }
        let sources = checkpoint.sources.values.sorted { (position($0), $0.target, $0.source) < (position($1), $1.target, $1.source) }.map { p in
            SourceReport(
                source: p.source, target: p.target, segments: p.totalSegments,
                counts: p.segments.sum(\.counts), complete: p.done)
        }
        let finished = options.clock.date
        let duration = finished.timeIntervalSince(started)
        let liveTotals = live.withLock { $0.values.map(\.snapshot) }
        let bytesWritten = liveTotals.reduce(0) { $0 + $1.bytesWritten }
        let stats = client.statistics
        return MigrationReport(
            startedAt: started, finishedAt: finished, durationSeconds: duration, alreadyComplete: alreadyComplete,
            interrupted: interrupted, createdTables: created.withLock { $0 }, sources: sources,
            counts: sources.sum(\.counts), bytesWritten: bytesWritten,
            itemsPerSecond: duration > 0 ? Double(liveTotals.reduce(0) { $0 + $1.itemsWritten }) / duration : 0,
            megabytesPerSecond: duration > 0 ? Double(bytesWritten) / 1_000_000 / duration : 0,
            retries: stats.retries, throttles: stats.throttles,
            unprocessedResent: liveTotals.reduce(0) { $0 + $1.unprocessedResent },
            deadLetterFile: deadLetters?.path, stateDirectory: options.stateDirectory.path)
    }

    func writeReports(_ report: MigrationReport) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        // Reports are state like the rest: replaced atomically, owner-only (the store's policy).
        let state = LocalDirectoryStateStore(directory: options.stateDirectory)
        try state.replace("report.json", with: try encoder.encode(report))
        try state.replace("report.md", with: Data(report.markdown.utf8))
    }
}

extension Migrator {
    /// Where each side of the mapping is read or written: region, endpoint, profile and the role assumed,
    /// keyed `source T` / `target T` (the checkpoint's ``MigrationCheckpoint/connections``). Credentials
    /// themselves are left out on purpose: the same role reached with fresh keys is the same place.
    func connectionSummary() -> [String: String] {
        func place(_ client: DynamoDBClient) -> String {
            let c = client.configuration
            var text = "region \(c.region), endpoint \(c.endpoint), profile \(c.profile ?? "default")"
            let source = c.credentialProvider.source
            if let range = source.range(of: #"arn:aws[a-z-]*:iam::[0-9]{12}:role/[^ ()]+"#, options: .regularExpression) {
                text += ", role \(source[range])"
            }
            return text
        }
        var sides: [String: String] = [:]
        for target in mapping.targets {
            sides["target \(target.name)"] = place(clients.target(target.name))
            for source in target.sources where source.export == nil {
                sides["source \(source.table)"] = place(clients.source(source.table))
            }
        }
        return sides
    }
}

/// Errors of the migrator's own bookkeeping.
public enum MigratorError: Error, CustomStringConvertible {
    case interruptedRunExists(String)
    case otherEndpoint(String, recorded: String, now: String)
    case otherConnection(String, side: String, recorded: String, now: String)
    case nothingToResume(String)

    public var description: String {
        switch self {
        case .interruptedRunExists(let dir):
            return "an unfinished migration is recorded in \(dir); rerun with --resume to finish it, or use another --state-dir to start over"
        case .otherEndpoint(let dir, let recorded, let now):
            return "the migration in \(dir) ran against \(recorded), not \(now); use that endpoint, or another --state-dir for this one"
        case .otherConnection(let dir, let side, let recorded, let now):
            return "the migration in \(dir) read and wrote \(side) at \(recorded), not at \(now); resume it with the same "
                + "connection (profile, region, role, endpoint flags or mapping fields), or use another --state-dir for this one"
        case .nothingToResume(let dir):
            return "--resume was given, but \(dir) holds no migration to resume; check --state-dir, or drop --resume to start a new migration"
        }
    }
}

extension Optional {
    func asyncFlatMap<U>(_ transform: (Wrapped) async throws -> U?) async rethrows -> U? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
