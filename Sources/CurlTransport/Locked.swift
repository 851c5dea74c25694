// A value guarded by a lock, with a condition to wait for changes of it.
import Foundation

/// State shared between callers of the transport and the curl thread.
///
/// `@unchecked Sendable` is safe because `value` is only read or written inside `withLock`,
/// which holds `condition`'s lock for the whole access. (Synchronization's `Mutex` would need macOS 15;
/// the package supports macOS 14.)
final class Locked<Value>: @unchecked Sendable {
    private let condition = NSCondition()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        condition.lock()
        defer { condition.unlock() }
        return try body(&value)
    }

    /// Wakes every `wait(until:)` caller to check its predicate again. Call after changing the value.
    func broadcast() {
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }

    /// Blocks the calling thread until `predicate` holds for the value.
    func wait(until predicate: (Value) -> Bool) {
        condition.lock()
        defer { condition.unlock() }
        while !predicate(value) { condition.wait() }
    }
}
