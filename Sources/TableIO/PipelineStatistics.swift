import RunState
import Synchronization

/// Live counters of a run, read by the progress display and the report.
public final class PipelineStatistics: Sendable {
    public struct Snapshot: Sendable, Equatable {
        public var itemsRead = 0
        public var bytesRead = 0
        public var itemsWritten = 0
        public var bytesWritten = 0
        public var itemsFiltered = 0
        public var itemsDeadLettered = 0
        public var itemsKeptExisting = 0
        public var unprocessedResent = 0
        public var writeRequests = 0
        public var scanPages = 0
    }
    private let state = Mutex(Snapshot())
    public init() {}
    public var snapshot: Snapshot { state.withLock { $0 } }
    package func addRead(_ items: Int, bytes: Int) { state.withLock { $0.itemsRead += items; $0.bytesRead += bytes; $0.scanPages += 1 } }
    package func addWritten(_ items: Int, bytes: Int) { state.withLock { $0.itemsWritten += items; $0.bytesWritten += bytes } }
    package func addFiltered(_ n: Int) { state.withLock { $0.itemsFiltered += n } }
    package func addDeadLettered(_ n: Int) { state.withLock { $0.itemsDeadLettered += n } }
    package func addKeptExisting(_ n: Int) { state.withLock { $0.itemsKeptExisting += n } }
    package func addUnprocessed(_ n: Int) { state.withLock { $0.unprocessedResent += n } }
    package func addRequest() { state.withLock { $0.writeRequests += 1 } }
}
