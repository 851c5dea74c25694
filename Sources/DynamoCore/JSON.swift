/// A generic JSON value, for control-plane requests and answers where speed does not matter.
///
/// Numbers keep their text. Items inside data-plane answers are better read straight into
/// ``AttributeValue`` with ``JSONReader``.
public indirect enum JSON: Sendable, Hashable {
    case string(String)
    case number(String)
    case bool(Bool)
    case null
    case array([JSON])
    case object([String: JSON])

    public subscript(key: String) -> JSON? {
        if case .object(let members) = self { return members[key] }
        return nil
    }
    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var numberText: String? { if case .number(let n) = self { return n }; return nil }
    public var intValue: Int? { numberText.flatMap { Int($0) } ?? numberText.flatMap { Double($0) }.map { Int($0) } }
    public var doubleValue: Double? { numberText.flatMap { Double($0) } }
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var arrayValue: [JSON]? { if case .array(let a) = self { return a }; return nil }
    public var objectValue: [String: JSON]? { if case .object(let o) = self { return o }; return nil }
}
