import Foundation

// The checksum values records hold (verification records, backup records, drills, export manifests).
// The code that computes them is TableIO's (ItemHasher, Checksummer, MultisetContentChecksummer);
// the values live here so that records, and the engines reading them, need no table I/O.

/// A 128-bit unsigned number, written as 32 lowercase hex digits (big-endian).
///
/// The multiset hash of a set of items is the sum, modulo 2^128, of each item's `Hash128`; addition
/// (unlike XOR) keeps duplicates from cancelling each other.
public struct Hash128: Sendable, Hashable, Codable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    // The per-item arithmetic is @inlinable: it runs once per item in TableIO's hashing loops, and a
    // cross-module call into unspecialized generic code costs more than the hashing itself.
    @inlinable public init(high: UInt64, low: UInt64) { self.high = high; self.low = low }

    public static let zero = Hash128(high: 0, low: 0)

    /// The first 16 bytes of `bytes`, read as a big-endian number.
    @inlinable public init<C: Collection>(prefixOf bytes: C) where C.Element == UInt8 {
        var high: UInt64 = 0, low: UInt64 = 0
        for (i, byte) in bytes.prefix(16).enumerated() {
            if i < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
        }
        self.init(high: high, low: low)
    }

    /// Parses 32 hex digits.
    public init?(hex: String) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 32 else { return nil }
        var values: [UInt64] = [0, 0]
        for (i, c) in utf8.enumerated() {
            let digit: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
            default: return nil
            }
            values[i / 16] = values[i / 16] << 4 | UInt64(digit)
        }
        self.init(high: values[0], low: values[1])
    }

    /// 32 lowercase hex digits.
    public var hex: String {
        func pad(_ v: UInt64) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }
        return pad(high) + pad(low)
    }

    public var description: String { hex }

    /// Sum modulo 2^128.
    @inlinable public static func &+ (a: Hash128, b: Hash128) -> Hash128 {
        let (low, carry) = a.low.addingReportingOverflow(b.low)
        return Hash128(high: a.high &+ b.high &+ (carry ? 1 : 0), low: low)
    }

    /// Difference modulo 2^128 (`a &- b &+ b == a`).
    @inlinable public static func &- (a: Hash128, b: Hash128) -> Hash128 {
        let (low, borrow) = a.low.subtractingReportingOverflow(b.low)
        return Hash128(high: a.high &- b.high &- (borrow ? 1 : 0), low: low)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Hash128(hex: text) else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "'\(text)' is not 32 hex digits"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}

/// Count, canonical bytes and multiset hash of a set of items (a table, or one bucket of it).
public struct ChecksumTotals: Sendable, Hashable, Codable {
    public var itemCount: Int
    /// Sum of the items' canonical byte lengths.
    public var canonicalBytes: Int
    public var hash: Hash128

    public init(itemCount: Int = 0, canonicalBytes: Int = 0, hash: Hash128 = .zero) {
        self.itemCount = itemCount; self.canonicalBytes = canonicalBytes; self.hash = hash
    }

    public static let empty = ChecksumTotals()

    @inlinable public mutating func add(_ digest: ItemDigest) {
        itemCount += 1
        canonicalBytes += digest.canonicalBytes
        hash = hash &+ digest.hash
    }

    @inlinable public mutating func combine(_ other: ChecksumTotals) {
        itemCount += other.itemCount
        canonicalBytes += other.canonicalBytes
        hash = hash &+ other.hash
    }
}

/// The order-independent checksum of a table's content: totals overall and per bucket.
///
/// Items fall into one of 256 buckets by the first byte of the SHA-256 of their primary key's
/// canonical bytes, so two checksums that differ point at the buckets holding the difference.
/// Checksums of disjoint parts (e.g. scan segments) add up with ``combine(_:)`` to the whole's.
public struct TableChecksum: Sendable, Hashable, Codable {
    /// Number of buckets.
    public static let bucketCount = 256

    /// The canonical encoding the checksum was computed with (``CanonicalEncoding/format``).
    public var format: String
    public var totals: ChecksumTotals
    /// Exactly ``bucketCount`` entries.
    public var buckets: [ChecksumTotals]

    /// An empty checksum computed with canonical encoding `format` (TableIO's `TableChecksum()` uses
    /// the current one).
    public init(format: String) {
        self.format = format
        totals = .empty
        buckets = Array(repeating: .empty, count: Self.bucketCount)
    }

    public var itemCount: Int { totals.itemCount }
    public var canonicalBytes: Int { totals.canonicalBytes }
    public var hash: Hash128 { totals.hash }

    /// Adds one item's digest.
    @inlinable public mutating func add(_ digest: ItemDigest) {
        totals.add(digest)
        buckets[Int(digest.bucket)].add(digest)
    }

