import DynamoCore
import Foundation
import Synchronization

/// Items the pipeline could not write, as JSON lines (`{"table":..,"source":..,"key":{..},"reason":..,"item":{..}}`),
/// so nothing is ever dropped silently. The file is appended to and flushed line by line.
public final class DeadLetterLog: Sendable {
    public let path: URL
    private let handle: Mutex<FileHandle?>
    private let counter = Mutex(0)

    public init(path: URL) throws {
        self.path = path
        try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: path.path) {
            // Dead letters hold whole items, personal data included: readable by the owner only.
            _ = FileManager.default.createFile(atPath: path.path, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        let handle = try FileHandle(forWritingTo: path)
        try handle.seekToEnd()
        self.handle = Mutex(handle)
    }

    /// Appends one dead letter.
    public func record(source: String, target: String, key: Item?, item: Item?, reason: String) {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("source"); writer.string(source)
        writer.key("target"); writer.string(target)
        writer.key("key"); if let key { writer.item(key) } else { writer.null() }
        writer.key("reason"); writer.string(reason)
        writer.key("item"); if let item { writer.item(item) } else { writer.null() }
        writer.endObject()
        var line = writer.bytes
        line.append(UInt8(ascii: "\n"))
        handle.withLock { h in
            h?.write(Data(line))
            try? h?.synchronize()
        }
        counter.withLock { $0 += 1 }
    }

    public var count: Int { counter.withLock { $0 } }

    public func close() {
        handle.withLock { h in try? h?.close(); h = nil }
    }
}
