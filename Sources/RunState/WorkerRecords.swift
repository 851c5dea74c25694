import AWSAuth
import Foundation

/// The records of a job run by many workers (`migrate --worker I/N --state URL`), all in one shared
/// ``AsyncStateStore``:
///
/// - `job.json` (``WorkerJob``): the mapping's fingerprint, the worker count and the Scan segments of
///   every source, written once by the first worker (conditional on "no document yet") and read by
///   every other, so that all workers split the same segments the same way;
/// - `targets.json` (``TargetCreationClaim``): which worker creates the missing targets (the first to
///   claim them); the others wait until it says they are done;
/// - `workers/<i>/checkpoint.json` (``WorkerCheckpoint``): worker i's lease and progress. Taking the
///   lease is a conditional replace that bumps the document's generation; every later save is
///   conditional on the generation this process wrote last, so a second process with the same index
///   takes the lease and the first one's next save is refused: it stops without advancing anything;
/// - `workers/<i>/dead-letters.jsonl`, `workers/<i>/events.jsonl` (``WorkerEvent``), `workers/<i>/report.json`.
public enum WorkerStateNames {
    public static let job = "job.json"
    public static let targets = "targets.json"
    public static func directory(_ worker: Int) -> String { "workers/\(worker)" }
    public static func checkpoint(_ worker: Int) -> String { "workers/\(worker)/checkpoint.json" }
    public static func deadLetters(_ worker: Int) -> String { "workers/\(worker)/dead-letters.jsonl" }
    public static func events(_ worker: Int) -> String { "workers/\(worker)/events.jsonl" }
    public static func report(_ worker: Int) -> String { "workers/\(worker)/report.json" }
    public static func reportMarkdown(_ worker: Int) -> String { "workers/\(worker)/report.md" }
}

/// What every worker of a job must agree on.
public struct WorkerJob: StateRecord, Equatable {
    public static var recordKind: String { "worker job record" }
    public var planFingerprint: String
    public var workers: Int
    /// Scan segments per source, keyed like the checkpoint ("target/source").
    public var segments: [String: Int]
    /// Sources in mapping order: the order segments are dealt to workers.
    public var order: [String]
    public var endpoint: String
    public var createdAt: Date
    public var formatVersion: Int?

    public init(planFingerprint: String, workers: Int, segments: [String: Int], order: [String], endpoint: String, createdAt: Date) {
        self.planFingerprint = planFingerprint; self.workers = workers; self.segments = segments
        self.order = order; self.endpoint = endpoint; self.createdAt = createdAt
    }

    /// The worker that copies `segment` of source `key`: segments are dealt round-robin over all
    /// sources in mapping order, so every worker gets a share of every large source.
    public func worker(for key: String, segment: Int) -> Int? {
        var offset = 0
        for source in order {
            let count = segments[source] ?? 0
            if source == key { return segment < count ? (offset + segment) % max(1, workers) : nil }
            offset += count
        }
        return nil
    }

    /// The segments of source `key` that `worker` copies.
    public func segments(of key: String, for worker: Int) -> [Int] {
        (0..<(segments[key] ?? 0)).filter { self.worker(for: key, segment: $0) == worker }
    }
}

/// The process holding a worker index.
public struct WorkerOwner: Codable, Sendable, Equatable {
    public var host: String
    public var pid: Int32
    /// Unique to one process's hold of the lease.
    public var token: String
    public var since: Date

    public init(host: String, pid: Int32, token: String = UUID().uuidString, since: Date) {
        self.host = host; self.pid = pid; self.token = token; self.since = since
    }

    public var description: String { "pid \(pid) on \(host), since \(RecordJSON.iso8601(since))" }
}

/// Worker i's lease and progress (its copy of the migration checkpoint, in which only its own
/// segments ever advance).
public struct WorkerCheckpoint: StateRecord, Equatable {
    public static var recordKind: String { "worker checkpoint" }
    public var worker: Int
    public var workers: Int
    public var owner: WorkerOwner
    public var checkpoint: MigrationCheckpoint
    public var formatVersion: Int?