    /// Adds the checksum of a disjoint part.
    public mutating func combine(_ other: TableChecksum) {
        totals.combine(other.totals)
        for i in 0..<Self.bucketCount { buckets[i].combine(other.buckets[i]) }
    }

    /// The sum of checksums of disjoint parts.
    public static func + (a: TableChecksum, b: TableChecksum) -> TableChecksum {
        var sum = a
        sum.combine(b)
        return sum
    }

    /// Buckets whose totals differ from `other`'s, ascending.
    public func differingBuckets(from other: TableChecksum) -> [Int] {
        (0..<Self.bucketCount).filter { buckets[$0] != other.buckets[$0] }
    }

    enum CodingKeys: String, CodingKey {
        case format, itemCount, canonicalBytes, hash, buckets
    }

    // Buckets are written as an object of the non-empty ones, keyed by two hex digits ("00"..."ff").
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        format = try c.decode(String.self, forKey: .format)
        totals = ChecksumTotals(
            itemCount: try c.decode(Int.self, forKey: .itemCount),
            canonicalBytes: try c.decode(Int.self, forKey: .canonicalBytes),
            hash: try c.decode(Hash128.self, forKey: .hash))
        buckets = Array(repeating: .empty, count: Self.bucketCount)
        let written = try c.decodeIfPresent([String: ChecksumTotals].self, forKey: .buckets) ?? [:]
        for (name, bucket) in written {
            guard name.utf8.count == 2, name.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }),
                let index = Int(name, radix: 16)
            else {
                throw DecodingError.dataCorruptedError(
                    forKey: .buckets, in: c,
                    debugDescription: "bucket '\(name)' is not two hex digits")
            }
            buckets[index] = bucket
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(format, forKey: .format)
        try c.encode(totals.itemCount, forKey: .itemCount)
        try c.encode(totals.canonicalBytes, forKey: .canonicalBytes)
        try c.encode(totals.hash, forKey: .hash)
        var written: [String: ChecksumTotals] = [:]
        for (i, bucket) in buckets.enumerated() where bucket != .empty { written[Self.bucketName(i)] = bucket }
        try c.encode(written, forKey: .buckets)
    }

    /// "00" ... "ff".
    public static func bucketName(_ index: Int) -> String {
        let s = String(index, radix: 16)
        return s.count == 1 ? "0" + s : s
    }
}

/// What one item contributes to a checksum.
public struct ItemDigest: Sendable, Hashable {
    /// The first 16 bytes of the SHA-256 of the item's canonical bytes.
    public var hash: Hash128
    /// Length of the item's canonical bytes.
    public var canonicalBytes: Int
    /// First byte of the SHA-256 of the canonical bytes of the item's primary key.
    public var bucket: UInt8

    @inlinable public init(hash: Hash128, canonicalBytes: Int, bucket: UInt8) {
        self.hash = hash; self.canonicalBytes = canonicalBytes; self.bucket = bucket
    }
}

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

    /// `dmc1-sha256-sum128:12345:<32 hex digits>`.
    public var description: String { "\(algorithm):\(itemCount):\(digest)" }

    /// True when both describe the same items (same algorithm, count and digest).
    public func matches(_ other: ContentChecksum) -> Bool {
        algorithm == other.algorithm && itemCount == other.itemCount && digest == other.digest
    }
}

/// Items of a source left out of what the target should hold, and why.
public struct ExclusionCounts: Sendable, Hashable, Codable {
    /// Items scanned from the source.
    public var itemsRead = 0
    /// Dropped by a `filter` transform.
    public var itemsFiltered = 0
    /// Failed a transform, came out over 400 KB, or lack the target key: the migrator dead-letters these.
    public var itemsFailed = 0
    /// The first few failures, `key: reason`, for the report.
    public var failureSamples: [String] = []
    /// The source items as read (before transforms): the sum of their digests, the same multiset hash
    /// as a table checksum's, so a later scan can tell whether the source changed since.
    public var sourceHash: Hash128 = .zero

    public static let maxSamples = 5

    public init() {}

    public mutating func combine(_ other: ExclusionCounts) {
        itemsRead += other.itemsRead
        itemsFiltered += other.itemsFiltered
        itemsFailed += other.itemsFailed
        sourceHash = sourceHash &+ other.sourceHash
        for sample in other.failureSamples where failureSamples.count < Self.maxSamples { failureSamples.append(sample) }
    }

    package mutating func fail(_ key: String, _ reason: String) {
        itemsFailed += 1
        if failureSamples.count < Self.maxSamples { failureSamples.append("\(key): \(reason)") }
    }
}
