// Verification: content checksums of tables (canonical item bytes, SHA-256, a 128-bit multiset hash), verification of a migration, and diffs.
import DynamoClient
import DynamoCore
import Foundation
import RunState

/// The canonical byte encoding of items and values, format `dmc1` (see docs/checksums.md).
///
/// Two items that DynamoDB considers equal (same attributes, set members in any order, numbers in any
/// spelling) encode to the same bytes; any other difference changes the bytes. Every value starts with a
/// type tag and every variable-length part carries a 4-byte big-endian length or count, so the encoding
/// is prefix-free and no two different items share one.
public enum CanonicalEncoding {
    /// The format's name, recorded next to every checksum.
    public static let format = "dmc1"

    /// Type tags, one byte before each value.
    public enum Tag: UInt8, Sendable, CaseIterable {
        case s = 0x01, n = 0x02, b = 0x03, bool = 0x04, null = 0x05
        case m = 0x06, l = 0x07, ss = 0x08, ns = 0x09, bs = 0x0A
    }

    /// The canonical bytes of an item.
    public static func bytes(of item: Item) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        append(item, to: &out)
        return out
    }

    /// The canonical bytes of one value.
    public static func bytes(of value: AttributeValue) -> [UInt8] {
        var out: [UInt8] = []
        append(value, to: &out)
        return out
    }

    /// Appends an item: attribute count, then (name, value) pairs in byte order of the names' UTF-8.
    /// (The same as an `M` value without its tag.)
    public static func append(_ item: Item, to out: inout [UInt8]) {
        appendLength(item.count, to: &out)
        if item.count == 1, let (name, value) = item.first {
            appendString(name.string, to: &out)
            append(value, to: &out)
            return
        }
        for (name, value) in item.sorted(by: { utf8Precedes($0.key.string, $1.key.string) }) {
            appendString(name.string, to: &out)
            append(value, to: &out)
        }
    }

    /// Appends one value: its tag, then its payload.
    public static func append(_ value: AttributeValue, to out: inout [UInt8]) {
        switch value {
        case .s(let s):
            out.append(Tag.s.rawValue)
            appendString(s, to: &out)
        case .n(let n):
            out.append(Tag.n.rawValue)
            appendString(n.canonical, to: &out)
        case .b(let b):
            out.append(Tag.b.rawValue)
            appendBytes(b, to: &out)
        case .bool(let flag):
            out.append(Tag.bool.rawValue)
            out.append(flag ? 1 : 0)
        case .null:
            out.append(Tag.null.rawValue)
        case .m(let map):
            out.append(Tag.m.rawValue)
            append(map, to: &out)
        case .l(let list):
            out.append(Tag.l.rawValue)
            appendLength(list.count, to: &out)
            for element in list { append(element, to: &out) }
        case .ss(let members):
            out.append(Tag.ss.rawValue)
            appendLength(members.count, to: &out)
            for member in members.sorted(by: utf8Precedes) { appendString(member, to: &out) }
        case .ns(let members):
            out.append(Tag.ns.rawValue)
            appendLength(members.count, to: &out)
            for member in members.map(\.canonical).sorted(by: utf8Precedes) { appendString(member, to: &out) }
        case .bs(let members):
            out.append(Tag.bs.rawValue)
            appendLength(members.count, to: &out)
            for member in members.sorted(by: { $0.lexicographicallyPrecedes($1) }) { appendBytes(member, to: &out) }
        }
    }

    /// Byte order of the strings' UTF-8 (not Swift's `<`, which compares canonically equivalent Unicode
    /// as equal).
    @inline(__always)
    package static func utf8Precedes(_ a: String, _ b: String) -> Bool {
        // Native strings are contiguous UTF-8: compare the bytes directly.
        let fast = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y -> Bool in
                // Names are short: a plain loop beats a call to memcmp.
                let common = min(x.count, y.count)
                var i = 0
                while i < common {
                    if x[i] != y[i] { return x[i] < y[i] }
                    i += 1
                }
                return x.count < y.count
            }
        }
        return (fast ?? nil) ?? a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    @inline(__always)
    static func appendLength(_ n: Int, to out: inout [UInt8]) {
        let v = UInt32(truncatingIfNeeded: n).bigEndian
        withUnsafeBytes(of: v) { out.append(contentsOf: $0) }
    }

    @inline(__always)
    static func appendString(_ s: String, to out: inout [UInt8]) {
        appendLength(s.utf8.count, to: &out)
        let copied: Void? = s.utf8.withContiguousStorageIfAvailable { out.append(contentsOf: $0) }
        if copied == nil { out.append(contentsOf: s.utf8) }
    }

    @inline(__always)
    static func appendBytes(_ b: [UInt8], to out: inout [UInt8]) {
        appendLength(b.count, to: &out)
        out.append(contentsOf: b)
    }
}

