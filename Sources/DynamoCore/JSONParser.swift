// The byte-level JSON parser behind JSONReader: works on an UnsafeBufferPointer so the hot loops
// carry no Array bounds checks, and reads DynamoDB JSON straight into AttributeValue.

private let quote = UInt8(ascii: "\"")
private let backslash = UInt8(ascii: "\\")

/// Parser state over one borrowed buffer; JSONReader copies `pos`/`depth` in and out.
struct ByteParser {
    let buf: UnsafeBufferPointer<UInt8>
    var pos: Int
    var depth: Int
    let maxDepth: Int
    /// Members of the maps being read, innermost last; lets each map be built at its final size.
    var pendingMembers: [(name: AttributeName, value: AttributeValue, offset: Int)] = []

    init(_ buf: UnsafeBufferPointer<UInt8>, pos: Int, depth: Int, maxDepth: Int) {
        self.buf = buf; self.pos = pos; self.depth = depth; self.maxDepth = maxDepth
    }

    var end: Int { buf.count }

    // MARK: Errors

    func error(_ reason: String, at offset: Int? = nil) -> JSONParseError {
        JSONParseError(offset: offset ?? pos, reason: reason)
    }

    /// How the byte at `offset` reads in a message.
    func found(at offset: Int) -> String {
        guard offset < end else { return "end of input" }
        let b = buf[offset]
        if b >= 0x21 && b < 0x7F { return "'\(Character(UnicodeScalar(b)))'" }
        return "byte 0x" + (b < 16 ? "0" : "") + String(b, radix: 16, uppercase: true)
    }

    func unexpected(_ expected: String) -> JSONParseError {
        error("expected \(expected), found \(found(at: pos))")
    }

    // MARK: Basics

    @inline(__always)
    mutating func skipWhitespace() {
        while pos < end {
            let c = buf[pos]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            pos += 1
        }
    }

    /// The next non-whitespace byte (not consumed), or nil at the end.
    @inline(__always)
    mutating func peek() -> UInt8? {
        skipWhitespace()
        return pos < end ? buf[pos] : nil
    }

    @inline(__always)
    mutating func expect(_ byte: UInt8, _ what: @autoclosure () -> String) throws(JSONParseError) {
        skipWhitespace()
        guard pos < end && buf[pos] == byte else { throw unexpected(what()) }
        pos += 1
    }

    mutating func enter() throws(JSONParseError) {
        depth += 1
        // Called just after consuming the bracket; report the bracket itself.
        if depth > maxDepth { throw error("nesting deeper than \(maxDepth) levels", at: pos - 1) }
    }

    @inline(__always)
    mutating func leave() { depth -= 1 }

    // MARK: Containers

    /// Consumes `{` and reports whether the object is empty (then `}` is consumed too).
    mutating func beginObject() throws(JSONParseError) -> Bool {
        try expect(UInt8(ascii: "{"), "'{'")
        try enter()
        if peek() == UInt8(ascii: "}") { pos += 1; leave(); return true }
        return false
    }

    /// After a member's value: consumes `,` (true: another member follows) or `}` (false).
    mutating func objectContinues() throws(JSONParseError) -> Bool {
        skipWhitespace()
        if pos < end {
            if buf[pos] == UInt8(ascii: ",") { pos += 1; return true }
            if buf[pos] == UInt8(ascii: "}") { pos += 1; leave(); return false }
        }
        throw unexpected("',' or '}' after an object member")
    }

    /// Reads a member name and its colon.
    mutating func memberName() throws(JSONParseError) -> String {
        skipWhitespace()
        guard pos < end && buf[pos] == quote else { throw unexpected("a member name in double quotes") }
        let name = try parseString()
        try expect(UInt8(ascii: ":"), "':' after a member name")
        return name
    }

    /// Consumes `[` and reports whether the array is empty (then `]` is consumed too).
    mutating func beginArray() throws(JSONParseError) -> Bool {
        try expect(UInt8(ascii: "["), "'['")
        try enter()
        if peek() == UInt8(ascii: "]") { pos += 1; leave(); return true }
        return false
    }

    mutating func arrayContinues() throws(JSONParseError) -> Bool {
        skipWhitespace()
        if pos < end {
            if buf[pos] == UInt8(ascii: ",") { pos += 1; return true }
            if buf[pos] == UInt8(ascii: "]") { pos += 1; leave(); return false }
        }
        throw unexpected("',' or ']' after an array element")
    }

