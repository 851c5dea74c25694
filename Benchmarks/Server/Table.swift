// Tables held in memory: items as their DynamoDB JSON bytes, ordered by key hash for O(page) Scans.
import DynamoCore
import Foundation

/// One stored item: the bytes the client sent, its canonical key and where the key hashes to.
struct StoredItem {
    /// Position in the table's scan order (and the segment it belongs to).
    var hash: UInt64
    /// The key attributes as canonical DynamoDB JSON (numbers canonical, partition key first).
    var key: [UInt8]
    /// The item's DynamoDB JSON, as received.
    var bytes: [UInt8]
    /// `dynamoDBItemSize` of the item.
    var size: Int
}

/// A key attribute of a table: name and scalar type (`S`, `N` or `B`).
struct KeyAttributeDefinition: Equatable {
    var name: String
    var type: String
}

/// Why a key could not be taken from an item or a `Key` parameter (a ValidationException).
struct KeyError: Error {
    var message: String
}

/// The position of a key in a table's scan order.
struct KeyPosition {
    var hash: UInt64
    var key: [UInt8]
}

/// A table: its definition (as CreateTable received it) and its items in hash buckets.
///
/// Scan order is (hash, canonical key bytes). The hash space is cut into `bucketCount` buckets by
/// its top bits, each a sorted array, so an insert moves a few dozen entries, a Scan segment is a
/// contiguous hash range and an `ExclusiveStartKey` is found by one binary search.
final class Table: @unchecked Sendable {
    static let bucketBits = 14
    static let bucketCount = 1 << bucketBits
    static let shift = UInt64(64 - bucketBits)

    let name: String
    let arn: String
    let creationTime: Double
    let request: JSON
    let partitionKey: KeyAttributeDefinition
    let sortKey: KeyAttributeDefinition?
    let lock = NSLock()

    var buckets: [[StoredItem]] = Array(repeating: [], count: Table.bucketCount)
    var itemCount = 0
    var sizeBytes = 0
    var pointInTimeRecovery = false
    var timeToLive: String?
    var tags: [(key: String, value: String)] = []
    /// Its DynamoDB Streams, oldest first (see Streams.swift); every write below is recorded in the last one while enabled.
    var streams: [StreamLog] = []

    init(name: String, request: JSON, partitionKey: KeyAttributeDefinition, sortKey: KeyAttributeDefinition?) {
        self.name = name
        self.arn = "arn:aws:dynamodb:us-east-1:123456789012:table/\(name)"
        self.creationTime = (Date().timeIntervalSince1970 * 1000).rounded() / 1000
        self.request = request
        self.partitionKey = partitionKey
        self.sortKey = sortKey
    }

    var keyAttributes: [KeyAttributeDefinition] { [partitionKey] + (sortKey.map { [$0] } ?? []) }

    // MARK: Keys

    /// The position of an item's key; `exact` requires the item to hold nothing but the key (GetItem's `Key`).
    func position(of item: Item, exact: Bool) throws(KeyError) -> KeyPosition {
        if exact && item.count != keyAttributes.count {
            throw KeyError(message: "The provided key element does not match the schema")
        }
        var writer = JSONWriter(capacity: 64)
        writer.beginObject()
        for attribute in keyAttributes {
            guard let value = item[AttributeName(attribute.name)] else {
                if exact { throw KeyError(message: "The provided key element does not match the schema") }
                throw KeyError(message: "One or more parameter values were invalid: Missing the key \(attribute.name) in the item")
            }
            let canonical: AttributeValue
            switch (attribute.type, value) {
            case ("S", .s(let s)):
                if s.isEmpty { throw Self.emptyKey(attribute.name) }
                canonical = value
            case ("N", .n(let n)):
                guard let valid = try? DynamoNumber(validating: n.text) else {
                    throw KeyError(message: "The parameter cannot be converted to a numeric value: \(n.text)")
                }
                canonical = .n(DynamoNumber(unchecked: valid.canonical))
            case ("B", .b(let b)):
                if b.isEmpty { throw Self.emptyKey(attribute.name) }
                canonical = value
            default:
                if exact { throw KeyError(message: "The provided key element does not match the schema") }
                throw KeyError(
                    message:
                        "One or more parameter values were invalid: Type mismatch for key \(attribute.name) expected: \(attribute.type) actual: \(value.typeDescriptor)"
                )
            }
            writer.key(attribute.name)
            writer.attributeValue(canonical)
        }
        writer.endObject()
        let key = writer.bytes
        return KeyPosition(hash: Self.hash(key), key: key)
    }

