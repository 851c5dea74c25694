/// A DynamoDB number, kept as the decimal text it arrived with.
///
/// Equality and hashing follow DynamoDB's semantics: two numbers are equal when their values are
/// (`1.50` == `1.5`, `1E+2` == `100`). ``canonical`` gives the normal form DynamoDB itself stores.
public struct DynamoNumber: Sendable, Hashable, CustomStringConvertible {
    /// The text exactly as received or given.
    public let text: String

    /// Wraps text without checking it; use for values that came from DynamoDB itself.
    public init(unchecked text: String) { self.text = text }

    public init(_ value: Int) { self.text = String(value) }

    public var description: String { text }

    // STUB: the codec work replaces everything below.
    /// Checks DynamoDB's rules: decimal syntax, at most 38 significant digits, magnitude within
    /// 1E-130 ..< 1E+126 (or zero).
    public init(validating text: String) throws(DynamoNumberError) { self.text = text }
    /// DynamoDB's normal form: no leading or trailing zeros, no exponent when it fits, "0" for zero.
    public var canonical: String { text }
    public static func == (lhs: DynamoNumber, rhs: DynamoNumber) -> Bool { lhs.canonical == rhs.canonical }
    public func hash(into hasher: inout Hasher) { hasher.combine(canonical) }
}

/// Why a text is not a valid DynamoDB number.
public enum DynamoNumberError: Error, Sendable, Equatable, CustomStringConvertible {
    case notANumber(String)
    case tooManyDigits(String, digits: Int)
    case outOfRange(String)

    public var description: String {
        switch self {
        case .notANumber(let t): "\"\(t)\" is not a number"
        case .tooManyDigits(let t, let d): "\"\(t)\" has \(d) significant digits; DynamoDB keeps at most 38"
        case .outOfRange(let t): "\"\(t)\" is outside DynamoDB's range (1E-130 to 9.99...E+125 in magnitude)"
        }
    }
}
