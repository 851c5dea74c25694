/// Writes JSON into a byte buffer, placing commas and colons itself.
///
/// Output is compact. Strings escape `"`, `\` and control characters (as `\n`, `\r`, `\t`, `\b`,
/// `\f` or `\u00XX`); everything else, non-ASCII included, is written as raw UTF-8. Map members come
/// out in dictionary order, which is not deterministic.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    /// Whether the next value or key needs a comma first. No stack is needed: after any value
    /// (including a closed container) a sibling needs a comma; after `{`, `[` or a key it does not.
    var needsComma = false

    public init(capacity: Int = 1024) { bytes.reserveCapacity(capacity) }

    @inline(__always)
    mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    @inline(__always)
    mutating func raw(_ s: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    /// Appends one value that is already JSON (a ``RawItem``'s bytes), as it is: the caller vouches
    /// that it is one well-formed value.
    public mutating func rawJSON(_ value: ArraySlice<UInt8>) {
        separate()
        bytes.append(contentsOf: value)
        needsComma = true
    }

    public mutating func beginObject() {
        separate(); bytes.append(UInt8(ascii: "{")); needsComma = false
    }
    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}")); needsComma = true
    }
    public mutating func beginArray() {
        separate(); bytes.append(UInt8(ascii: "[")); needsComma = false
    }
    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]")); needsComma = true
    }
    /// Writes an object key; the next value written is its value.
    public mutating func key(_ name: String) {
        separate()
        escaped(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }
    /// Writes an attribute name as an object key; the next value written is its value.
    @inline(__always)
    public mutating func key(_ name: AttributeName) { key(name.string) }
    public mutating func string(_ value: String) {
        separate(); escaped(value); needsComma = true
    }
    /// Writes number text as is (the caller guarantees it is valid JSON number text).
    public mutating func numberText(_ text: String) {
        separate(); bytes.append(contentsOf: text.utf8); needsComma = true
    }
    public mutating func int(_ value: Int) {
        separate(); decimal(value); needsComma = true
    }
    public mutating func bool(_ value: Bool) {
        separate(); if value { raw("true") } else { raw("false") }; needsComma = true
    }
    public mutating func null() {
        separate(); raw("null"); needsComma = true
    }
    /// Writes bytes as a padded standard base64 string.
    public mutating func base64(_ value: [UInt8]) {
        separate(); base64String(value); needsComma = true
    }

    /// A DynamoDB-JSON attribute value, e.g. `{"S":"x"}`, `{"B":"AAE="}`, `{"NULL":true}`.
    public mutating func attributeValue(_ value: AttributeValue) {
        separate()
        switch value {
        case .s(let v): raw("{\"S\":"); escaped(v)
        case .n(let v): raw("{\"N\":"); escaped(v.text)
        case .b(let v): raw("{\"B\":"); base64String(v)
        case .bool(let v): if v { raw("{\"BOOL\":true") } else { raw("{\"BOOL\":false") }
        case .null: raw("{\"NULL\":true")
        case .m(let v):
            raw("{\"M\":")
            needsComma = false
            item(v)
        case .l(let v):
            raw("{\"L\":[")
            needsComma = false
            for element in v { attributeValue(element) }
            bytes.append(UInt8(ascii: "]"))
        case .ss(let v):
            raw("{\"SS\":[")
            for (i, member) in v.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                escaped(member)
            }
            bytes.append(UInt8(ascii: "]"))
        case .ns(let v):
            raw("{\"NS\":[")
            for (i, member) in v.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                escaped(member.text)
            }
            bytes.append(UInt8(ascii: "]"))
        case .bs(let v):
            raw("{\"BS\":[")
            for (i, member) in v.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                base64String(member)
            }
            bytes.append(UInt8(ascii: "]"))
        }
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    /// A DynamoDB-JSON item: `{"name":{"S":"x"},...}`.
    public mutating func item(_ item: Item) {
        beginObject()
        for (name, value) in item {
            key(name)
            attributeValue(value)
        }
        endObject()
    }

    public mutating func json(_ value: JSON) {
        switch value {
        case .string(let s): string(s)
        case .number(let n): numberText(n)
        case .bool(let b): bool(b)
        case .null: null()
        case .array(let elements):
            beginArray()
            for element in elements { json(element) }
            endArray()
        case .object(let members):
            beginObject()
            for (name, member) in members {
                key(name)
                json(member)
            }
            endObject()
        }
    }

    /// Serialises one item to compact DynamoDB JSON.
    public static func encode(item: Item) -> [UInt8] {
        var writer = JSONWriter(capacity: 256)
        writer.item(item)
        return writer.bytes
    }

    // MARK: - Bytes

    mutating func decimal(_ value: Int) {
        if value >= 0 && value < 10 { bytes.append(UInt8(ascii: "0") + UInt8(value)); return }
        bytes.append(contentsOf: String(value).utf8)
    }

    mutating func base64String(_ value: [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        let n = Base64.encodedLength(value.count)
        if n > 0 {
            let start = bytes.count
            bytes.append(contentsOf: repeatElement(0, count: n))
            _ = value.withUnsafeBufferPointer { input in
                bytes.withUnsafeMutableBufferPointer { out in
                    Base64.encode(input, into: out.baseAddress! + start)
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// A quoted, escaped string.
    @inline(__always)
    mutating func escaped(_ s: String) {
        var s = s
        s.withUTF8 { escaped($0) }
    }

    mutating func escaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        var runStart = 0
        var i = 0
        let n = utf8.count
        while i < n {
            let c = utf8[i]
            if c >= 0x20 && c != UInt8(ascii: "\"") && c != UInt8(ascii: "\\") { i += 1; continue }
            if i > runStart { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i])) }
            switch c {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0x08: raw("\\b")
            case 0x0C: raw("\\f")
            default:
                raw("\\u00")
                let hex: StaticString = "0123456789abcdef"
                bytes.append(hex.utf8Start[Int(c >> 4)])
                bytes.append(hex.utf8Start[Int(c & 15)])
            }
            i += 1
            runStart = i
        }
        if n > runStart { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<n])) }
        bytes.append(UInt8(ascii: "\""))
    }
}

extension JSON {
    /// Serialises to compact UTF-8 JSON.
    public func encoded() -> [UInt8] {
        var writer = JSONWriter()
        writer.json(self)
        return writer.bytes
    }
}
