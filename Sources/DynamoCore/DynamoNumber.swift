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

    /// DynamoDB's largest number of significant digits.
    public static let maximumSignificantDigits = 38
    /// The decimal exponent of the smallest non-zero magnitude, 1E-130.
    public static let minimumExponent = -130
    /// The decimal exponent of the leading digit of the largest magnitude, 9.99...E+125.
    public static let maximumExponent = 125

    /// Checks DynamoDB's rules: decimal syntax, at most 38 significant digits, magnitude within
    /// 1E-130 ..< 1E+126 (or zero).
    ///
    /// The syntax is an optional sign, digits with an optional fraction (`5`, `5.`, `.5`, `5.25`) and an
    /// optional exponent (`e` or `E`, optional sign, digits). Leading and trailing zeros do not count as
    /// significant digits. No whitespace is allowed.
    public init(validating text: String) throws(DynamoNumberError) {
        guard let scan = NumberScan(text) else { throw .notANumber(text) }
        if scan.significantDigits > Self.maximumSignificantDigits {
            throw .tooManyDigits(text, digits: scan.significantDigits)
        }
        if !scan.isZero && (scan.exponent < Self.minimumExponent || scan.exponent > Self.maximumExponent) {
            throw .outOfRange(text)
        }
        self.text = text
    }

    /// DynamoDB's normal form: no leading or trailing zeros, no exponent when it fits, "0" for zero.
    ///
    /// The form is always plain decimal notation, as DynamoDB returns numbers: `1E+2` → `100`,
    /// `1.50` → `1.5`, `-0` → `0`, `0.000` → `0`, `+7` → `7`, `1E-3` → `0.001`, `.5` → `0.5`.
    /// Every number within DynamoDB's range gets its plain form (up to 126 integer digits or 130
    /// fraction digits). Only unchecked text outside any sensible range (decimal exponent beyond
    /// ±1000) is written in scientific form, `d.dddE+x` / `d.dddE-x`, so a hostile exponent cannot
    /// make a huge string. Text that is not a number at all, or whose exponent exceeds a million in
    /// magnitude, is its own canonical form.
    ///
    /// Already-canonical text (the usual case for numbers read from DynamoDB) is returned without
    /// allocating.
    public var canonical: String {
        var text = self.text
        return text.withUTF8 { utf8 -> String in
            guard let scan = NumberScan(utf8), !(scan.exponentClamped && !scan.isZero) else { return self.text }
            if scan.isZero { return utf8.count == 1 && utf8[0] == UInt8(ascii: "0") ? self.text : "0" }
            let capacity = scan.canonicalLength
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { out -> String in
                let written = scan.writeCanonical(from: utf8, into: out)
                let result = UnsafeBufferPointer(rebasing: out[0..<written])
                if written == utf8.count && result.elementsEqual(utf8) { return self.text }
                return String(decoding: result, as: UTF8.self)
            }
        }
    }

    /// True when the text obeys DynamoDB's number rules (see ``init(validating:)``).
    public var isValid: Bool { (try? DynamoNumber(validating: text)) != nil }

    public static func == (lhs: DynamoNumber, rhs: DynamoNumber) -> Bool {
        lhs.text == rhs.text || lhs.canonical == rhs.canonical
    }
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

/// The parts of decimal number text, as positions into its UTF-8 bytes (no copies).
struct NumberScan {
    var negative = false
    /// Index of the first and last non-zero digit; meaningless when `isZero`.
    var firstSignificant = 0
    var lastSignificant = 0
    /// Index of the '.', or -1.
    var pointIndex = -1
    var significantDigits = 0
    /// The decimal exponent of the first significant digit (`123` → 2, `0.05` → -2).
    var exponent = 0
    var isZero: Bool { significantDigits == 0 }
    /// The explicit exponent had more than a million in magnitude and was clamped (still out of
    /// range, but no longer the exact value).
    var exponentClamped = false

    /// Exponents beyond this are clamped while parsing; anything past ±130 is out of range anyway.
    static let exponentClamp = 1_000_000
    static let plainLimit = 1000

    init?(_ text: String) {
        var text = text
        guard let scan = text.withUTF8({ NumberScan($0) }) else { return nil }
        self = scan
    }

