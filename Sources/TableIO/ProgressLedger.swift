import AWSAuth
import DynamoClient
import DynamoCore
import Foundation
import RunState
import Synchronization

/// Identifies one Scan page of one segment of one source, in reading order.
public struct PageRef: Sendable, Hashable {
    public var source: String
    public var segment: Int
    public var sequence: Int
    public init(source: String, segment: Int, sequence: Int) {
        self.source = source; self.segment = segment; self.sequence = sequence
    }
}

/// The writer's acknowledgements turned into durable progress.
///
/// A segment's resume point only moves past a page when every item of that page and of every
/// earlier page has been written (or filtered, or dead-lettered): after a crash, reading restarts
/// there, so no item can be lost, and items written twice are written with the same content.
public final class ProgressLedger: Sendable {
    struct Pending {
        var lastEvaluatedKey: Item?
        var remaining: Int
        var counts: RunCounters
    }
    struct Segment {
        var nextToCommit = 0
        var pending: [Int: Pending] = [:]
    }
    struct State {
        var checkpoint: MigrationCheckpoint
        var segments: [String: [Int: Segment]] = [:]
        var dirty = false
    }

    private let state: Mutex<State>
    /// Where `updatedAt` and `finishedAt` come from.
    private let clock: any RunClock

    public init(checkpoint: MigrationCheckpoint, clock: any RunClock = SystemClock()) {
        state = Mutex(State(checkpoint: checkpoint))
        self.clock = clock
    }

    /// Records a page read from DynamoDB. `writes` is how many items will be acknowledged by the writer.
    public func register(_ page: PageRef, lastEvaluatedKey: Item?, writes: Int, counts: RunCounters) {
        state.withLock { s in
            s.segments[page.source, default: [:]][page.segment, default: Segment()]
                .pending[page.sequence] = Pending(lastEvaluatedKey: lastEvaluatedKey, remaining: writes, counts: counts)
            Self.commitReady(&s, source: page.source, segment: page.segment)
        }
    }

    /// Acknowledges `count` items of a page as written (`keptExisting` of them were left as they were).
    public func acknowledge(_ page: PageRef, count: Int, keptExisting: Int = 0) {
        state.withLock { s in
            guard var pending = s.segments[page.source]?[page.segment]?.pending[page.sequence] else { return }
            pending.remaining -= count
            pending.counts.itemsWritten += count - keptExisting
            pending.counts.itemsKeptExisting += keptExisting
            s.segments[page.source]![page.segment]!.pending[page.sequence] = pending
            Self.commitReady(&s, source: page.source, segment: page.segment)
        }
    }

    private static func commitReady(_ s: inout State, source: String, segment: Int) {
        guard var seg = s.segments[source]?[segment] else { return }
        while let page = seg.pending[seg.nextToCommit], page.remaining <= 0 {
            seg.pending[seg.nextToCommit] = nil
            seg.nextToCommit += 1
            guard var progress = s.checkpoint.sources[source] else { continue }
            var p = progress.segments[segment]
            p.counts += page.counts
            if let key = page.lastEvaluatedKey {
                p.resumeAfterKey = SegmentProgress.encodeKey(key)
            } else {
                p.resumeAfterKey = nil
                p.done = true
            }
            progress.segments[segment] = p
            s.checkpoint.sources[source] = progress
            s.dirty = true
        }
        s.segments[source]![segment] = seg
    }

    /// Adds a source to the checkpoint (a no-op when it is already there).
    public func ensureSource(_ key: String, source: String, target: String, totalSegments: Int) -> SourceProgress {
        state.withLock { s in
            if let existing = s.checkpoint.sources[key] { return existing }
            let progress = SourceProgress(source: source, target: target, totalSegments: totalSegments)
            s.checkpoint.sources[key] = progress
            s.dirty = true
            return progress
        }
    }

    /// The checkpoint as of now, and whether it changed since the last call.
    public func snapshot() -> (MigrationCheckpoint, changed: Bool) {
        state.withLock { s in
            let changed = s.dirty
            s.dirty = false
            s.checkpoint.updatedAt = clock.date
            return (s.checkpoint, changed)
        }
    }

    public func markFinished() {
        state.withLock { s in
            s.checkpoint.finishedAt = clock.date
            s.dirty = true
        }
    }

    /// Pages read but not yet fully acknowledged.
    public var outstandingPages: Int {
        state.withLock { s in s.segments.values.reduce(0) { $0 + $1.values.reduce(0) { $0 + $1.pending.count } } }
    }
}