    // MARK: Strings

    /// Scans a string starting at its opening quote. Without escapes, returns the content's range
    /// and leaves `scratch` untouched; with escapes, returns nil and puts the decoded bytes in
    /// `scratch`. Either way `pos` ends after the closing quote and the content is valid UTF-8.
    @inline(__always)
    mutating func scanString(_ scratch: inout [UInt8]) throws(JSONParseError) -> Range<Int>? {
        let start = pos + 1
        var i = start
        let end = self.end
        let base = buf.baseAddress!
        while true {
            // Eight bytes at a time while none is a quote, backslash, control or non-ASCII byte.
            while i + 8 <= end {
                let x = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                let ones: UInt64 = 0x0101_0101_0101_0101
                let high: UInt64 = 0x8080_8080_8080_8080
                let q = x ^ (ones &* 0x22), b = x ^ (ones &* 0x5C)
                let special = ((q &- ones) & ~q) | ((b &- ones) & ~b) | ((x &- ones &* 0x20) & ~x) | x
                if special & high != 0 { break }
                i += 8
            }
            guard i < end else { throw error("unterminated string", at: start - 1) }
            let c = base[i]
            if c == quote {
                pos = i + 1
                return start..<i
            }
            if c == backslash {
                scratch.removeAll(keepingCapacity: true)
                scratch.append(contentsOf: UnsafeBufferPointer(start: base + start, count: i - start))
                pos = i
                try continueEscapedString(&scratch, stringStart: start - 1)
                return nil
            }
            if c < 0x20 { throw error("control character \(found(at: i)) in a string; it must be escaped", at: i) }
            if c >= 0x80 { i = try validateUTF8Sequence(at: i) } else { i += 1 }
        }
    }

