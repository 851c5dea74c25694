// Items kept as the bytes DynamoDB sent: read once for their size and key, written back unchanged.

private let quote = UInt8(ascii: "\"")

/// One DynamoDB-JSON item as it arrived (for example in a Scan page), with what a writer needs of it:
/// its DynamoDB size and its key. Passing it on as these bytes skips building an ``Item`` and
/// encoding it again, when nothing changes the item on the way.
public struct RawItem: Sendable, Hashable {
    /// The item's DynamoDB JSON exactly as received: `{"pk":{"S":"a"},...}`.
    public var bytes: ArraySlice<UInt8>
    /// DynamoDB's size of the item, by the rule of ``dynamoDBItemSize(_:)``.
    public var size: Int
    /// The key attributes that were asked for (those the item has).
    public var key: Item

    public init(bytes: ArraySlice<UInt8>, size: Int, key: Item) {
        self.bytes = bytes; self.size = size; self.key = key
    }

    /// The item built from the bytes.
    public func item() throws -> Item { try JSONReader.parseItem(Array(bytes)) }
}

extension JSONReader {
    /// Reads one DynamoDB-JSON item without building it: its bytes, its DynamoDB size and the
    /// attributes named in `keyAttributes`. The item is checked as strictly as ``readItem()`` checks
    /// it, apart from duplicate attribute names, which only ``readItem()`` looks for.
    public mutating func readRawItem(keyAttributes: [AttributeName]) throws -> RawItem {
        let all = bytes
        return try parse { (p) throws(JSONParseError) -> RawItem in
            p.skipWhitespace()
            let start = p.pos
            let (size, key) = try p.rawItem(keyAttributes: keyAttributes)
            return RawItem(bytes: all[start..<p.pos], size: size, key: key)
        }
    }
}

extension ByteParser {
    /// Walks an item, summing DynamoDB's size of each attribute and building only the key attributes.
    mutating func rawItem(keyAttributes: [AttributeName]) throws(JSONParseError) -> (Int, Item) {
        var key: Item = [:]
        var total = 0
        skipWhitespace()
        if try beginObject() { return (0, key) }
        var scratch: [UInt8] = []
        repeat {
            skipWhitespace()
            guard pos < end && buf[pos] == quote else { throw unexpected("a member name in double quotes") }
            var wanted: AttributeName?
            let nameLength: Int
            if let range = try scanString(&scratch) {
                nameLength = range.count
                let name = UnsafeBufferPointer(rebasing: buf[range])
                for k in keyAttributes where k.string.utf8.elementsEqual(name) { wanted = k }
            } else {
                nameLength = scratch.count
                for k in keyAttributes where k.string.utf8.elementsEqual(scratch) { wanted = k }
            }
            try expect(UInt8(ascii: ":"), "':' after a member name")
            if let wanted {
                let value = try readAttributeValue()
                key[wanted] = value
                total += nameLength + value.dynamoDBSize
            } else {
                total += nameLength + (try rawValueSize(&scratch))
            }
        } while try objectContinues()
        return (total, key)
    }

    /// DynamoDB's size of one attribute value (see ``AttributeValue/dynamoDBSize``), read as strictly
    /// as ``readAttributeValue()`` reads it, without building it.
    mutating func rawValueSize(_ scratch: inout [UInt8]) throws(JSONParseError) -> Int {
        skipWhitespace()
        guard pos < end && buf[pos] == UInt8(ascii: "{") else {
            throw unexpected("an attribute value such as {\"S\":\"text\"}")
        }
        pos += 1
        try enter()
        if peek() == UInt8(ascii: "}") { throw error("empty attribute value; expected one type descriptor such as \"S\"") }
        let size: Int
        switch try readDescriptor() {
        case .s:
            size = try rawStringLength(&scratch)
        case .n:
            size = try rawNumberSize(&scratch)
        case .b:
            size = try readBase64().count
        case .bool:
            _ = try readBool()
            size = 1
        case .null:
            skipWhitespace()
            guard consumeLiteral("true") else { throw unexpected("true (the only value of NULL)") }
            size = 1
        case .m:
            var total = 3
            if try !beginObject() {
                repeat {
                    skipWhitespace()
                    guard pos < end && buf[pos] == quote else { throw unexpected("a member name in double quotes") }
                    let nameLength = try rawStringLength(&scratch)
                    try expect(UInt8(ascii: ":"), "':' after a member name")
                    total += nameLength + (try rawValueSize(&scratch)) + 1
                } while try objectContinues()
            }
            size = total
        case .l:
            var total = 3
            if try !beginArray() {
                repeat { total += (try rawValueSize(&scratch)) + 1 } while try arrayContinues()
            }
            size = total
        case .ss:
            var total = 0
            if try !beginArray() {
                repeat { total += try rawStringLength(&scratch) } while try arrayContinues()
            }
            size = total
        case .ns:
            var total = 0
            if try !beginArray() {
                repeat { total += try rawNumberSize(&scratch) } while try arrayContinues()
            }
            size = total
        case .bs:
            var total = 0
            if try !beginArray() {
                repeat { total += try readBase64().count } while try arrayContinues()
            }
            size = total
        }
        skipWhitespace()
        guard pos < end && buf[pos] == UInt8(ascii: "}") else {
            throw unexpected("'}' closing the attribute value (it holds exactly one type descriptor)")
        }
        pos += 1
        leave()
        return size
    }

    /// The UTF-8 length of a string's content (escapes decoded).
    mutating func rawStringLength(_ scratch: inout [UInt8]) throws(JSONParseError) -> Int {
        skipWhitespace()
        guard pos < end && buf[pos] == quote else { throw unexpected("a string") }
        if let range = try scanString(&scratch) { return range.count }
        return scratch.count
    }

    /// DynamoDB's size of an `N` value given as a string.
    mutating func rawNumberSize(_ scratch: inout [UInt8]) throws(JSONParseError) -> Int {
        skipWhitespace()
        guard pos < end && buf[pos] == quote else { throw unexpected("a string") }
        if let range = try scanString(&scratch) {
            return AttributeValue.numberSize(UnsafeBufferPointer(rebasing: buf[range]))
        }
        return scratch.withUnsafeBufferPointer { AttributeValue.numberSize($0) }
    }
}
