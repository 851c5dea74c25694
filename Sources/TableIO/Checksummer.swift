import DynamoClient
import DynamoCore
import Foundation
import Mappings
import RunState

/// Errors of checksums, verification and diffs, written for the operator.
public enum VerificationError: Error, Sendable, CustomStringConvertible {
    case client(DynamoDBError)
    case missingTable(String)
    /// An item of a table lacks a key attribute (possible only in a broken table or a scan of an index).
    case itemWithoutKey(table: String, keySchema: String)
    case notASource(source: String, target: String)
    case notATarget(String)
    case unwritable(path: String, reason: String)

    public var description: String {
        switch self {
        case .client(let error):
            return error.description
        case .missingTable(let name):
            return "table \(name) does not exist at this endpoint"
        case .itemWithoutKey(let table, let schema):
            return "an item of \(table) lacks the key attributes \(schema); cannot place it in a checksum bucket"
        case .notASource(let source, let target):
            return "\(source) is not a source of \(target) in the mapping; name one of the target's sources, or leave out --mapping"
        case .notATarget(let target):
            return "\(target) is not a target of the mapping"
        case .unwritable(let path, let reason):
            return "cannot write \(path): \(reason)"
        }
    }
}

/// What one source item becomes in the target: the item, its key and its key's canonical bytes.
public struct ExpectedItem: Sendable {
    public var item: Item
    public var key: Item
    public var keyBytes: [UInt8]

    public init(item: Item, key: Item, keyBytes: [UInt8]) {
        self.item = item; self.key = key; self.keyBytes = keyBytes
    }
}

/// Applies a source's transform the way the migrator's segment reader does: filtered items
/// are dropped, and items that fail the transform, exceed 400 KB or lack the target key are counted as
/// failed (the migrator dead-letters them).
public struct SourceProjection: Sendable {
    public let sourceKey: KeySchema
    public let targetKey: KeySchema
    public let transform: CompiledTransform

    public init(sourceKey: KeySchema, targetKey: KeySchema, transform: CompiledTransform) {
        self.sourceKey = sourceKey; self.targetKey = targetKey; self.transform = transform
    }

    /// The item in the target, or nil (counted in `counts`) when it will not be there.
    public func project(_ item: Item, counts: inout ExclusionCounts) -> ExpectedItem? {
        counts.itemsRead += 1
        counts.sourceHash = counts.sourceHash &+ Hash128(prefixOf: ItemHasher.sha256(of: item))
        // The migrator's own projection, so verify models exactly what migrate writes.
        switch TableIO.project(item, through: transform, targetKey: targetKey) {
        case .written(let out, let key, _):
            return ExpectedItem(item: out, key: key, keyBytes: CanonicalEncoding.bytes(of: key))
        case .filtered:
            counts.itemsFiltered += 1
            return nil
        case .failed(let reason):
            counts.fail(sourceKeyText(item), reason)
            return nil
        }
    }

    func sourceKeyText(_ item: Item) -> String {
        sourceKey.key(of: item).map { describeKey($0, schema: sourceKey) } ?? "(item without its key)"
    }
}

/// Computes checksums with parallel scans.
public struct Checksummer: Sendable {
    /// The client `describe` and the scans use (see ``forSource(_:)`` and ``forTarget(_:)``).
    public private(set) var client: DynamoDBClient
    /// Scan segments per table (nil: from the table's size, see ``ParallelScan/defaultSegments(for:)``).
    public var segments: Int?
    /// Scan `Limit` per page (nil: DynamoDB's 1 MB pages).
    public var pageLimit: Int?

    /// The clients of each source and target, when they are not all `client` (other accounts, regions).
    public let clients: TableClients

    public init(client: DynamoDBClient, segments: Int? = nil, pageLimit: Int? = nil) {
        self.init(clients: TableClients(client), segments: segments, pageLimit: pageLimit)
    }

    /// A checksummer for tables on several connections; `client` is the target side's default.
    public init(clients: TableClients, segments: Int? = nil, pageLimit: Int? = nil) {
        self.client = clients.target; self.clients = clients; self.segments = segments; self.pageLimit = pageLimit
    }

    /// This checksummer, reading source table `table` through its own client.
    public func forSource(_ table: String) -> Checksummer { on(clients.source(table)) }

    /// This checksummer, reading target table `table` through its own client.
    public func forTarget(_ table: String) -> Checksummer { on(clients.target(table)) }

    private func on(_ other: DynamoDBClient) -> Checksummer {
        var copy = Checksummer(clients: clients, segments: segments, pageLimit: pageLimit)
        copy.client = other
        return copy
    }

