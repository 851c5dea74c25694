// Pipeline: one migration run by many workers (a Kubernetes Indexed Job, an AWS Batch array job), each
// copying its share of the Scan segments, with shared state and fenced checkpoints.
import AWSAuth
import DynamoClient
import DynamoCore
import Foundation
import Logging
import Mappings
import RunState
import Synchronization
import TableIO

/// This process's place in a job of many workers.
public struct WorkerShare: Sendable {
    /// What every worker agreed on (segments, worker count), from `job.json`.
    public var job: WorkerJob
    /// This worker's index, 0-based.
    public var worker: Int

    public init(job: WorkerJob, worker: Int) { self.job = job; self.worker = worker }
}

/// Why a worker stops.
public enum WorkerError: Error, Sendable, CustomStringConvertible {
    /// Another process took this worker's index: this one has stopped without advancing anything.
    case fencedOff(worker: Int, workers: Int, by: WorkerOwner?, location: String)
    /// The job recorded in the shared state disagrees with this worker's arguments.
    case inconsistentJob(location: String, reason: String)
    /// Waiting for the worker that creates the targets took too long.
    case targetsNotCreated(location: String, creator: Int, reason: String)

    public var description: String {
        switch self {
        case .fencedOff(let worker, let workers, let by, let location):
            "worker \(worker)/\(workers) was fenced off: another process (\(by?.description ?? "unknown")) took this worker index in \(location); "
                + "this one stopped without advancing the checkpoint. Run one process per index; the other one carries on from the checkpoint"
        case .inconsistentJob(let location, let reason):
            "\(location): \(reason)"
        case .targetsNotCreated(let location, let creator, let reason):
            "worker \(creator) has not finished creating the targets (\(location)): \(reason); check that worker, then run this one again"
        }
    }
}

/// Where the checkpoint of target creation is saved: the local file, or a worker's fenced checkpoint.
protocol CheckpointSink: Sendable {
    func save(_ checkpoint: MigrationCheckpoint) async throws
    /// Removes the checkpoint (a run refused before it did anything leaves none).
    func discard() async throws
}

extension FileCheckpointStore: CheckpointSink {
    func discard() async throws { try? FileManager.default.removeItem(at: path) }
}

/// A worker's hold on its index: its checkpoint document and the generation this process wrote last.
///
/// Every save is a conditional replace on that generation, so once another process has taken the
/// index (bumping the generation) every save of this one is refused and it is ``fenced``. Saves are
/// serialized (the flusher's and the final one), so this process never races itself.
actor WorkerLease: CheckpointSink {
    let store: any AsyncStateStore
    let worker: Int
    let workers: Int
    let owner: WorkerOwner
    var name: String { WorkerStateNames.checkpoint(worker) }
    private(set) var generation: UInt64 = 0
    /// Who took the index from this process, once it has been fenced off.
    private(set) var fenced: WorkerOwner??
    private var tail: Task<Void, Never>?

    init(store: any AsyncStateStore, worker: Int, workers: Int, owner: WorkerOwner) {
        self.store = store; self.worker = worker; self.workers = workers; self.owner = owner
    }

    var fencedError: WorkerError? {
        fenced.map { WorkerError.fencedOff(worker: worker, workers: workers, by: $0, location: store.location(of: name)) }
    }

    /// Takes the index: writes `checkpoint` under this process's ownership on the generation read.
    func take(_ checkpoint: MigrationCheckpoint, readGeneration: UInt64) async throws {
        let record = WorkerCheckpoint(worker: worker, workers: workers, owner: owner, checkpoint: checkpoint)
        do {
            generation = try await store.saveRecord(record, to: name, expectedGeneration: readGeneration)
        } catch StateFileError.staleGeneration {
            let holder = try? await store.loadRecord(WorkerCheckpoint.self, from: name)?.record.owner
            fenced = .some(holder)
            throw fencedError!
        }
    }

    func save(_ checkpoint: MigrationCheckpoint) async throws {
        let previous = tail
        let work = Task { () async throws -> Void in
            await previous?.value
            try await self.write(checkpoint)
        }
        tail = Task { _ = try? await work.value }
        try await work.value
    }

    func discard() async throws {}

    private func write(_ checkpoint: MigrationCheckpoint) async throws {
        if let error = fencedError { throw error }
        let record = WorkerCheckpoint(worker: worker, workers: workers, owner: owner, checkpoint: checkpoint)
        do {
            generation = try await store.saveRecord(record, to: name, expectedGeneration: generation)
        } catch StateFileError.staleGeneration {
            let holder = try? await store.loadRecord(WorkerCheckpoint.self, from: name)?.record.owner
            fenced = .some(holder)
            throw fencedError!
        }
    }
}

