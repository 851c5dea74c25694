// Backup: exports in DynamoDB's S3 export layout, imports, on-demand backups, restore drills and backup policies.
import DynamoClient
import DynamoCore
import RunState
import Synchronization

/// The seam for content checksums of tables and item sets.
///
/// Implementations must be order-independent (a table scanned in any segment order gives the same
/// checksum) and combinable: the checksum of two disjoint item sets is `combine` of theirs.
///
/// The implementation is ``MultisetContentChecksummer`` (the Verification module's checksum).
/// Exports and backup records name their algorithm, so records made with another algorithm stay
/// readable and are reported as "different algorithm" instead of as a mismatch.
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

/// The content checksum of the Verification module (docs/checksums.md): item count plus the sum
/// modulo 2^128 of the first 16 bytes of each item's SHA-256 over its `dmc1` canonical bytes, so it
/// does not depend on scan order, attribute order, set order or how a number was typed, and
/// duplicates cannot cancel out. The digest equals `checksum`'s overall hash for the same items.
public struct MultisetContentChecksummer: ContentChecksummer {
    public init() {}
    public var algorithm: String { "dmc1-sha256-sum128" }

    public func checksum<S: Sequence>(items: S) -> ContentChecksum where S.Element == Item {
        var sum = Hash128.zero
        var count = 0
        for item in items {
            sum = sum &+ Hash128(prefixOf: ItemHasher.sha256(of: item))
            count += 1
        }
        return ContentChecksum(algorithm: algorithm, itemCount: count, digest: sum.hex)
    }

    public func combine(_ a: ContentChecksum, _ b: ContentChecksum) -> ContentChecksum {
        let x = Hash128(hex: a.digest) ?? .zero
        let y = Hash128(hex: b.digest) ?? .zero
        return ContentChecksum(algorithm: algorithm, itemCount: a.itemCount + b.itemCount, digest: (x &+ y).hex)
    }
}