    /// DescribeTable. A missing table is the client's ResourceNotFoundException (as ``VerificationError/client(_:)``),
    /// whose message names the table, the region and the endpoint.
    public func describe(_ table: String) async throws -> TableDescription {
        do { return try await client.describeTable(table) } catch { throw VerificationError.client(error) }
    }

    package func scan(_ description: TableDescription) -> ParallelScan {
        ParallelScan(
            client: client, table: description.name,
            totalSegments: segments ?? ParallelScan.defaultSegments(for: description), pageLimit: pageLimit)
    }

    /// A source's items folded per segment: a parallel Scan of the table, or the export's data files
    /// when the source is an export (the export is then the source's content).
    func items<Partial: Sendable>(
        of source: TableDescription, export: ExportSource?,
        makePartial: @escaping @Sendable () -> Partial,
        fold: @escaping @Sendable (inout Partial, [Item]) throws -> Void
    ) async throws -> [Partial] {
        if let export { return try await export.run(concurrency: segments ?? 4, makePartial: makePartial, fold: fold) }
        return try await scan(source).run(makePartial: makePartial, fold: fold)
    }

    /// The checksum of a table's content, bucketed by its own primary key.
    public func checksum(table: String) async throws -> TableChecksum {
        try await checksum(of: try await describe(table))
    }

    /// The checksum of a table's content, bucketed by `keySchema` (default: the table's own key).
    public func checksum(of description: TableDescription, keySchema: KeySchema? = nil) async throws -> TableChecksum {
        let schema = keySchema ?? description.keySchema
        let table = description.name
        struct Partial: Sendable { var hasher: ItemHasher; var checksum = TableChecksum() }
        let partials = try await scan(description).run(makePartial: { Partial(hasher: ItemHasher(keySchema: schema)) }) { partial, items in
            for item in items {
                guard let digest = partial.hasher.digest(item) else {
                    throw VerificationError.itemWithoutKey(table: table, keySchema: schema.description)
                }
                partial.checksum.add(digest)
            }
        }
        return partials.reduce(TableChecksum()) { $0 + $1.checksum }
    }

    /// The checksum of what `source` puts into a target: each item through `projection`, streamed.
    public func expectedChecksum(
        of source: TableDescription, projection: SourceProjection, export: ExportSource? = nil
    ) async throws
        -> (checksum: TableChecksum, exclusions: ExclusionCounts)
    {
        struct Partial: Sendable { var hasher: ItemHasher; var checksum = TableChecksum(); var counts = ExclusionCounts() }
        let partials = try await items(of: source, export: export, makePartial: { Partial(hasher: ItemHasher(keySchema: projection.targetKey)) }) { partial, items in
            for item in items {
                guard let expected = projection.project(item, counts: &partial.counts) else { continue }
                partial.checksum.add(partial.hasher.digest(expected.item, keyBytes: expected.keyBytes))
            }
        }
        var counts = ExclusionCounts()
        for p in partials { counts.combine(p.counts) }
        return (partials.reduce(TableChecksum()) { $0 + $1.checksum }, counts)
    }

    /// The digests of what `source` puts into a target, by target key (for merges). Keys produced more
    /// than once by the source count in `duplicates`; the later one in scan order is kept.
    public func expectedDigests(
        of source: TableDescription, projection: SourceProjection, export: ExportSource? = nil
    ) async throws
        -> (digests: [[UInt8]: ItemDigest], exclusions: ExclusionCounts, duplicates: Int)
    {
        struct Partial: Sendable {
            var hasher: ItemHasher
            var digests: [[UInt8]: ItemDigest] = [:]
            var counts = ExclusionCounts()
            var duplicates = 0
        }
        let partials = try await items(of: source, export: export, makePartial: { Partial(hasher: ItemHasher(keySchema: projection.targetKey)) }) { partial, items in
            for item in items {
                guard let expected = projection.project(item, counts: &partial.counts) else { continue }
                let digest = partial.hasher.digest(expected.item, keyBytes: expected.keyBytes)
                if partial.digests.updateValue(digest, forKey: expected.keyBytes) != nil { partial.duplicates += 1 }
            }
        }
        var digests: [[UInt8]: ItemDigest] = [:]
        var counts = ExclusionCounts()
        var duplicates = 0
        for p in partials {
            counts.combine(p.counts)
            duplicates += p.duplicates
            if digests.isEmpty {
                digests = p.digests
            } else {
                for (key, digest) in p.digests {
                    if digests.updateValue(digest, forKey: key) != nil { duplicates += 1 }
                }
            }
        }
        return (digests, counts, duplicates)
    }
}