/// Sets up one worker of a job: agrees with the other workers on the segments (`job.json`), then makes
/// the ``Migrator`` that copies this worker's share.
public struct WorkerRun: Sendable {
    public let client: DynamoDBClient
    public let mapping: ResolvedMapping
    public let options: MigrationOptions
    public let worker: Int
    public let workers: Int
    public let store: any AsyncStateStore
    let logger: Logger

    public init(
        client: DynamoDBClient, mapping: ResolvedMapping, options: MigrationOptions, worker: Int, workers: Int,
        store: any AsyncStateStore, logger: Logger = Logger(label: "dynamo-migrate.pipeline")
    ) {
        self.client = client; self.mapping = mapping; self.options = options
        self.worker = worker; self.workers = workers; self.store = store; self.logger = logger
    }

    /// Reads (or, first of all workers, writes) the job record and returns the migrator for this worker.
    public func prepare() async throws -> Migrator {
        let job = try await agreeOnJob()
        var configured = options
        configured.workerShare = WorkerShare(job: job, worker: worker)
        return Migrator(client: client, mapping: mapping, options: configured, logger: logger)
    }

    func agreeOnJob() async throws -> WorkerJob {
        let location = store.location(of: WorkerStateNames.job)
        if let recorded = try await store.loadRecord(WorkerJob.self, from: WorkerStateNames.job)?.record {
            try check(recorded, location: location)
            return recorded
        }
        var segments: [String: Int] = [:]
        var order: [String] = []
        for target in mapping.targets {
            for source in target.sources {
                // Workers share out Scan segments; an export's data files are not dealt out (yet).
                if source.export != nil {
                    throw WorkerError.inconsistentJob(
                        location: location,
                        reason:
                            "the source \(source.table) of \(target.name) is an export: a job of several workers copies tables only; migrate it with one process (no --worker)"
                    )
                }
                guard let description = try await client.describeTableIfExists(source.table) else { throw PipelineError.missingTable(source.table) }
                let key = MigrationCheckpoint.sourceKey(target: target.name, source: source.table)
                // At least one segment per worker, so that every worker has work on every source.
                segments[key] = options.segments.map { max(1, $0) } ?? max(ParallelScan.defaultSegments(for: description), workers)
                order.append(key)
            }
        }
        let job = WorkerJob(
            planFingerprint: options.planFingerprint, workers: workers, segments: segments, order: order,
            endpoint: client.configuration.endpoint, createdAt: options.clock.date)
        do {
            try await store.saveRecord(job, to: WorkerStateNames.job, expectedGeneration: 0)
            return job
        } catch StateFileError.staleGeneration {
            // Another worker wrote it first: theirs is the job.
            guard let recorded = try await store.loadRecord(WorkerJob.self, from: WorkerStateNames.job)?.record else {
                throw StateFileError.unreadable(path: location, reason: "the job record was written and is gone again")
            }
            try check(recorded, location: location)
            return recorded
        }
    }

