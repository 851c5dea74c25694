// Backup: exports in DynamoDB's S3 export layout, imports, on-demand backups, restore drills and backup policies.
import DynamoClient
import DynamoCore
import Pipeline
import Synchronization

/// An order-independent digest of a table's items, with the item count and the algorithm that made it.
///
/// Two checksums are only comparable when their `algorithm`s are equal; ``matches(_:)`` says so.
public struct ContentChecksum: Sendable, Hashable, Codable, CustomStringConvertible {
    public var algorithm: String
    public var itemCount: Int
    public var digest: String

    public init(algorithm: String, itemCount: Int, digest: String) {
        self.algorithm = algorithm; self.itemCount = itemCount; self.digest = digest
    }

    /// `fnv1a64-sum:12345:0123456789abcdef`.
    public var description: String { "\(algorithm):\(itemCount):\(digest)" }

    /// True when both describe the same items (same algorithm, count and digest).
    public func matches(_ other: ContentChecksum) -> Bool {
        algorithm == other.algorithm && itemCount == other.itemCount && digest == other.digest
    }
}

/// The seam for content checksums of tables and item sets.
///
/// Implementations must be order-independent (a table scanned in any segment order gives the same
/// checksum) and combinable: the checksum of two disjoint item sets is `combine` of theirs.
///
/// TODO(verification): replace ``FNVContentChecksummer`` with the Verification module's
/// `TableChecksum` once it lands; exports and backup records name their algorithm, so older records
/// stay readable and are reported as "different algorithm" instead of as a mismatch.
public protocol ContentChecksummer: Sendable {
    /// Recorded next to every checksum.
    var algorithm: String { get }
    /// The checksum of `items`, in any order.
    func checksum<S: Sequence>(items: S) -> ContentChecksum where S.Element == Item
    /// The checksum of the union of two disjoint item sets.
    func combine(_ a: ContentChecksum, _ b: ContentChecksum) -> ContentChecksum
    /// The checksum of every item of `table` (a default reads it with ``ParallelScan``).
    func checksum(table: String, client: DynamoDBClient, segments: Int) async throws -> ContentChecksum
}

extension ContentChecksummer {
    /// The checksum of no items.
    public var empty: ContentChecksum { checksum(items: [Item]()) }

    public func checksum(table: String, client: DynamoDBClient, segments: Int) async throws -> ContentChecksum {
        try await scanChecksum(table: table, client: client, segments: segments)
    }

    /// The checksum of every item of `table`, read with a parallel scan of `segments` segments.
    public func scanChecksum(table: String, client: DynamoDBClient, segments: Int = 4) async throws -> ContentChecksum {
        let total = Mutex(empty)
        let scan = ParallelScan(client: client, table: table, totalSegments: segments)
        try await scan.forEachPage { _, page in
            let part = checksum(items: page.items)
            total.withLock { $0 = combine($0, part) }
        }
        return total.withLock { $0 }
    }
}

/// The interim checksum: item count plus the sum (mod 2^64) of each item's 64-bit FNV-1a hash over a
/// canonical encoding (attribute names and map keys sorted, set members sorted, numbers in
/// ``DynamoNumber/canonical`` form), so it does not depend on scan order, map order, set order or
/// how a number was typed.
///
/// Interim: to be replaced by the Verification module's checksum (see ``ContentChecksummer``).
/// A 64-bit sum detects accidental changes well; it is not a defence against deliberate collisions.
public struct FNVContentChecksummer: ContentChecksummer {
    public init() {}
    public var algorithm: String { "fnv1a64-sum" }

    public func checksum<S: Sequence>(items: S) -> ContentChecksum where S.Element == Item {
        var sum: UInt64 = 0
        var count = 0
        var buffer: [UInt8] = []
        buffer.reserveCapacity(512)
        for item in items {
            buffer.removeAll(keepingCapacity: true)
            CanonicalEncoding.append(item: item, to: &buffer)
            sum &+= Self.fnv1a(buffer)
            count += 1
        }
        return ContentChecksum(algorithm: algorithm, itemCount: count, digest: Self.hex(sum))
    }

    public func combine(_ a: ContentChecksum, _ b: ContentChecksum) -> ContentChecksum {
        let x = UInt64(a.digest, radix: 16) ?? 0
        let y = UInt64(b.digest, radix: 16) ?? 0
        return ContentChecksum(algorithm: algorithm, itemCount: a.itemCount + b.itemCount, digest: Self.hex(x &+ y))
    }

    /// 64-bit FNV-1a.
    static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }

    static func hex(_ value: UInt64) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }
}

/// A canonical byte encoding of items: equal items (by DynamoDB's equality) encode to equal bytes.
///
/// Each value is its type descriptor, a length-prefixed payload and nothing ambiguous in between:
/// strings and binaries are length-prefixed, maps are sorted by key, sets are sorted, numbers are canonical.
public enum CanonicalEncoding {
    public static func encode(item: Item) -> [UInt8] {
        var out: [UInt8] = []
        append(item: item, to: &out)
        return out
    }

    static func append(item: Item, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        appendLength(item.count, to: &out)
        for name in item.keys.sorted(by: utf8Less) {
            appendBytes(Array(name.utf8), to: &out)
            append(value: item[name]!, to: &out)
        }
    }

    static func append(value: AttributeValue, to out: inout [UInt8]) {
        out.append(contentsOf: value.typeDescriptor.utf8)
        out.append(0)
        switch value {
        case .s(let v): appendBytes(Array(v.utf8), to: &out)
        case .n(let v): appendBytes(Array(v.canonical.utf8), to: &out)
        case .b(let v): appendBytes(v, to: &out)
        case .bool(let v): out.append(v ? 1 : 0)
        case .null: break
        case .m(let v): append(item: v, to: &out)
        case .l(let v):
            appendLength(v.count, to: &out)
            for element in v { append(value: element, to: &out) }
        case .ss(let v):
            let members = v.map { Array($0.utf8) }.sorted(by: { $0.lexicographicallyPrecedes($1) })
            appendLength(members.count, to: &out)
            for m in members { appendBytes(m, to: &out) }
        case .ns(let v):
            let members = v.map { Array($0.canonical.utf8) }.sorted(by: { $0.lexicographicallyPrecedes($1) })
            appendLength(members.count, to: &out)
            for m in members { appendBytes(m, to: &out) }
        case .bs(let v):
            let members = v.sorted(by: { $0.lexicographicallyPrecedes($1) })
            appendLength(members.count, to: &out)
            for m in members { appendBytes(m, to: &out) }
        }
    }

    static func utf8Less(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

    static func appendLength(_ n: Int, to out: inout [UInt8]) {
        var v = UInt64(n)
        for _ in 0..<8 { out.append(UInt8(truncatingIfNeeded: v)); v >>= 8 }
    }

    static func appendBytes(_ bytes: [UInt8], to out: inout [UInt8]) {
        appendLength(bytes.count, to: &out)
        out.append(contentsOf: bytes)
    }
}
