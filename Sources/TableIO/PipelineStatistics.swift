import RunState
import Synchronization

/// Live counters of a run, read by the progress display and the report.
public final class PipelineStatistics: Sendable {
    /// The run's counters and the figures only the live display needs.
    @dynamicMemberLookup
    public struct Snapshot: Sendable, Equatable {
        public var counts = RunCounters()
        public var bytesWritten = 0
        public var unprocessedResent = 0
        public var writeRequests = 0
        public var scanPages = 0

        public subscript<T>(dynamicMember keyPath: KeyPath<RunCounters, T>) -> T { counts[keyPath: keyPath] }
    }
    private let state = Mutex(Snapshot())
    public init() {}
    public var snapshot: Snapshot { state.withLock { $0 } }
    package func addRead(_ items: Int, bytes: Int) {
        state.withLock {
            $0.counts.itemsRead += items; $0.counts.bytesRead += bytes; $0.scanPages += 1
        }
    }
    package func addWritten(_ items: Int, bytes: Int) {
        state.withLock {
            $0.counts.itemsWritten += items; $0.bytesWritten += bytes
        }
    }
    package func addFiltered(_ n: Int) { state.withLock { $0.counts.itemsFiltered += n } }
    package func addDeadLettered(_ n: Int) { state.withLock { $0.counts.itemsDeadLettered += n } }
    package func addKeptExisting(_ n: Int) { state.withLock { $0.counts.itemsKeptExisting += n } }
    package func addUnprocessed(_ n: Int) { state.withLock { $0.unprocessedResent += n } }
    package func addRequest() { state.withLock { $0.writeRequests += 1 } }
}