    public init(worker: Int, workers: Int, owner: WorkerOwner, checkpoint: MigrationCheckpoint) {
        self.worker = worker; self.workers = workers; self.owner = owner; self.checkpoint = checkpoint
    }
}

/// Which worker creates the targets that do not exist yet, and whether it has finished.
public struct TargetCreationClaim: StateRecord, Equatable {
    public static var recordKind: String { "target creation claim" }
    public var worker: Int
    public var done: Bool
    public var tables: [String]
    public var formatVersion: Int?

    public init(worker: Int, done: Bool, tables: [String]) { self.worker = worker; self.done = done; self.tables = tables }
}

/// Something that happened to a worker index, for `migrate --status`.
public struct WorkerEvent: StateRecord, Equatable {
    public static var recordKind: String { "worker event" }
    public enum Kind: String, Codable, Sendable { case started, resumed, finished, fencedOff, interrupted, failed }
    public var at: Date
    public var kind: Kind
    public var owner: WorkerOwner
    public var message: String?
    public var formatVersion: Int?

    public init(at: Date, kind: Kind, owner: WorkerOwner, message: String? = nil) {
        self.at = at; self.kind = kind; self.owner = owner; self.message = message
    }
}

extension AsyncStateStore {
    /// The migration of a job of many workers as one checkpoint, for the evidence `verify` and
    /// `decommission` read: every segment as the worker that copies it checkpointed it, the targets
    /// created, and `finishedAt` only once every worker has finished (the last one's date). Nil when the
    /// store holds no job.
    public func loadJobCheckpoint() async throws -> MigrationCheckpoint? {
        guard let job = try await loadRecord(WorkerJob.self, from: WorkerStateNames.job)?.record else { return nil }
        var merged = MigrationCheckpoint(planFingerprint: job.planFingerprint, startedAt: job.createdAt)
        merged.endpoint = job.endpoint
        var everyWorkerFinished = true
        var lastFinish: Date?
        for worker in 0..<job.workers {
            guard let saved = try await loadRecord(WorkerCheckpoint.self, from: WorkerStateNames.checkpoint(worker))?.record.checkpoint else {
                everyWorkerFinished = false
                continue
            }
            if let finished = saved.finishedAt { lastFinish = max(lastFinish ?? finished, finished) } else { everyWorkerFinished = false }
            merged.startedAt = min(merged.startedAt, saved.startedAt)
            merged.updatedAt = max(merged.updatedAt, saved.updatedAt)
            for (table, creation) in saved.targetCreations ?? [:] {
                merged.targetCreations = (merged.targetCreations ?? [:]).merging([table: creation]) { old, new in
                    new.done.count > old.done.count ? new : old
                }
            }
            for key in job.order {
                guard let progress = saved.sources[key], let total = job.segments[key] else { continue }
                var source = merged.sources[key] ?? SourceProgress(source: progress.source, target: progress.target, totalSegments: total)
                for segment in job.segments(of: key, for: worker) where segment < progress.segments.count && segment < total {
                    source.segments[segment] = progress.segments[segment]
                }
                merged.sources[key] = source
            }
        }
        merged.finishedAt = everyWorkerFinished ? lastFinish : nil
        return merged
    }
}

/// What `verify` and `decommission` take from shared state (`--state`) instead of the local state
/// directory: the job's merged checkpoint and the last verification recorded there.
public struct SharedMigrationEvidence: Sendable {
    public var location: String
    public var migration: MigrationCheckpoint?
    public var verification: VerificationRecord?

    public init(location: String, migration: MigrationCheckpoint?, verification: VerificationRecord?) {
        self.location = location; self.migration = migration; self.verification = verification
    }

    /// Reads both from `store`.
    public static func load(from store: any AsyncStateStore) async throws -> SharedMigrationEvidence {
        var verification = try await store.loadRecord(VerificationRecord.self, from: VerificationRecord.fileName)?.record
        if let endpoint = verification?.endpoint { verification?.endpoint = AWSConfiguration.normalizedEndpoint(endpoint) }
        return SharedMigrationEvidence(
            location: store.location(of: ""), migration: try await store.loadJobCheckpoint(), verification: verification)
    }
}
