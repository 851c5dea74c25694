// Pipeline: `migrate --status`, where every worker of a job stands, read from the shared state alone.
import Foundation
import RunState

/// Where a job of many workers stands: per worker and segment, totals, stragglers, fenced-off processes.
public struct WorkerJobStatus: Codable, Sendable, Equatable {
    public var workers: Int
    public var segmentsTotal: Int
    public var segmentsDone: Int
    public var workersFinished: Int
    /// The sum of every worker's checkpointed counters.
    public var counts: RunCounters
    public var perWorker: [WorkerProgress]
    /// Unfinished workers that have not started, whose checkpoint has not moved for
    /// ``stalledAfterSeconds``, or that are the last ones running when most have finished.
    public var stragglers: [Int]
    /// Processes that were fenced off because another one took their index.
    public var fencedOff: [FencedOffProcess]

    public static let stalledAfterSeconds = 120.0

    enum CodingKeys: String, CodingKey { case workers, segmentsTotal, segmentsDone, workersFinished, perWorker, stragglers, fencedOff }

    public init(
        workers: Int, segmentsTotal: Int, segmentsDone: Int, workersFinished: Int, counts: RunCounters, perWorker: [WorkerProgress],
        stragglers: [Int], fencedOff: [FencedOffProcess]
    ) {
        self.workers = workers; self.segmentsTotal = segmentsTotal; self.segmentsDone = segmentsDone
        self.workersFinished = workersFinished; self.counts = counts; self.perWorker = perWorker
        self.stragglers = stragglers; self.fencedOff = fencedOff
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        workers = try c.decode(Int.self, forKey: .workers)
        segmentsTotal = try c.decode(Int.self, forKey: .segmentsTotal)
        segmentsDone = try c.decode(Int.self, forKey: .segmentsDone)
        workersFinished = try c.decode(Int.self, forKey: .workersFinished)
        perWorker = try c.decode([WorkerProgress].self, forKey: .perWorker)
        stragglers = try c.decode([Int].self, forKey: .stragglers)
        fencedOff = try c.decode([FencedOffProcess].self, forKey: .fencedOff)
        counts = try RunCounters(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(workers, forKey: .workers)
        try c.encode(segmentsTotal, forKey: .segmentsTotal)
        try c.encode(segmentsDone, forKey: .segmentsDone)
        try c.encode(workersFinished, forKey: .workersFinished)
        try c.encode(perWorker, forKey: .perWorker)
        try c.encode(stragglers, forKey: .stragglers)
        try c.encode(fencedOff, forKey: .fencedOff)
        try counts.encode(to: encoder)
    }

    /// Reads the job in `store`, or nil when it holds none.
    public static func load(from store: any AsyncStateStore, now: Date) async throws -> WorkerJobStatus? {
        guard let job = try await store.loadRecord(WorkerJob.self, from: WorkerStateNames.job)?.record else { return nil }
        var perWorker: [WorkerProgress] = []
        var fenced: [FencedOffProcess] = []
        for worker in 0..<job.workers {
            let saved = try await store.loadRecord(WorkerCheckpoint.self, from: WorkerStateNames.checkpoint(worker))?.record
            var segments: [SegmentState] = []
            for key in job.order {
                for segment in job.segments(of: key, for: worker) {
                    let progress = saved?.checkpoint.sources[key]?.segments.first { $0.segment == segment }
                    segments.append(
                        SegmentState(source: key, segment: segment, done: progress?.done ?? false, counts: progress?.counts ?? .zero))
                }
            }
            let finished = saved?.checkpoint.finishedAt != nil && segments.allSatisfy(\.done)
            let state: WorkerProgress.State
            if saved == nil {
                state = .notStarted
            } else if finished {
                state = .finished
            } else if let updated = saved?.checkpoint.updatedAt, now.timeIntervalSince(updated) > stalledAfterSeconds {
                state = .stalled
            } else {
                state = .running
            }
            perWorker.append(
                WorkerProgress(
                    worker: worker, state: state, owner: saved?.owner, updatedAt: saved?.checkpoint.updatedAt,
                    segmentsDone: segments.filter(\.done).count, segments: segments))
            let (events, _) = try await store.readRecords(WorkerEvent.self, in: WorkerStateNames.events(worker))
            for event in events where event.kind == .fencedOff {
                fenced.append(FencedOffProcess(worker: worker, owner: event.owner, at: event.at, message: event.message ?? ""))
            }
        }
        let finished = perWorker.filter { $0.state == .finished }.count
        let stragglers = perWorker.filter { p in
            p.state == .stalled || p.state == .notStarted || (p.state == .running && finished * 2 >= job.workers && finished < job.workers)
        }.map(\.worker)
        return WorkerJobStatus(
            workers: job.workers, segmentsTotal: job.segments.values.reduce(0, +),
            segmentsDone: perWorker.reduce(0) { $0 + $1.segmentsDone }, workersFinished: finished,
            counts: perWorker.sum(\.counts), perWorker: perWorker, stragglers: stragglers, fencedOff: fenced)
    }
}

/// One worker's progress.
public struct WorkerProgress: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable { case notStarted = "not started", running, stalled, finished }
    public var worker: Int
    public var state: State
    /// The process holding the index (the last one to take it).
    public var owner: WorkerOwner?
    public var updatedAt: Date?
    public var segmentsDone: Int
    public var segments: [SegmentState]
    public var counts: RunCounters { segments.sum(\.counts) }
}

/// One segment of one source, as the worker that copies it has checkpointed it.
@dynamicMemberLookup
public struct SegmentState: Codable, Sendable, Equatable {
    public var source: String
    public var segment: Int
    public var done: Bool
    public var counts: RunCounters

    public subscript<T>(dynamicMember keyPath: KeyPath<RunCounters, T>) -> T { counts[keyPath: keyPath] }
}

/// A process that lost its worker index to another.
public struct FencedOffProcess: Codable, Sendable, Equatable {
    public var worker: Int
    public var owner: WorkerOwner
    public var at: Date
    public var message: String

    public init(worker: Int, owner: WorkerOwner, at: Date, message: String) {
        self.worker = worker; self.owner = owner; self.at = at; self.message = message
    }
}