// MARK: - Decoding

/// Why bytes are not a canonical encoding.
public struct CanonicalDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var reason: String
    public var description: String { "canonical bytes invalid at offset \(offset): \(reason)" }
}

extension CanonicalEncoding {
    /// Reads back an item written by ``append(_:to:)-(Item,_)`` (numbers come back in canonical form).
    /// Used to name keys in reports; it also shows the encoding loses nothing.
    public static func decodeItem(_ bytes: [UInt8]) throws(CanonicalDecodingError) -> Item {
        var reader = Reader(bytes: bytes)
        let item = try reader.item()
        guard reader.offset == bytes.count else { throw reader.failure("\(bytes.count - reader.offset) bytes after the item") }
        return item
    }

    struct Reader {
        let bytes: [UInt8]
        var offset = 0

        func failure(_ reason: String) -> CanonicalDecodingError { CanonicalDecodingError(offset: offset, reason: reason) }

        mutating func byte() throws(CanonicalDecodingError) -> UInt8 {
            guard offset < bytes.count else { throw failure("unexpected end") }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func length() throws(CanonicalDecodingError) -> Int {
            guard offset + 4 <= bytes.count else { throw failure("unexpected end in a length") }
            var v = 0
            for i in 0..<4 { v = v << 8 | Int(bytes[offset + i]) }
            offset += 4
            return v
        }

        mutating func raw() throws(CanonicalDecodingError) -> [UInt8] {
            let n = try length()
            guard offset + n <= bytes.count else { throw failure("length \(n) runs past the end") }
            defer { offset += n }
            return Array(bytes[offset..<(offset + n)])
        }

        mutating func string() throws(CanonicalDecodingError) -> String {
            let start = offset
            let b = try raw()
            guard let s = String(bytes: b, encoding: .utf8) else {
                throw CanonicalDecodingError(offset: start, reason: "string is not UTF-8")
            }
            return s
        }

        mutating func count() throws(CanonicalDecodingError) -> Int {
            let n = try length()
            // Every element takes at least one byte: a count beyond the rest is corrupt.
            guard n <= bytes.count - offset else { throw failure("count \(n) exceeds the remaining bytes") }
            return n
        }

        mutating func item() throws(CanonicalDecodingError) -> Item {
            let n = try count()
            var item: Item = [:]
            item.reserveCapacity(n)
            for _ in 0..<n {
                let name = try string()
                item[AttributeName(name)] = try value()
            }
            return item
        }

        mutating func value() throws(CanonicalDecodingError) -> AttributeValue {
            let tagOffset = offset
            guard let tag = Tag(rawValue: try byte()) else {
                throw CanonicalDecodingError(offset: tagOffset, reason: "unknown type tag \(bytes[tagOffset])")
            }
            switch tag {
            case .s: return .s(try string())
            case .n: return .n(DynamoNumber(unchecked: try string()))
            case .b: return .b(try raw())
            case .bool: return .bool(try byte() != 0)
            case .null: return .null
            case .m: return .m(try item())
            case .l:
                let n = try count()
                var list: [AttributeValue] = []
                for _ in 0..<n { list.append(try value()) }
                return .l(list)
            case .ss:
                let n = try count()
                var members: [String] = []
                for _ in 0..<n { members.append(try string()) }
                return .ss(members)
            case .ns:
                let n = try count()
                var members: [DynamoNumber] = []
                for _ in 0..<n { members.append(DynamoNumber(unchecked: try string())) }
                return .ns(members)
            case .bs:
                let n = try count()
                var members: [[UInt8]] = []
                for _ in 0..<n { members.append(try raw()) }
                return .bs(members)
            }
        }
    }
}

/// `pk={"S":"a"}, sk={"N":"3"}`: a primary key for messages and reports, partition key first.
public func describeKey(_ key: Item, schema: KeySchema? = nil) -> String {
    let names = schema?.attributeNames.map { AttributeName($0) }.filter { key[$0] != nil } ?? key.keys.sorted()
    return names.map { name in "\(name)=\(String(decoding: key[name]!.dynamoJSON, as: UTF8.self))" }.joined(separator: ", ")
}