    static func emptyKey(_ name: String) -> KeyError {
        KeyError(
            message: "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: \(name)")
    }

    /// FNV-1a over the canonical key, then a 64-bit finalizer so the top bits spread evenly.
    static func hash(_ key: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        h ^= h >> 33; h &*= 0xff51_afd7_ed55_8ccd
        h ^= h >> 33; h &*= 0xc4ce_b9fe_1a85_ec53
        h ^= h >> 33
        return h
    }

    @inline(__always)
    static func precedes(_ a: StoredItem, _ hash: UInt64, _ key: [UInt8]) -> Bool {
        if a.hash != hash { return a.hash < hash }
        return a.key.lexicographicallyPrecedes(key)
    }

    /// The first index in `bucket` whose entry does not precede the position.
    func lowerBound(_ bucket: Int, _ hash: UInt64, _ key: [UInt8]) -> Int {
        var low = 0, high = buckets[bucket].count
        while low < high {
            let mid = (low + high) / 2
            if Self.precedes(buckets[bucket][mid], hash, key) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    // MARK: Items (callers hold `lock`)

    func put(_ item: StoredItem) {
        let b = Int(item.hash >> Self.shift)
        let i = lowerBound(b, item.hash, item.key)
        if i < buckets[b].count && buckets[b][i].hash == item.hash && buckets[b][i].key == item.key {
            sizeBytes += item.size - buckets[b][i].size
            stream?.record(old: buckets[b][i], new: item)
            buckets[b][i] = item
        } else {
            buckets[b].insert(item, at: i)
            itemCount += 1
            sizeBytes += item.size
            stream?.record(old: nil, new: item)
        }
    }

    func find(_ position: KeyPosition) -> (bucket: Int, index: Int)? {
        let b = Int(position.hash >> Self.shift)
        let i = lowerBound(b, position.hash, position.key)
        if i < buckets[b].count && buckets[b][i].hash == position.hash && buckets[b][i].key == position.key { return (b, i) }
        return nil
    }

    func get(_ position: KeyPosition) -> StoredItem? {
        find(position).map { buckets[$0.bucket][$0.index] }
    }

    @discardableResult
    func delete(_ position: KeyPosition) -> StoredItem? {
        guard let (b, i) = find(position) else { return nil }
        let old = buckets[b].remove(at: i)
        itemCount -= 1
        sizeBytes -= old.size
        stream?.record(old: old, new: nil)
        return old
    }

    /// The hash range `[low, high]` of segment `segment` of `total`.
    static func segmentRange(_ segment: Int, of total: Int) -> (low: UInt64, high: UInt64) {
        func boundary(_ s: Int) -> UInt64 {
            UInt64(total).dividingFullWidth((high: UInt64(s), low: 0)).quotient
        }
        let low = segment == 0 ? 0 : boundary(segment)
        let high = segment + 1 == total ? UInt64.max : boundary(segment + 1) - 1
        return (low, high)
    }

    /// One page of a Scan: appends the items' bytes, comma-separated, to `out`.
    /// - Returns: the number of items and the key to continue from (nil when the segment is done).
    func scanPage(
        range: (low: UInt64, high: UInt64), after start: KeyPosition?, limit: Int, sizeLimit: Int,
        into out: inout [UInt8]
    ) -> (count: Int, lastKey: [UInt8]?) {
        var b: Int
        var i: Int
        if let start {
            b = Int(start.hash >> Self.shift)
            i = lowerBound(b, start.hash, start.key)
            if i < buckets[b].count && buckets[b][i].hash == start.hash && buckets[b][i].key == start.key { i += 1 }
        } else {
            b = Int(range.low >> Self.shift)
            i = lowerBound(b, range.low, [])
        }
        let lastBucket = Int(range.high >> Self.shift)
        var count = 0
        var size = 0
        var last: [UInt8]?
        while b <= lastBucket {
            let n = buckets[b].count
            while i < n {
                let entry = buckets[b][i]
                if entry.hash > range.high { return (count, nil) }
                if count == limit || (count > 0 && size + entry.size > sizeLimit) { return (count, last) }
                if count > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: entry.bytes)
                size += entry.size
                count += 1
                last = entry.key
                i += 1
            }
            b += 1
            i = 0
        }
        return (count, nil)
    }
}
