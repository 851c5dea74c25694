// DynamoCore: DynamoDB's values (`AttributeValue`, `Item`), its JSON wire format, and canonical numbers.

/// One DynamoDB attribute value, with all ten of DynamoDB's types.
///
/// Numbers keep the decimal text they arrived with (see ``DynamoNumber``); binary values hold raw
/// bytes (base64 only on the wire).
public enum AttributeValue: Sendable, Hashable {
    case s(String)
    case n(DynamoNumber)
    case b([UInt8])
    case bool(Bool)
    case null
    case m([AttributeName: AttributeValue])
    case l([AttributeValue])
    case ss([String])
    case ns([DynamoNumber])
    case bs([[UInt8]])

    /// DynamoDB's one- or two-letter type descriptor (`"S"`, `"N"`, `"SS"`, ...).
    public var typeDescriptor: String {
        switch self {
        case .s: "S"
        case .n: "N"
        case .b: "B"
        case .bool: "BOOL"
        case .null: "NULL"
        case .m: "M"
        case .l: "L"
        case .ss: "SS"
        case .ns: "NS"
        case .bs: "BS"
        }
    }
}

/// A DynamoDB item: attribute names to values. Names compare by UTF-8 bytes (``AttributeName``).
public typealias Item = [AttributeName: AttributeValue]

// MARK: - Equality

extension AttributeValue {
    /// DynamoDB's equality: strings (and map keys) compare by UTF-8 bytes, as DynamoDB does, not by
    /// Swift's canonical equivalence; numbers compare by value (``DynamoNumber``), maps ignore key
    /// order, and sets (`SS`, `NS`, `BS`) ignore member order, since DynamoDB does not keep it. Lists
    /// keep order.
    public static func == (lhs: AttributeValue, rhs: AttributeValue) -> Bool {
        switch (lhs, rhs) {
        case (.s(let a), .s(let b)): return utf8Equal(a, b)
        case (.n(let a), .n(let b)): return a == b
        case (.b(let a), .b(let b)): return a == b
        case (.bool(let a), .bool(let b)): return a == b
        case (.null, .null): return true
        case (.m(let a), .m(let b)): return a == b
        case (.l(let a), .l(let b)): return a == b
        case (.ss(let a), .ss(let b)):
            guard a.count == b.count else { return false }
            if zip(a, b).allSatisfy({ utf8Equal($0, $1) }) { return true }
            return zip(a.sorted(by: utf8Precedes), b.sorted(by: utf8Precedes)).allSatisfy { utf8Equal($0, $1) }
        case (.ns(let a), .ns(let b)):
            return a == b || (a.count == b.count && a.map(\.canonical).sorted() == b.map(\.canonical).sorted())
        case (.bs(let a), .bs(let b)):
            return a == b
                || (a.count == b.count
                    && a.sorted(by: { $0.lexicographicallyPrecedes($1) }) == b.sorted(by: { $0.lexicographicallyPrecedes($1) }))
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(typeDescriptor)
        switch self {
        case .s(let v): hashUTF8(v, into: &hasher)
        case .n(let v): hasher.combine(v)
        case .b(let v): hasher.combine(v)
        case .bool(let v): hasher.combine(v)
        case .null: break
        case .m(let v): hasher.combine(v)
        case .l(let v): hasher.combine(v)
        // Order-independent: the sum of the members' hashes.
        case .ss(let v):
            hasher.combine(v.count)
            hasher.combine(
                v.reduce(0) { sum, member in
                    var h = Hasher(); hashUTF8(member, into: &h); return sum &+ h.finalize()
                })
        case .ns(let v): hasher.combine(v.count); hasher.combine(v.reduce(0) { $0 &+ $1.hashValue })
        case .bs(let v): hasher.combine(v.count); hasher.combine(v.reduce(0) { $0 &+ $1.hashValue })
        }
    }
}

// MARK: - Conveniences

extension AttributeValue {
    /// The string of an `S` value.
    public var stringValue: String? { if case .s(let v) = self { return v }; return nil }
    /// The number of an `N` value.
    public var numberValue: DynamoNumber? { if case .n(let v) = self { return v }; return nil }
    /// The bytes of a `B` value.
    public var binaryValue: [UInt8]? { if case .b(let v) = self { return v }; return nil }
    /// The flag of a `BOOL` value.
    public var boolValue: Bool? { if case .bool(let v) = self { return v }; return nil }
    /// True for `NULL`.
    public var isNull: Bool { if case .null = self { return true }; return false }
    /// The members of an `M` value.
    public var mapValue: [AttributeName: AttributeValue]? { if case .m(let v) = self { return v }; return nil }
    /// The elements of an `L` value.
    public var listValue: [AttributeValue]? { if case .l(let v) = self { return v }; return nil }
    /// The members of an `SS` value.
    public var stringSetValue: [String]? { if case .ss(let v) = self { return v }; return nil }
    /// The members of an `NS` value.
    public var numberSetValue: [DynamoNumber]? { if case .ns(let v) = self { return v }; return nil }
    /// The members of a `BS` value.
    public var binarySetValue: [[UInt8]]? { if case .bs(let v) = self { return v }; return nil }

