import DynamoClient
import DynamoCore
import Foundation
import Mappings
import RunState
import TableIO

/// A key present on both sides with different content.
public struct ChangedItem: Sendable, Equatable {
    public var key: Item
    /// Top-level attributes whose values differ or that only one side has, in UTF-8 byte order.
    public var attributes: [String]
}

/// The differences between what a source should put into a target and what the target holds.
public struct TableDiff: Sendable {
    public var source: String
    public var target: String
    public var keySchema: KeySchema
    /// Totals of the expected side (the source, transformed when a mapping is given) and of the target.
    public var expected: ChecksumTotals
    public var actual: ChecksumTotals
    /// Source items left out of the expected side (filtered, failing).
    public var exclusions: ExclusionCounts
    /// Buckets whose totals differ, ascending; only these were rescanned.
    public var differingBuckets: [Int]
    /// Keys the expected side has and the target lacks, sorted.
    public var missing: [Item]
    /// Keys the target has and the expected side lacks, sorted.
    public var extra: [Item]
    /// Keys on both sides with different content, sorted.
    public var changed: [ChangedItem]
    /// Keys the source produced more than once (the later one in scan order was compared).
    public var duplicateKeys: Int

    public var isIdentical: Bool { differingBuckets.isEmpty && missing.isEmpty && extra.isEmpty && changed.isEmpty }
}

extension TableDiff: Encodable {
    enum CodingKeys: String, CodingKey {
        case source, target, keySchema, identical, expected, actual, exclusions, differingBuckets, missing, extra, changed, duplicateKeys
    }
    struct Changed: Encodable { var key: String; var attributes: [String] }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(source, forKey: .source)
        try c.encode(target, forKey: .target)
        try c.encode(keySchema.description, forKey: .keySchema)
        try c.encode(isIdentical, forKey: .identical)
        try c.encode(expected, forKey: .expected)
        try c.encode(actual, forKey: .actual)
        try c.encode(exclusions, forKey: .exclusions)
        try c.encode(differingBuckets.map(TableChecksum.bucketName), forKey: .differingBuckets)
        try c.encode(missing.map { describeKey($0, schema: keySchema) }, forKey: .missing)
        try c.encode(extra.map { describeKey($0, schema: keySchema) }, forKey: .extra)
        try c.encode(changed.map { Changed(key: describeKey($0.key, schema: keySchema), attributes: $0.attributes) }, forKey: .changed)
        try c.encode(duplicateKeys, forKey: .duplicateKeys)
    }
}

/// Diffs a source against a target by checksums first, then item by item in the buckets that differ.
///
/// Pass 1 computes per-bucket checksums of both sides (one parallel scan each, at the same time).
/// Pass 2 scans both sides again, keeping only the items of differing buckets, and compares them by
/// key. Only the differing buckets are held in memory.
public struct TableDiffer: Sendable {
    public let checksummer: Checksummer

    public init(checksummer: Checksummer) { self.checksummer = checksummer }

    /// Diffs `source` (through `transform`, when given) against `target`, keyed by the target's key schema.
    public func diff(source: String, target: String, transform: ResolvedSource? = nil) async throws -> TableDiff {
        async let sourceDescription = checksummer.forSource(source).describe(source)
        async let targetDescription = checksummer.forTarget(target).describe(target)
        let (sourceTable, targetTable) = try await (sourceDescription, targetDescription)
        let keySchema = targetTable.keySchema
        let projection = SourceProjection(
            sourceKey: sourceTable.keySchema, targetKey: keySchema,
            transform: transform?.itemTransform(targetKey: keySchema.spec) ?? .identity)

        async let expectedPass = checksummer.forSource(source).expectedChecksum(of: sourceTable, projection: projection)
        async let actualPass = checksummer.forTarget(target).checksum(of: targetTable, keySchema: keySchema)
        let ((expected, exclusions), actual) = try await (expectedPass, actualPass)
        let differing = expected.differingBuckets(from: actual)
        var diff = TableDiff(
            source: source, target: target, keySchema: keySchema, expected: expected.totals,
            actual: actual.totals, exclusions: exclusions, differingBuckets: differing,
            missing: [], extra: [], changed: [], duplicateKeys: 0)
        guard !differing.isEmpty else { return diff }

        var wanted = [Bool](repeating: false, count: TableChecksum.bucketCount)
        for bucket in differing { wanted[bucket] = true }
        let buckets = wanted
        async let expectedItems = collect(sourceTable, on: checksummer.forSource(source), buckets: buckets) { item, counts in
            projection.project(item, counts: &counts)
        }
        async let actualItems = collect(targetTable, on: checksummer.forTarget(target), buckets: buckets) { item, _ in
            guard let key = keySchema.key(of: item) else { return nil }
            return ExpectedItem(item: item, key: key, keyBytes: CanonicalEncoding.bytes(of: key))
        }
        let (left, right) = try await (expectedItems, actualItems)
        diff.duplicateKeys = left.duplicates

        for (keyBytes, item) in left.items {
            guard let other = right.items[keyBytes] else {
                diff.missing.append(item.key)
                continue
            }
            let attributes = Self.differingAttributes(item.item, other.item)
            if !attributes.isEmpty { diff.changed.append(ChangedItem(key: item.key, attributes: attributes)) }
        }
        for (keyBytes, item) in right.items where left.items[keyBytes] == nil { diff.extra.append(item.key) }
        let order = { (a: Item, b: Item) in CanonicalEncoding.bytes(of: a).lexicographicallyPrecedes(CanonicalEncoding.bytes(of: b)) }
        diff.missing.sort(by: order)
        diff.extra.sort(by: order)
        diff.changed.sort { order($0.key, $1.key) }
        return diff
    }

    /// Top-level attributes whose canonical bytes differ, or that one side lacks, in UTF-8 byte order.
    public static func differingAttributes(_ a: Item, _ b: Item) -> [String] {
        Set(a.keys).union(b.keys).filter { name in
            guard let x = a[name], let y = b[name] else { return true }
            return CanonicalEncoding.bytes(of: x) != CanonicalEncoding.bytes(of: y)
        }.sorted().map(\.string)
    }

    struct Collected: Sendable {
        var items: [[UInt8]: ExpectedItem] = [:]
        var counts = ExclusionCounts()
        var duplicates = 0
    }

    /// The items of `table` (as `project` makes them) whose key falls in a wanted bucket, by key bytes.
    func collect(
        _ table: TableDescription, on checksummer: Checksummer, buckets: [Bool],
        project: @escaping @Sendable (Item, inout ExclusionCounts) -> ExpectedItem?
    ) async throws -> Collected {
        let partials = try await checksummer.scan(table).run(makePartial: { Collected() }) { partial, items in
            for item in items {
                guard let projected = project(item, &partial.counts) else { continue }
                let bucket = projected.keyBytes.withUnsafeBytes { ItemHasher.bucket(ofKeyBytes: $0) }
                guard buckets[Int(bucket)] else { continue }
                if partial.items.updateValue(projected, forKey: projected.keyBytes) != nil { partial.duplicates += 1 }
            }
        }
        var all = Collected()
        for p in partials {
            all.duplicates += p.duplicates
            for (key, item) in p.items {
                if all.items.updateValue(item, forKey: key) != nil { all.duplicates += 1 }
            }
        }
        return all
    }
}
