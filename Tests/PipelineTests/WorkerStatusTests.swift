import Foundation
import Pipeline
import RunState
import TestSupport
import Testing

/// `migrate --status` from the records alone (a local directory store: the same protocol as the control table).
@Suite struct WorkerStatusTests {
    @Test("states, stragglers, fenced-off processes and totals are read from the job's records")
    func statusFromRecords() async throws {
        let store = LocalDirectoryStateStore(directory: TestEnvironment.temporaryDirectory("worker-status"))
        let t0 = Date(timeIntervalSince1970: 1_795_000_000)
        let job = WorkerJob(planFingerprint: "p", workers: 3, segments: ["t/s": 6], order: ["t/s"], endpoint: "http://x", createdAt: t0)
        try await store.saveRecord(job, to: WorkerStateNames.job)
        func checkpoint(worker: Int, done: [Int], written: Int, finished: Bool, updated: Date) -> WorkerCheckpoint {
            var checkpoint = MigrationCheckpoint(planFingerprint: "p", startedAt: t0)
            var source = SourceProgress(source: "s", target: "t", totalSegments: 6)
            for segment in job.segments(of: "t/s", for: worker) {
                source.segments[segment].itemsRead = written
                source.segments[segment].itemsWritten = written
                source.segments[segment].done = done.contains(segment)
            }
            checkpoint.sources["t/s"] = source
            checkpoint.updatedAt = updated
            if finished { checkpoint.finishedAt = updated }
            return WorkerCheckpoint(worker: worker, workers: 3, owner: WorkerOwner(host: "h", pid: 10 + Int32(worker), since: t0), checkpoint: checkpoint)
        }
        // Worker 0 (segments 0 and 3) finished; worker 1 (1 and 4) stopped checkpointing 200 s ago; worker 2 never started.
        try await store.saveRecord(checkpoint(worker: 0, done: [0, 3], written: 10, finished: true, updated: t0), to: WorkerStateNames.checkpoint(0))
        try await store.saveRecord(checkpoint(worker: 1, done: [1], written: 7, finished: false, updated: t0), to: WorkerStateNames.checkpoint(1))
        let loser = WorkerOwner(host: "h", pid: 99, since: t0)
        try await store.appendRecord(WorkerEvent(at: t0, kind: .fencedOff, owner: loser, message: "fenced"), to: WorkerStateNames.events(1))

        let status = try #require(try await WorkerJobStatus.load(from: store, now: t0.addingTimeInterval(200)))
        #expect(status.perWorker.map(\.state) == [.finished, .stalled, .notStarted])
        #expect(status.perWorker.map(\.segmentsDone) == [2, 1, 0])
        #expect(status.perWorker[2].segments.map(\.segment) == [2, 5])
        #expect(status.segmentsTotal == 6 && status.segmentsDone == 3 && status.workersFinished == 1)
        #expect(status.counts.itemsWritten == 34)
        #expect(status.stragglers == [1, 2])
        #expect(status.fencedOff == [FencedOffProcess(worker: 1, owner: loser, at: t0, message: "fenced")])
        // Within two minutes of its last checkpoint a worker is running; one finished worker of three is
        // not yet half, so a running worker is not a straggler.
        let fresh = try #require(try await WorkerJobStatus.load(from: store, now: t0.addingTimeInterval(60)))
        #expect(fresh.perWorker[1].state == .running)
        #expect(fresh.stragglers == [2])
        // The merged checkpoint (decommission's evidence) is not finished while a worker is not.
        let merged = try #require(try await store.loadJobCheckpoint())
        #expect(merged.finishedAt == nil)
        #expect(merged.sources["t/s"]?.segments.map(\.done) == [true, true, false, true, false, false])
    }
}