    /// Parses one DynamoDB-JSON value such as `{"S":"x"}` (the whole body must be that value).
    public init(dynamoJSON bytes: [UInt8]) throws {
        var reader = JSONReader(bytes)
        self = try reader.readAttributeValue()
        try reader.finish()
    }

    /// This value as compact DynamoDB JSON, e.g. `{"S":"x"}`.
    public var dynamoJSON: [UInt8] {
        var writer = JSONWriter(capacity: 64)
        writer.attributeValue(self)
        return writer.bytes
    }
}

// MARK: - Item size

/// The size DynamoDB charges for an item, per AWS's item-size rules ("DynamoDB item sizes and
/// formats"): the sum over attributes of the name's UTF-8 length plus the value's size
/// (see ``AttributeValue/dynamoDBSize``). Compare with the 400 KB item limit (409,600 bytes).
public func dynamoDBItemSize(_ item: Item) -> Int {
    var total = 0
    for (name, value) in item { total += name.utf8Count + value.dynamoDBSize }
    return total
}

/// DynamoDB's maximum item size, 400 KB.
public let dynamoDBMaximumItemSize = 400 * 1024

extension AttributeValue {
    /// The size of this value (without an attribute name) per AWS's item-size rules:
    /// `S` = UTF-8 bytes; `N` = 1 byte per two significant digits (rounded up) + 1;
    /// `B` = raw bytes; `BOOL`/`NULL` = 1; `M`/`L` = 3 + per element (name bytes for `M` + value
    /// size + 1); sets = the sum of their members' sizes.
    public var dynamoDBSize: Int {
        switch self {
        case .s(let v): return v.utf8.count
        case .n(let v): return Self.numberSize(v)
        case .b(let v): return v.count
        case .bool, .null: return 1
        case .m(let v):
            var total = 3
            for (name, value) in v { total += name.utf8Count + value.dynamoDBSize + 1 }
            return total
        case .l(let v):
            var total = 3
            for value in v { total += value.dynamoDBSize + 1 }
            return total
        case .ss(let v): return v.reduce(0) { $0 + $1.utf8.count }
        case .ns(let v): return v.reduce(0) { $0 + Self.numberSize($1) }
        case .bs(let v): return v.reduce(0) { $0 + $1.count }
        }
    }

    static func numberSize(_ number: DynamoNumber) -> Int {
        guard let scan = NumberScan(number.text) else { return number.text.utf8.count }
        return (scan.significantDigits + 1) / 2 + 1
    }

    /// The same rule over a number's text as bytes (a ``RawItem`` is sized without building values).
    static func numberSize(_ text: UnsafeBufferPointer<UInt8>) -> Int {
        guard let scan = NumberScan(text) else { return text.count }
        return (scan.significantDigits + 1) / 2 + 1
    }
}