    func check(_ job: WorkerJob, location: String) throws {
        guard job.planFingerprint == options.planFingerprint else {
            throw WorkerError.inconsistentJob(
                location: location,
                reason: "this state holds a job of another mapping (or of this mapping before it was edited); pass another --state for this one")
        }
        guard job.workers == workers else {
            throw WorkerError.inconsistentJob(
                location: location,
                reason: "the job was started with \(job.workers) workers, this worker with \(workers) (--worker \(worker)/\(workers)); "
                    + "every worker of a job must be given the same count")
        }
        guard job.endpoint == client.configuration.endpoint else {
            throw WorkerError.inconsistentJob(
                location: location, reason: "the job runs against \(job.endpoint), this worker against \(client.configuration.endpoint)")
        }
        if let segments = options.segments, job.segments.values.contains(where: { $0 != segments }) {
            throw WorkerError.inconsistentJob(
                location: location,
                reason: "the job's sources are split into \(job.segments.values.sorted().map(String.init).joined(separator: "/")) segments, "
                    + "not the --segments \(segments) given here; drop --segments or give the job's")
        }
    }
}

extension Migrator {
    /// Whether this process copies `segment` of source `key` (always, outside a job of many workers).
    func copies(_ key: String, segment: Int) -> Bool {
        guard let share = options.workerShare else { return true }
        return share.job.worker(for: key, segment: segment) == share.worker
    }

