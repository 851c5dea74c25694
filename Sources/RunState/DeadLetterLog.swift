import DynamoCore
import Foundation
import Synchronization

/// Items the pipeline could not write, as JSON lines
/// (`{"formatVersion":1,"source":..,"target":..,"key":{..},"reason":..,"item":{..}}`, keys and items in
/// DynamoDB JSON), so nothing is ever dropped silently. Appended through a ``StateStore`` log, one
/// line per write, each made durable; owner-only, as dead letters hold whole items.
public final class DeadLetterLog: Sendable {
    /// The line format this build writes (absent in lines of older versions, which are the same format 1).
    public static let formatVersion = 1
    public static let fileName = "dead-letters.jsonl"

    public let path: URL
    private let log: Mutex<(any StateLogAppender)?>
    private let counter = Mutex(0)
    /// Lines recorded but not yet handed to a shared store (see ``init(bufferingFor:)``).
    private let buffered: Mutex<[Data]?>

    /// Opens (creating it owner-only) the log at `path`, a file in a local state directory.
    public convenience init(path: URL) throws {
        try self.init(store: LocalDirectoryStateStore(directory: path.deletingLastPathComponent()), name: path.lastPathComponent)
    }

    /// Opens log `name` of `store`.
    public init(store: LocalDirectoryStateStore, name: String = DeadLetterLog.fileName) throws {
        self.path = store.url(of: name)
        self.log = Mutex(try store.openLog(name))
        self.buffered = Mutex(nil)
    }

    /// A log whose lines are kept in memory until ``drain()`` takes them, for a shared store that is
    /// written asynchronously (a worker's log in a control table). The worker drains it before every
    /// checkpoint it saves, after taking the checkpoint's snapshot: a dead letter is recorded before the
    /// page it belongs to can commit, so no checkpoint ever moves past a dead letter that is not stored.
    /// - Parameter location: where the lines end up, for messages.
    public init(bufferingFor location: String) {
        self.path = URL(string: location) ?? URL(fileURLWithPath: location)
        self.log = Mutex(nil)
        self.buffered = Mutex([])
    }

    /// The lines recorded since the last drain, oldest first (always empty for a log on a local store).
    public func drain() -> [Data] {
        buffered.withLock { lines in
            guard let taken = lines else { return [] }
            lines = []
            return taken
        }
    }

    /// Puts lines a failed store write could not keep back in front of the buffer, for the next drain.
    public func restore(_ lines: [Data]) {
        guard !lines.isEmpty else { return }
        buffered.withLock { $0 = lines + ($0 ?? []) }
    }

    /// One dead letter as its line (without the newline).
    public static func line(source: String, target: String, key: Item?, item: Item?, reason: String) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("formatVersion"); writer.int(formatVersion)
        writer.key("source"); writer.string(source)
        writer.key("target"); writer.string(target)
        writer.key("key"); if let key { writer.item(key) } else { writer.null() }
        writer.key("reason"); writer.string(reason)
        writer.key("item"); if let item { writer.item(item) } else { writer.null() }
        writer.endObject()
        return writer.bytes
    }

    /// Appends one dead letter.
    public func record(source: String, target: String, key: Item?, item: Item?, reason: String) {
        let line = Data(Self.line(source: source, target: target, key: key, item: item, reason: reason))
        let kept = buffered.withLock { lines -> Bool in
            guard lines != nil else { return false }
            lines!.append(line)
            return true
        }
        if kept {
            counter.withLock { $0 += 1 }
            return
        }
        log.withLock { log in
            // As before: a dead letter that cannot be written does not stop the run; the count (and
            // the report) still says it was dead-lettered.
            try? log?.append(line: line)
        }
        counter.withLock { $0 += 1 }
    }

    public var count: Int { counter.withLock { $0 } }

    public func close() {
        log.withLock { log in
            log?.close(); log = nil
        }
    }
}
