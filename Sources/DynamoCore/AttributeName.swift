/// A DynamoDB attribute name (or map key), compared and hashed by its UTF-8 bytes.
///
/// DynamoDB treats names as byte strings: `"é"` (U+00E9) and `"e\u{301}"` are two different
/// attributes. Swift's `String` compares by canonical equivalence and would call them one, so an item
/// holding both would collapse in a `[String: AttributeValue]`. Every `Item` and `M` map is keyed by
/// this type instead; ordering (`<`) is by UTF-8 bytes too, the order the checksum encoding uses.
public struct AttributeName: Sendable, Hashable, Comparable, ExpressibleByStringInterpolation,
    CustomStringConvertible, CustomDebugStringConvertible
{
    /// The name as text (exactly the bytes DynamoDB holds).
    public let string: String

    public init(_ string: String) { self.string = string }
    public init(stringLiteral value: String) { self.string = value }
    public init(stringInterpolation: DefaultStringInterpolation) { self.string = String(stringInterpolation: stringInterpolation) }

    /// The name, as is (for messages and paths).
    public var description: String { string }
    public var debugDescription: String { string.debugDescription }

    /// The number of UTF-8 bytes, which is what DynamoDB's size rules count.
    @inlinable public var utf8Count: Int { string.utf8.count }

    @inlinable
    public static func == (lhs: AttributeName, rhs: AttributeName) -> Bool {
        utf8Equal(lhs.string, rhs.string)
    }

    @inlinable
    public func hash(into hasher: inout Hasher) {
        hashUTF8(string, into: &hasher)
    }

    @inlinable
    public static func < (lhs: AttributeName, rhs: AttributeName) -> Bool {
        utf8Precedes(lhs.string, rhs.string)
    }
}

// MARK: - Byte comparison of strings

/// Whether two strings hold the same UTF-8 bytes (not Swift's canonical equivalence).
@inlinable
public func utf8Equal(_ a: String, _ b: String) -> Bool {
    let au = a.utf8, bu = b.utf8
    guard au.count == bu.count else { return false }
    let fast = au.withContiguousStorageIfAvailable { x in
        bu.withContiguousStorageIfAvailable { y in
            x.count == 0 || memcmpEqual(x.baseAddress!, y.baseAddress!, x.count)
        }
    }
    if let fast, let fast { return fast }
    return au.elementsEqual(bu)
}

@inlinable @inline(__always)
func memcmpEqual(_ x: UnsafePointer<UInt8>, _ y: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    if x == y { return true }
    var i = 0
    // Eight bytes at a time; names and most strings are short.
    while i + 8 <= n {
        if UnsafeRawPointer(x + i).loadUnaligned(as: UInt64.self)
            != UnsafeRawPointer(y + i).loadUnaligned(as: UInt64.self)
        {
            return false
        }
        i += 8
    }
    while i < n {
        if x[i] != y[i] { return false }
        i += 1
    }
    return true
}

/// Whether `a`'s UTF-8 bytes sort before `b`'s (unsigned bytes, a prefix first). For UTF-8 this is
/// also code point order.
@inlinable
public func utf8Precedes(_ a: String, _ b: String) -> Bool {
    let fast = a.utf8.withContiguousStorageIfAvailable { x in
        b.utf8.withContiguousStorageIfAvailable { y in x.lexicographicallyPrecedes(y) }
    }
    if let fast, let fast { return fast }
    return a.utf8.lexicographicallyPrecedes(b.utf8)
}

/// Feeds a string's UTF-8 bytes and a terminator to `hasher` (as `String` does, minus its
/// normalisation): a hash consistent with ``utf8Equal``.
@inlinable
public func hashUTF8(_ s: String, into hasher: inout Hasher) {
    let done: Void? = s.utf8.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    if done == nil { for byte in s.utf8 { hasher.combine(byte) } }
    hasher.combine(0xFF as UInt8)  // never a UTF-8 byte: "ab" + "c" and "a" + "bc" hash apart
}