    /// Runs this worker's share of the job with its state in `store`: takes the worker's index (fencing
    /// off any other process holding it), resumes from its checkpoint, creates the targets or waits for
    /// the worker that does, copies its segments, and writes its report.
    public func runAsWorker(store: any AsyncStateStore) async throws -> MigrationReport {
        guard let share = options.workerShare else { preconditionFailure("runAsWorker needs options.workerShare") }
        let worker = share.worker, workers = share.job.workers
        let started = options.clock.date
        let owner = WorkerOwner(host: ProcessInfo.processInfo.hostName, pid: getpid(), since: started)
        let lease = WorkerLease(store: store, worker: worker, workers: workers, owner: owner)
        let events = WorkerStateNames.events(worker)

        let existing = try await store.loadRecord(WorkerCheckpoint.self, from: WorkerStateNames.checkpoint(worker))
        var checkpoint: MigrationCheckpoint
        if let existing {
            guard existing.record.checkpoint.planFingerprint == options.planFingerprint else {
                throw WorkerError.inconsistentJob(
                    location: store.location(of: WorkerStateNames.checkpoint(worker)), reason: "this worker's checkpoint belongs to another mapping")
            }
            checkpoint = existing.record.checkpoint
        } else {
            checkpoint = MigrationCheckpoint(planFingerprint: options.planFingerprint, startedAt: started)
            checkpoint.endpoint = client.configuration.endpoint
        }
        try await lease.take(checkpoint, readGeneration: existing?.generation ?? 0)
        let previous = existing.map { " (took over from \($0.record.owner.description))" } ?? ""
        try? await store.appendRecord(
            WorkerEvent(at: started, kind: existing == nil ? .started : .resumed, owner: owner, message: "worker \(worker)/\(workers)\(previous)"),
            to: events)

        if checkpoint.finishedAt != nil {
            return workerReport(checkpoint, share: share, store: store, started: started, alreadyComplete: true, interrupted: false, deadLetters: nil)
        }

        let prepared = try await prepareTargetsOnce(checkpoint: &checkpoint, lease: lease, store: store, worker: worker)
        let ledger = ProgressLedger(checkpoint: checkpoint, clock: options.clock)
        let deadLetterName = WorkerStateNames.deadLetters(worker)
        let deadLetters = DeadLetterLog(bufferingFor: store.location(of: deadLetterName))
        let logger = self.logger

        /// Saves the ledger's checkpoint; the dead letters recorded before its snapshot go first, so
        /// no saved checkpoint is past a dead letter that is not stored.
        @Sendable func flush() async throws {
            let (snapshot, _) = ledger.snapshot()
            var lines = deadLetters.drain()
            do {
                while let line = lines.first {
                    try await store.append(line: line, to: deadLetterName)
                    lines.removeFirst()
                }
            } catch {
                deadLetters.restore(lines)
                throw error
            }
            try await lease.save(snapshot)
        }

        try await flush()
        let flusher = Task {
            while !Task.isCancelled {
                try? await options.clock.sleep(for: .milliseconds(500))
                if Task.isCancelled { break }
                do { try await flush() } catch let error as WorkerError {
                    logger.error("\(error.description)")
                    self.requestStop()
                    break
                } catch {
                    // A store that does not answer for a while: the next flush tries again.
                    logger.warning("could not save the checkpoint (trying again): \(error)")
                }
            }
        }

        sourceBarrier.withLock { barrier in
            barrier = { [self] target, position in
                try await self.waitForEarlierSources(of: target, before: position, store: store, share: share)
            }
        }
        do {
            try await copyTargets(prepared, ledger: ledger, deadLetters: deadLetters)
        } catch {
            flusher.cancel()
            _ = await flusher.result
            if let fenced = await lease.fencedError { throw await fencedOff(fenced, store: store, events: events, owner: owner) }
            try? await flush()
            try? await store.appendRecord(WorkerEvent(at: options.clock.date, kind: .failed, owner: owner, message: "\(error)"), to: events)
            throw error
        }
        flusher.cancel()
        _ = await flusher.result
        if let fenced = await lease.fencedError { throw await fencedOff(fenced, store: store, events: events, owner: owner) }
        let interrupted = isStopping
        if !interrupted { ledger.markFinished() }
        do { try await flush() } catch let error as WorkerError { throw await fencedOff(error, store: store, events: events, owner: owner) }
        let report = workerReport(
            ledger.snapshot().0, share: share, store: store, started: started, alreadyComplete: false, interrupted: interrupted,
            deadLetters: deadLetters.count > 0 ? store.location(of: deadLetterName) : nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        try await store.replace(WorkerStateNames.report(worker), with: try encoder.encode(report), expectedGeneration: nil)
        try await store.replace(WorkerStateNames.reportMarkdown(worker), with: Data(report.markdown.utf8), expectedGeneration: nil)
        try? await store.appendRecord(
            WorkerEvent(
                at: options.clock.date, kind: interrupted ? .interrupted : .finished, owner: owner,
                message: "\(report.itemsWritten) items written"), to: events)
        return report
    }

    /// Waits until every worker has copied its segments of the sources of `target` before `position`.
    ///
    /// A merged target's conflict policy is decided by source order (keep-existing: the first source's
    /// item stays; overwrite: the last one's wins; fail: a second item for a key is a conflict) and so
    /// are its write modes (``TargetWriteMode``). One process copies a target's sources one after
    /// another; in a job of many workers a worker still copying source 1 while another starts source 2
    /// would let a source-1 item land after a source-2 item for the same key. So no worker starts a
    /// later source before all workers' checkpoints show the earlier ones done. A worker that died is
    /// restarted by the scheduler with its index and finishes its share; the others wait for it.
    func waitForEarlierSources(of target: PreparedTarget, before position: Int, store: any AsyncStateStore, share: WorkerShare) async throws {
        let keys = target.sources.prefix(position).map { MigrationCheckpoint.sourceKey(target: target.target.name, source: $0.source.table) }
        var lastSaid: ContinuousClock.Instant?
        while !isStopping {
            var pending: [Int] = []
            for worker in 0..<share.job.workers {
                let owned = keys.map { ($0, share.job.segments(of: $0, for: worker)) }.filter { !$0.1.isEmpty }
                if owned.isEmpty { continue }
                let checkpoint = try await store.loadRecord(WorkerCheckpoint.self, from: WorkerStateNames.checkpoint(worker))?.record.checkpoint
                let done = owned.allSatisfy { key, segments in
                    guard let progress = checkpoint?.sources[key] else { return false }
                    return segments.allSatisfy { segment in progress.segments.first { $0.segment == segment }?.done == true }
                }
                if !done { pending.append(worker) }
            }
            if pending.isEmpty { return }
            let now = options.clock.now
            if lastSaid.map({ now - $0 >= .seconds(30) }) ?? true {
                lastSaid = now
                // A warning so it shows without --verbose: a worker that waits on others is what an operator looks for.
                logger.warning(
                    "\(target.target.name): waiting for worker\(pending.count == 1 ? "" : "s") \(pending.map(String.init).joined(separator: ", ")) to finish \(keys.joined(separator: ", ")) before source \(position + 1) (merge order)"
                )
            }
            try await options.clock.sleep(for: .seconds(1))
        }
    }

    /// Records that this process was fenced off, and returns the error to stop with.
    func fencedOff(_ error: WorkerError, store: any AsyncStateStore, events: String, owner: WorkerOwner) async -> WorkerError {
        try? await store.appendRecord(WorkerEvent(at: options.clock.date, kind: .fencedOff, owner: owner, message: error.description), to: events)
        return error
    }

    /// Targets are created once for the whole job: the first worker to claim `targets.json` creates
    /// the missing ones (recording each step in its fenced checkpoint, so a restart with its index
    /// adopts and finishes them); every other worker waits until the claim says they are done.
    func prepareTargetsOnce(
        checkpoint: inout MigrationCheckpoint, lease: WorkerLease, store: any AsyncStateStore, worker: Int
    ) async throws -> [PreparedTarget] {
        let name = WorkerStateNames.targets
        var claim = try await store.loadRecord(TargetCreationClaim.self, from: name)
        if claim == nil {
            var missing: [String] = []
            for target in mapping.targets where try await client.describeTableIfExists(target.name) == nil { missing.append(target.name) }
            if missing.isEmpty { return try await prepareTargets(checkpoint: &checkpoint, store: lease) }
            let mine = TargetCreationClaim(worker: worker, done: false, tables: missing)
            do {
                let generation = try await store.saveRecord(mine, to: name, expectedGeneration: 0)
                claim = (mine, generation)
            } catch StateFileError.staleGeneration {
                claim = try await store.loadRecord(TargetCreationClaim.self, from: name)
            }
        }
        guard let (record, generation) = claim else { return try await prepareTargets(checkpoint: &checkpoint, store: lease) }
        if record.worker == worker {
            let prepared = try await prepareTargets(checkpoint: &checkpoint, store: lease)
            if !record.done {
                var done = record
                done.done = true
                try await store.saveRecord(done, to: name, expectedGeneration: generation)
            }
            return prepared
        }
        if !record.done {
            logger.info("waiting for worker \(record.worker) to create \(record.tables.joined(separator: ", "))")
            var lastError: (any Error)?
            do {
                _ = try await client.waiter(timeout: .seconds(3600), pollInterval: .milliseconds(500)).wait(
                    for: "created by worker \(record.worker)", of: record.tables.joined(separator: ", ")
                ) { () async throws(DynamoDBError) -> Bool? in
                    if isStopping { return true }
                    do {
                        return try await store.loadRecord(TargetCreationClaim.self, from: name)?.record.done == true ? true : nil
                    } catch {
                        lastError = error
                        return nil
                    }
                }
            } catch {
                throw WorkerError.targetsNotCreated(
                    location: store.location(of: name), creator: record.worker, reason: lastError.map { "\($0)" } ?? "\(error)")
            }
        }
        return try await prepareTargets(checkpoint: &checkpoint, store: lease)
    }

    func workerReport(
        _ checkpoint: MigrationCheckpoint, share: WorkerShare, store: any AsyncStateStore, started: Date, alreadyComplete: Bool,
        interrupted: Bool, deadLetters: String?
    ) -> MigrationReport {
        var report = makeReport(checkpoint, started: started, alreadyComplete: alreadyComplete, interrupted: interrupted, deadLetters: nil)
        // A worker's source is complete when its own segments are.
        for index in report.sources.indices {
            let key = MigrationCheckpoint.sourceKey(target: report.sources[index].target, source: report.sources[index].source)
            let mine = Set(share.job.segments(of: key, for: share.worker))
            report.sources[index].complete = checkpoint.sources[key]?.segments.filter { mine.contains($0.segment) }.allSatisfy(\.done) ?? false
            report.sources[index].segments = mine.count
        }
        report.deadLetterFile = deadLetters
        report.stateDirectory = store.location(of: WorkerStateNames.directory(share.worker))
        return report
    }
}