    /// Checks one multi-byte UTF-8 sequence starting at `i`; returns the index after it.
    @inline(__always)
    func validateUTF8Sequence(at i: Int) throws(JSONParseError) -> Int {
        let c = buf[i]
        @inline(__always) func cont(_ k: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool {
            k < end && buf[k] >= lo && buf[k] <= hi
        }
        switch c {
        case 0xC2...0xDF:
            if cont(i + 1) { return i + 2 }
        case 0xE0:
            if cont(i + 1, 0xA0) && cont(i + 2) { return i + 3 }
        case 0xE1...0xEC, 0xEE...0xEF:
            if cont(i + 1) && cont(i + 2) { return i + 3 }
        case 0xED:
            if cont(i + 1, 0x80, 0x9F) && cont(i + 2) { return i + 3 }
        case 0xF0:
            if cont(i + 1, 0x90) && cont(i + 2) && cont(i + 3) { return i + 4 }
        case 0xF1...0xF3:
            if cont(i + 1) && cont(i + 2) && cont(i + 3) { return i + 4 }
        case 0xF4:
            if cont(i + 1, 0x80, 0x8F) && cont(i + 2) && cont(i + 3) { return i + 4 }
        default: break
        }
        throw error("invalid UTF-8 in a string", at: i)
    }

    /// Decodes the rest of a string whose first escape is at `pos`.
    mutating func continueEscapedString(_ out: inout [UInt8], stringStart: Int) throws(JSONParseError) {
        var i = pos
        while true {
            guard i < end else { throw error("unterminated string", at: stringStart) }
            let c = buf[i]
            if c == quote { pos = i + 1; return }
            if c == backslash {
                guard i + 1 < end else { throw error("unterminated string", at: stringStart) }
                let e = buf[i + 1]
                switch e {
                case quote, backslash, UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    let unit = try hex4(at: i + 2)
                    var scalar = UInt32(unit)
                    if unit >= 0xD800 && unit <= 0xDBFF {
                        guard i + 7 < end && buf[i + 6] == backslash && buf[i + 7] == UInt8(ascii: "u") else {
                            throw error("high surrogate \\u\(hexText(unit)) not followed by a low surrogate", at: i)
                        }
                        let low = try hex4(at: i + 8)
                        guard low >= 0xDC00 && low <= 0xDFFF else {
                            throw error("high surrogate \\u\(hexText(unit)) not followed by a low surrogate", at: i)
                        }
                        scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                        i += 6
                    } else if unit >= 0xDC00 && unit <= 0xDFFF {
                        throw error("lone low surrogate \\u\(hexText(unit))", at: i)
                    }
                    appendUTF8(scalar, to: &out)
                    i += 6
                    continue
                default:
                    throw error("invalid escape \(found(at: i + 1)) after a backslash in a string", at: i)
                }
                i += 2
                continue
            }
            if c < 0x20 { throw error("control character \(found(at: i)) in a string; it must be escaped", at: i) }
            if c >= 0x80 {
                let next = try validateUTF8Sequence(at: i)
                out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[i..<next]))
                i = next
            } else {
                out.append(c)
                i += 1
            }
        }
    }

    private func hexText(_ v: UInt16) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: 4 - s.count) + s
    }

    func hex4(at i: Int) throws(JSONParseError) -> UInt16 {
        guard i + 4 <= end else { throw error("truncated \\u escape", at: i - 2) }
        var v: UInt16 = 0
        for k in i..<(i + 4) {
            let c = buf[k]
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
            default: throw error("invalid hex digit \(found(at: k)) in a \\u escape", at: k)
            }
            v = v << 4 | UInt16(d)
        }
        return v
    }

    func appendUTF8(_ s: UInt32, to out: inout [UInt8]) {
        if s < 0x80 {
            out.append(UInt8(s))
        } else if s < 0x800 {
            out.append(UInt8(0xC0 | (s >> 6))); out.append(UInt8(0x80 | (s & 0x3F)))
        } else if s < 0x10000 {
            out.append(UInt8(0xE0 | (s >> 12))); out.append(UInt8(0x80 | ((s >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (s & 0x3F)))
        } else {
            out.append(UInt8(0xF0 | (s >> 18))); out.append(UInt8(0x80 | ((s >> 12) & 0x3F)))
            out.append(UInt8(0x80 | ((s >> 6) & 0x3F))); out.append(UInt8(0x80 | (s & 0x3F)))
        }
    }

    /// Reads a string at `pos` (which must be its opening quote).
    @inline(__always)
    mutating func parseString() throws(JSONParseError) -> String {
        var scratch: [UInt8] = []
        if let range = try scanString(&scratch) {
            return String(decoding: UnsafeBufferPointer(rebasing: buf[range]), as: UTF8.self)
        }
        return String(decoding: scratch, as: UTF8.self)
    }

    mutating func readString() throws(JSONParseError) -> String {
        skipWhitespace()
        guard pos < end && buf[pos] == quote else { throw unexpected("a string") }
        return try parseString()
    }

    // MARK: Numbers and literals

    /// Consumes a JSON number and returns its range.
    mutating func scanNumber() throws(JSONParseError) -> Range<Int> {
        skipWhitespace()
        let start = pos
        var i = pos
        @inline(__always) func isDigit(_ k: Int) -> Bool { k < end && buf[k] &- UInt8(ascii: "0") < 10 }
        if i < end && buf[i] == UInt8(ascii: "-") { i += 1 }
        guard isDigit(i) else { throw error("expected a number, found \(found(at: i))", at: i) }
        if buf[i] == UInt8(ascii: "0") {
            i += 1
            if isDigit(i) { throw error("leading zero in a number", at: start) }
        } else {
            while isDigit(i) { i += 1 }
        }
        if i < end && buf[i] == UInt8(ascii: ".") {
            i += 1
            guard isDigit(i) else { throw error("expected a digit after '.', found \(found(at: i))", at: i) }
            while isDigit(i) { i += 1 }
        }
        if i < end && (buf[i] == UInt8(ascii: "e") || buf[i] == UInt8(ascii: "E")) {
            i += 1
            if i < end && (buf[i] == UInt8(ascii: "+") || buf[i] == UInt8(ascii: "-")) { i += 1 }
            guard isDigit(i) else { throw error("expected a digit in the exponent, found \(found(at: i))", at: i) }
            while isDigit(i) { i += 1 }
        }
        pos = i
        return start..<i
    }

    mutating func readNumberText() throws(JSONParseError) -> String {
        let range = try scanNumber()
        return String(decoding: UnsafeBufferPointer(rebasing: buf[range]), as: UTF8.self)
    }

    /// Consumes `literal` if the bytes at `pos` spell it (and it is not followed by a letter).
    @inline(__always)
    mutating func consumeLiteral(_ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard pos + n <= end else { return false }
        let p = literal.utf8Start
        for k in 0..<n where buf[pos + k] != p[k] { return false }
        if pos + n < end {
            let next = buf[pos + n]
            if (next | 0x20) >= UInt8(ascii: "a") && (next | 0x20) <= UInt8(ascii: "z") { return false }
        }
        pos += n
        return true
    }

    mutating func readBool() throws(JSONParseError) -> Bool {
        skipWhitespace()
        if consumeLiteral("true") { return true }
        if consumeLiteral("false") { return false }
        throw unexpected("true or false")
    }

    mutating func readNullIfPresent() -> Bool {
        skipWhitespace()
        return consumeLiteral("null")
    }

    // MARK: Generic values

    mutating func readJSON() throws(JSONParseError) -> JSON {
        guard let c = peek() else { throw unexpected("a value") }
        switch c {
        case quote:
            return .string(try parseString())
        case UInt8(ascii: "{"):
            var members: [String: JSON] = [:]
            if try beginObject() { return .object(members) }
            repeat {
                let nameOffset = pos
                let name = try memberName()
                let value = try readJSON()
                if members.updateValue(value, forKey: name) != nil {
                    throw error("duplicate member name \"\(name)\"", at: skipWhitespaceOffset(nameOffset))
                }
            } while try objectContinues()
            return .object(members)
        case UInt8(ascii: "["):
            var elements: [JSON] = []
            if try beginArray() { return .array(elements) }
            repeat { elements.append(try readJSON()) } while try arrayContinues()
            return .array(elements)
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            return .bool(try readBool())
        case UInt8(ascii: "n"):
            if readNullIfPresent() { return .null }
            throw unexpected("a value")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try readNumberText())
        default:
            throw unexpected("a value")
        }
    }

    func skipWhitespaceOffset(_ offset: Int) -> Int {
        var i = offset
        while i < end, buf[i] == 0x20 || buf[i] == 0x0A || buf[i] == 0x0D || buf[i] == 0x09 { i += 1 }
        return i
    }

    /// Skips one value of any kind, still checking it is well-formed.
    mutating func skipValue() throws(JSONParseError) {
        guard let c = peek() else { throw unexpected("a value") }
        switch c {
        case quote:
            var scratch: [UInt8] = []
            _ = try scanString(&scratch)
        case UInt8(ascii: "{"):
            if try beginObject() { return }
            repeat {
                skipWhitespace()
                guard pos < end && buf[pos] == quote else { throw unexpected("a member name in double quotes") }
                var scratch: [UInt8] = []
                _ = try scanString(&scratch)
                try expect(UInt8(ascii: ":"), "':' after a member name")
                try skipValue()
            } while try objectContinues()
        case UInt8(ascii: "["):
            if try beginArray() { return }
            repeat { try skipValue() } while try arrayContinues()
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            _ = try readBool()
        case UInt8(ascii: "n"):
            if !readNullIfPresent() { throw unexpected("a value") }
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            _ = try scanNumber()
        default:
            throw unexpected("a value")
        }
    }

    // MARK: DynamoDB JSON

    /// `{"name": <attribute value>, ...}`; duplicate names are an error.
    mutating func readItem() throws(JSONParseError) -> Item {
        if try beginObject() { return [:] }
        let base = pendingMembers.count
        repeat {
            skipWhitespace()
            let nameOffset = pos
            let name = AttributeName(try memberName())
            let value = try readAttributeValue()
            pendingMembers.append((name, value, nameOffset))
        } while try objectContinues()
        let count = pendingMembers.count - base
        var item = Item(minimumCapacity: count)
        // Move the members out, leaving trivial placeholders, to save a retain/release per member.
        let duplicate: (AttributeName, Int)? = pendingMembers.withUnsafeMutableBufferPointer { members in
            let start = members.baseAddress! + base
            for k in 0..<count {
                let member = (start + k).move()
                (start + k).initialize(to: (AttributeName(""), .null, 0))
                if item.updateValue(member.value, forKey: member.name) != nil { return (member.name, member.offset) }
            }
            return nil
        }
        pendingMembers.removeLast(count)
        if let duplicate { throw error("duplicate attribute name \"\(duplicate.0)\"", at: duplicate.1) }
        return item
    }

    /// The type descriptor of an attribute value.
    enum Descriptor { case s, n, b, bool, null, m, l, ss, ns, bs }

    mutating func readDescriptor() throws(JSONParseError) -> Descriptor {
        skipWhitespace()
        let offset = pos
        guard pos < end && buf[pos] == quote else {
            throw unexpected("a type descriptor such as \"S\" in double quotes")
        }
        var scratch: [UInt8] = []
        let found: (Descriptor?, String)
        if let range = try scanString(&scratch) {
            found = Self.descriptor(named: UnsafeBufferPointer(rebasing: buf[range]))
        } else {
            found = scratch.withUnsafeBufferPointer { Self.descriptor(named: $0) }
        }
        guard let descriptor = found.0 else {
            throw error("unknown type descriptor \"\(found.1)\"", at: offset)
        }
        try expect(UInt8(ascii: ":"), "':' after a type descriptor")
        return descriptor
    }

    /// The descriptor with this name, or nil and the name as text (for the error).
    static func descriptor(named name: UnsafeBufferPointer<UInt8>) -> (Descriptor?, String) {
        let d: Descriptor?
        switch name.count {
        case 1:
            switch name[0] {
            case UInt8(ascii: "S"): d = .s
            case UInt8(ascii: "N"): d = .n
            case UInt8(ascii: "B"): d = .b
            case UInt8(ascii: "M"): d = .m
            case UInt8(ascii: "L"): d = .l
            default: d = nil
            }
        case 2 where name[1] == UInt8(ascii: "S"):
            switch name[0] {
            case UInt8(ascii: "S"): d = .ss
            case UInt8(ascii: "N"): d = .ns
            case UInt8(ascii: "B"): d = .bs
            default: d = nil
            }
        case 4:
            if name.elementsEqual("BOOL".utf8) { d = .bool } else if name.elementsEqual("NULL".utf8) { d = .null } else { d = nil }
        default: d = nil
        }
        return d == nil ? (nil, String(decoding: name, as: UTF8.self)) : (d, "")
    }

    /// A binary value: a base64 string.
    mutating func readBase64() throws(JSONParseError) -> [UInt8] {
        skipWhitespace()
        let offset = pos
        guard pos < end && buf[pos] == quote else { throw unexpected("a base64 string") }
        var scratch: [UInt8] = []
        let decoded: [UInt8]?
        if let range = try scanString(&scratch) {
            decoded = Base64.decode(UnsafeBufferPointer(rebasing: buf[range]))
        } else {
            decoded = scratch.withUnsafeBufferPointer { Base64.decode($0) }
        }
        guard let decoded else { throw error("invalid base64 in a binary value", at: offset) }
        return decoded
    }

    mutating func readAttributeValue() throws(JSONParseError) -> AttributeValue {
        skipWhitespace()
        guard pos < end && buf[pos] == UInt8(ascii: "{") else {
            throw unexpected("an attribute value such as {\"S\":\"text\"}")
        }
        pos += 1
        try enter()
        if peek() == UInt8(ascii: "}") { throw error("empty attribute value; expected one type descriptor such as \"S\"") }
        let descriptor = try readDescriptor()
        let value: AttributeValue
        switch descriptor {
        case .s:
            value = .s(try readString())
        case .n:
            value = .n(DynamoNumber(unchecked: try readString()))
        case .b:
            value = .b(try readBase64())
        case .bool:
            value = .bool(try readBool())
        case .null:
            skipWhitespace()
            guard consumeLiteral("true") else { throw unexpected("true (the only value of NULL)") }
            value = .null
        case .m:
            value = .m(try readItem())
        case .l:
            var elements: [AttributeValue] = []
            if try !beginArray() {
                repeat { elements.append(try readAttributeValue()) } while try arrayContinues()
            }
            value = .l(elements)
        case .ss:
            var members: [String] = []
            if try !beginArray() {
                repeat { members.append(try readString()) } while try arrayContinues()
            }
            value = .ss(members)
        case .ns:
            var members: [DynamoNumber] = []
            if try !beginArray() {
                repeat { members.append(DynamoNumber(unchecked: try readString())) } while try arrayContinues()
            }
            value = .ns(members)
        case .bs:
            var members: [[UInt8]] = []
            if try !beginArray() {
                repeat { members.append(try readBase64()) } while try arrayContinues()
            }
            value = .bs(members)
        }
        skipWhitespace()
        guard pos < end && buf[pos] == UInt8(ascii: "}") else {
            throw unexpected("'}' closing the attribute value (it holds exactly one type descriptor)")
        }
        pos += 1
        leave()
        return value
    }
}
