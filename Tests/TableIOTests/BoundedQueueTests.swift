import RunState
import Synchronization
import TableIO
import Testing

/// Shared mutable state for the tests' tasks.
final class Locked<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { value.withLock { body(&$0) } }
}

@Suite struct BoundedQueueTests {
    @Test func sendWaitsWhileTheQueueIsFull() async throws {
        let queue = BoundedQueue<Int>(capacity: 2)
        #expect(await queue.send(1))
        #expect(await queue.send(2))
        let third = Locked(false)
        let sender = Task {
            let accepted = await queue.send(3)
            third.withLock { $0 = true }
            return accepted
        }
        // The sender either suspends (right) or completes (wrong); wait for whichever happens.
        while queue.waitingSenders == 0, !third.withLock({ $0 }) { await Task.yield() }
        #expect(third.withLock { $0 } == false, "a send into a full queue must wait")
        #expect(queue.waitingSenders == 1)
        #expect(queue.bufferedCount == 2)
        #expect(await queue.receive() == 1)
        #expect(await sender.value == true)
        #expect(await queue.receive() == 2)
        #expect(await queue.receive() == 3)
    }

    @Test func everyElementIsReceivedExactlyOnce() async throws {
        let queue = BoundedQueue<Int>(capacity: 3)
        let received = Locked<[Int]>([])
        await withTaskGroup(of: Void.self) { group in
            for consumer in 0..<3 {
                _ = consumer
                group.addTask {
                    for await value in queue { received.withLock { $0.append(value) } }
                }
            }
            await withTaskGroup(of: Void.self) { producers in
                for producer in 0..<4 {
                    producers.addTask {
                        for i in 0..<500 { await queue.send(producer * 1000 + i) }
                    }
                }
            }
            queue.finish()
        }
        let values = received.withLock { $0 }
        #expect(values.count == 2000)
        #expect(Set(values) == Set((0..<4).flatMap { p in (0..<500).map { p * 1000 + $0 } }))
    }

    @Test func finishDrainsThenEndsAndRefusesNewElements() async throws {
        let queue = BoundedQueue<String>(capacity: 4)
        await queue.send("a")
        await queue.send("b")
        queue.finish()
        #expect(await queue.send("c") == false)
        #expect(await queue.receive() == "a")
        #expect(await queue.receive() == "b")
        #expect(await queue.receive() == nil)
    }

    @Test func finishWakesAWaitingSenderWithFalse() async throws {
        let queue = BoundedQueue<Int>(capacity: 1)
        await queue.send(1)
        let returned = Locked(false)
        let blocked = Task {
            let accepted = await queue.send(2)
            returned.withLock { $0 = true }
            return accepted
        }
        // finish() must find the sender waiting; a send after finish() would return false without waiting.
        while queue.waitingSenders == 0, !returned.withLock({ $0 }) { await Task.yield() }
        #expect(returned.withLock { $0 } == false, "a send into a full queue must wait")
        queue.finish()
        #expect(queue.waitingSenders == 0)
        #expect(await blocked.value == false, "the element was not taken, and the sender knows it")
    }
}
