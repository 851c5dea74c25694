/// Why a body is not the JSON we expected; `offset` is the byte position in the body.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var reason: String
    public init(offset: Int, reason: String) { self.offset = offset; self.reason = reason }
    public var description: String { "malformed JSON at byte \(offset): \(reason)" }
}

/// A pull parser over UTF-8 bytes, reading DynamoDB JSON straight into values.
// STUB: the codec work replaces the bodies below with a byte-level implementation.
public struct JSONReader {
    public init(_ bytes: [UInt8]) {}
    /// Reads one object, calling `body` with each key; `body` must read or skip that key's value.
    public mutating func readObject(_ body: (inout JSONReader, String) throws -> Void) throws { throw JSONParseError(offset: 0, reason: "stub") }
    /// Reads one array, calling `body` once per element; `body` must read or skip the element.
    public mutating func readArray(_ body: (inout JSONReader) throws -> Void) throws { throw JSONParseError(offset: 0, reason: "stub") }
    public mutating func readString() throws -> String { throw JSONParseError(offset: 0, reason: "stub") }
    /// The literal text of a JSON number.
    public mutating func readNumberText() throws -> String { throw JSONParseError(offset: 0, reason: "stub") }
    public mutating func readBool() throws -> Bool { throw JSONParseError(offset: 0, reason: "stub") }
    /// Consumes `null` and returns true, or returns false leaving the reader where it was.
    public mutating func readNullIfPresent() throws -> Bool { throw JSONParseError(offset: 0, reason: "stub") }
    /// A DynamoDB-JSON attribute value such as `{"S":"x"}` or `{"M":{...}}`.
    public mutating func readAttributeValue() throws -> AttributeValue { throw JSONParseError(offset: 0, reason: "stub") }
    /// A DynamoDB-JSON item: `{"name": {"S": "x"}, ...}`.
    public mutating func readItem() throws -> Item { throw JSONParseError(offset: 0, reason: "stub") }
    public mutating func readJSON() throws -> JSON { throw JSONParseError(offset: 0, reason: "stub") }
    public mutating func skipValue() throws { throw JSONParseError(offset: 0, reason: "stub") }
    /// Throws unless only whitespace is left.
    public mutating func finish() throws { throw JSONParseError(offset: 0, reason: "stub") }
}

extension JSON {
    /// Parses a whole body as generic JSON.
    public static func parse(_ bytes: [UInt8]) throws -> JSON {
        var reader = JSONReader(bytes)
        let value = try reader.readJSON()
        try reader.finish()
        return value
    }
}
