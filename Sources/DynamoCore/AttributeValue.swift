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
    case m([String: AttributeValue])
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

/// A DynamoDB item: attribute names to values.
public typealias Item = [String: AttributeValue]