    init?(_ s: UnsafeBufferPointer<UInt8>) {
        let n = s.count
        var i = 0
        if i < n && (s[i] == UInt8(ascii: "-") || s[i] == UInt8(ascii: "+")) {
            negative = s[i] == UInt8(ascii: "-")
            i += 1
        }
        let intStart = i
        while i < n && s[i] &- UInt8(ascii: "0") < 10 { i += 1 }
        let intEnd = i
        var fracStart = i, fracEnd = i
        if i < n && s[i] == UInt8(ascii: ".") {
            pointIndex = i
            i += 1
            fracStart = i
            while i < n && s[i] &- UInt8(ascii: "0") < 10 { i += 1 }
            fracEnd = i
        }
        guard (intEnd - intStart) + (fracEnd - fracStart) > 0 else { return nil }
        var explicitExponent = 0
        if i < n && (s[i] == UInt8(ascii: "e") || s[i] == UInt8(ascii: "E")) {
            i += 1
            var expNegative = false
            if i < n && (s[i] == UInt8(ascii: "-") || s[i] == UInt8(ascii: "+")) {
                expNegative = s[i] == UInt8(ascii: "-")
                i += 1
            }
            let expStart = i
            while i < n && s[i] &- UInt8(ascii: "0") < 10 {
                explicitExponent = explicitExponent * 10 + Int(s[i] &- UInt8(ascii: "0"))
                if explicitExponent > Self.exponentClamp {
                    explicitExponent = Self.exponentClamp
                    exponentClamped = true
                }
                i += 1
            }
            guard i > expStart else { return nil }
            if expNegative { explicitExponent = -explicitExponent }
        }
        guard i == n else { return nil }

        // First and last non-zero digits, skipping the point.
        var first = -1
        var j = intStart
        while j < fracEnd {
            if j != pointIndex && s[j] != UInt8(ascii: "0") { first = j; break }
            j += 1
        }
        guard first >= 0 else { return }  // zero: significantDigits stays 0
        var last = fracEnd - 1
        while last == pointIndex || s[last] == UInt8(ascii: "0") { last -= 1 }
        firstSignificant = first
        lastSignificant = last
        let spansPoint = pointIndex >= 0 && first < pointIndex && last > pointIndex
        significantDigits = last - first + 1 - (spansPoint ? 1 : 0)
        // Power of ten of the first significant digit, before the explicit exponent.
        let power = first < intEnd ? intEnd - 1 - first : -(first - fracStart + 1)
        exponent = power + explicitExponent
    }

    /// Whether the canonical form is plain decimal (always, within DynamoDB's range).
    var isPlain: Bool { exponent >= -Self.plainLimit && exponent <= Self.plainLimit }

    /// An upper bound on the bytes ``writeCanonical(from:into:)`` writes (non-zero numbers).
    var canonicalLength: Int {
        if isPlain { return 1 + significantDigits + 2 + Swift.max(abs(exponent), 0) + 1 }
        return 1 + significantDigits + 1 + 2 + 20  // sign, digits, point, "E-", up to 19 exponent digits
    }

    /// Writes the canonical text of a non-zero number; returns the byte count.
    func writeCanonical(from s: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var o = 0
        @inline(__always) func put(_ b: UInt8) { out[o] = b; o += 1 }
        if negative { put(UInt8(ascii: "-")) }
        // Digits in order, skipping the point.
        @inline(__always) func putDigits(_ range: Range<Int>) {
            for k in range where k != pointIndex { put(s[k]) }
        }
        let digits = firstSignificant..<(lastSignificant + 1)
        if !isPlain {
            var k = digits.lowerBound
            put(s[k]); k += 1
            if significantDigits > 1 {
                put(UInt8(ascii: "."))
                putDigits(k..<digits.upperBound)
            }
            put(UInt8(ascii: "E"))
            put(exponent < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            for b in String(abs(exponent)).utf8 { put(b) }
            return o
        }
        if exponent < 0 {
            put(UInt8(ascii: "0")); put(UInt8(ascii: "."))
            for _ in 0..<(-exponent - 1) { put(UInt8(ascii: "0")) }
            putDigits(digits)
            return o
        }
        let integerDigits = exponent + 1
        if significantDigits <= integerDigits {
            putDigits(digits)
            for _ in 0..<(integerDigits - significantDigits) { put(UInt8(ascii: "0")) }
            return o
        }
        var written = 0
        for k in digits where k != pointIndex {
            if written == integerDigits { put(UInt8(ascii: ".")) }
            put(s[k]); written += 1
        }
        return o
    }
}
