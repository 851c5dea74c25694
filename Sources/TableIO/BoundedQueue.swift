import RunState
import Synchronization

/// A bounded multi-producer, multi-consumer queue whose `send` suspends while it is full.
///
/// This is the backpressure between pipeline stages: a reader that gets ahead of the writers waits
/// instead of filling memory. (`AsyncStream`'s bounded policies drop elements, so data never goes through them.)
public final class BoundedQueue<Element: Sendable>: Sendable {
    private struct State {
        // Taken slots are set to nil at once, so a consumed element is freed now, not at the next compaction.
        var buffer: [Element?] = []
        var head = 0
        var senders: [(id: Int, element: Element, continuation: CheckedContinuation<Bool, Never>)] = []
        var receivers: [(id: Int, continuation: CheckedContinuation<Element?, Never>)] = []
        var finished = false
        var nextID = 0
        var count: Int { buffer.count - head }
        mutating func popFirst() -> Element? {
            guard head < buffer.count else { return nil }
            let element = buffer[head]
            buffer[head] = nil
            head += 1
            if head >= 32, head * 2 >= buffer.count {
                buffer.removeFirst(head)
                head = 0
            }
            return element
        }
    }

    private enum SendAction { case done(Bool), resume(CheckedContinuation<Element?, Never>), wait }
    private enum ReceiveAction { case value(Element?), wait }

    private let state = Mutex(State())
    /// Elements held before `send` suspends.
    public let capacity: Int

    /// Senders suspended because the queue is full (backpressure in effect).
    public var waitingSenders: Int { state.withLock { $0.senders.count } }

    public init(capacity: Int) {
        precondition(capacity > 0, "a bounded queue needs room for at least one element")
        self.capacity = capacity
    }

    /// Adds an element, waiting while the queue is full. Returns false (dropping nothing silently:
    /// the caller learns its element was not taken) when the queue was finished.
    @discardableResult
    public func send(_ element: Element) async -> Bool {
        let action: SendAction = state.withLock { s in
            if s.finished { return .done(false) }
            if !s.receivers.isEmpty { return .resume(s.receivers.removeFirst().continuation) }
            if s.count < capacity { s.buffer.append(element); return .done(true) }
            return .wait
        }
        switch action {
        case .done(let accepted): return accepted
        case .resume(let receiver): receiver.resume(returning: element); return true
        case .wait:
            return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let immediate: Bool? = state.withLock { s in
                    if s.finished { return false }
                    // Space may have appeared between the two locks.
                    if !s.receivers.isEmpty {
                        let receiver = s.receivers.removeFirst().continuation
                        receiver.resume(returning: element)
                        return true
                    }
                    if s.count < capacity { s.buffer.append(element); return true }
                    s.nextID += 1
                    s.senders.append((s.nextID, element, continuation))
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        }
    }

    /// Takes the next element, waiting while the queue is empty; nil once it is finished and drained.
    public func receive() async -> Element? {
        let action: ReceiveAction = state.withLock { s in
            if let element = s.popFirst() {
                if !s.senders.isEmpty {
                    let sender = s.senders.removeFirst()
                    s.buffer.append(sender.element)
                    sender.continuation.resume(returning: true)
                }
                return .value(element)
            }
            if !s.senders.isEmpty {
                let sender = s.senders.removeFirst()
                sender.continuation.resume(returning: true)
                return .value(sender.element)
            }
            if s.finished { return .value(nil) }
            return .wait
        }
        if case .value(let element) = action { return element }
        return await withCheckedContinuation { (continuation: CheckedContinuation<Element?, Never>) in
            let immediate: Element?? = state.withLock { s in
                if let element = s.popFirst() { return .some(element) }
                if !s.senders.isEmpty {
                    let sender = s.senders.removeFirst()
                    sender.continuation.resume(returning: true)
                    return .some(sender.element)
                }
                if s.finished { return .some(nil) }
                s.nextID += 1
                s.receivers.append((s.nextID, continuation))
                return nil
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
    }

    /// No more elements will be sent: receivers drain what is buffered, then get nil. Waiting
    /// senders get false (their elements were not taken).
    public func finish() {
        let (senders, receivers) = state.withLock { s -> ([CheckedContinuation<Bool, Never>], [CheckedContinuation<Element?, Never>]) in
            s.finished = true
            let senders = s.senders.map(\.continuation)
            let receivers = s.count == 0 ? s.receivers.map(\.continuation) : []
            s.senders.removeAll()
            if s.count == 0 { s.receivers.removeAll() }
            return (senders, receivers)
        }
        senders.forEach { $0.resume(returning: false) }
        receivers.forEach { $0.resume(returning: nil) }
    }

    /// Elements waiting in the buffer now.
    public var bufferedCount: Int { state.withLock { $0.count } }
}

extension BoundedQueue: AsyncSequence {
    public struct AsyncIterator: AsyncIteratorProtocol {
        let queue: BoundedQueue
        public mutating func next() async -> Element? { await queue.receive() }
    }
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(queue: self) }
}
