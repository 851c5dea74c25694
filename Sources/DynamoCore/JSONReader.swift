/// Why a body is not the JSON we expected; `offset` is the byte position in the body.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var reason: String
    public init(offset: Int, reason: String) { self.offset = offset; self.reason = reason }
    public var description: String { "malformed JSON at byte \(offset): \(reason)" }
}

/// A pull parser over UTF-8 bytes, reading DynamoDB JSON straight into values.
///
/// Strict RFC 8259 JSON: strings must be valid UTF-8 with control characters escaped, `\u` escapes
/// must pair surrogates correctly, numbers keep their literal text. Nesting is limited to
/// `maxDepth` containers (objects plus arrays; a DynamoDB item nested 32 levels deep needs about 70).
/// Every error is a ``JSONParseError`` carrying the byte offset of the problem.
public struct JSONReader: Sendable {
    @usableFromInline let bytes: [UInt8]
    /// The byte offset of the next thing to read.
    public private(set) var offset: Int = 0
    /// The number of containers currently open.
    public private(set) var depth: Int = 0
    /// The deepest nesting accepted.
    public let maxDepth: Int

    /// The default nesting limit: enough for DynamoDB's 32 levels of nested maps/lists inside
    /// a response wrapper, small enough to stay clear of a thread's stack limit.
    public static let defaultMaxDepth = 256

    public init(_ bytes: [UInt8]) { self.init(bytes, maxDepth: Self.defaultMaxDepth) }

    public init(_ bytes: [UInt8], maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    /// Runs `body` with a parser over the bytes, then keeps its position.
    @inline(__always)
    mutating func parse<R>(_ body: (inout ByteParser) throws(JSONParseError) -> R) throws(JSONParseError) -> R {
        let bytes = self.bytes
        return try bytes.withUnsafeBufferPointer { (buf) throws(JSONParseError) -> R in
            var parser = ByteParser(buf, pos: offset, depth: depth, maxDepth: maxDepth)
            defer { offset = parser.pos; depth = parser.depth }
            return try body(&parser)
        }
    }

    /// Reads one object, calling `body` with each key; `body` must read or skip that key's value.
    public mutating func readObject(_ body: (inout JSONReader, String) throws -> Void) throws {
        if try parse({ (p) throws(JSONParseError) in try p.beginObject() }) { return }
        repeat {
            let name = try parse { (p) throws(JSONParseError) in try p.memberName() }
            try body(&self, name)
        } while try parse({ (p) throws(JSONParseError) in try p.objectContinues() })
    }

    /// Reads one array, calling `body` once per element; `body` must read or skip the element.
    public mutating func readArray(_ body: (inout JSONReader) throws -> Void) throws {
        if try parse({ (p) throws(JSONParseError) in try p.beginArray() }) { return }
        repeat {
            try body(&self)
        } while try parse({ (p) throws(JSONParseError) in try p.arrayContinues() })
    }

    public mutating func readString() throws -> String {
        try parse { (p) throws(JSONParseError) in try p.readString() }
    }

    /// The literal text of a JSON number.
    public mutating func readNumberText() throws -> String {
        try parse { (p) throws(JSONParseError) in try p.readNumberText() }
    }

    /// A JSON number as an `Int`; an error when it is not an integer that fits.
    public mutating func readInt() throws -> Int {
        let start = offset
        let text = try readNumberText()
        guard let value = Int(text) else {
            throw JSONParseError(offset: start, reason: "expected an integer, found \(text)")
        }
        return value
    }

    public mutating func readBool() throws -> Bool {
        try parse { (p) throws(JSONParseError) in try p.readBool() }
    }

    /// Consumes `null` and returns true, or returns false leaving the reader where it was.
    public mutating func readNullIfPresent() throws -> Bool {
        try parse { (p) throws(JSONParseError) in p.readNullIfPresent() }
    }

    /// A DynamoDB-JSON attribute value such as `{"S":"x"}` or `{"M":{...}}`.
    ///
    /// `N` values are taken as DynamoDB sent them (``DynamoNumber/init(unchecked:)``); `B` values
    /// must be padded standard base64; `NULL` must be `true`. Unknown type descriptors and objects
    /// with more than one descriptor are errors.
    public mutating func readAttributeValue() throws -> AttributeValue {
        try parse { (p) throws(JSONParseError) in try p.readAttributeValue() }
    }

    /// A DynamoDB-JSON item: `{"name": {"S": "x"}, ...}`. Duplicate attribute names are an error.
    public mutating func readItem() throws -> Item {
        try parse { (p) throws(JSONParseError) in try p.readItem() }
    }

    /// A JSON array of DynamoDB-JSON items, such as a Scan page's `Items`.
    public mutating func readItems() throws -> [Item] {
        try parse { (p) throws(JSONParseError) -> [Item] in
            var items: [Item] = []
            if try p.beginArray() { return items }
            repeat { items.append(try p.readItem()) } while try p.arrayContinues()
            return items
        }
    }

    /// Any JSON value as a tree. Duplicate member names are an error.
    public mutating func readJSON() throws -> JSON {
        try parse { (p) throws(JSONParseError) in try p.readJSON() }
    }

    /// Skips one value of any kind (checking that it is well-formed) without building it.
    public mutating func skipValue() throws {
        try parse { (p) throws(JSONParseError) in try p.skipValue() }
    }

    /// The next non-whitespace byte, without consuming it; nil at the end.
    public mutating func peekByte() -> UInt8? {
        (try? parse { (p) throws(JSONParseError) in p.peek() }) ?? nil
    }

    /// Throws unless only whitespace is left.
    public mutating func finish() throws {
        try parse { (p) throws(JSONParseError) in
            p.skipWhitespace()
            if p.pos < p.end { throw p.error("unexpected \(p.found(at: p.pos)) after the end of the value") }
        }
    }

    /// Parses a whole body that is one DynamoDB-JSON item.
    public static func parseItem(_ bytes: [UInt8]) throws -> Item {
        var reader = JSONReader(bytes)
        let item = try reader.readItem()
        try reader.finish()
        return item
    }
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
