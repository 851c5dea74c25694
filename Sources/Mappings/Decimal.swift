// Decimal text helpers for conversions and filters: syntax, exact integers, ordering by value.

/// A decimal number reduced to sign, significant digits and exponent, for exact comparison.
///
/// The value is `0.d1d2d3... x 10^exponent`; zero has no digits.
struct DecimalValue: Sendable, Hashable, Comparable {
    let negative: Bool
    let digits: [UInt8]
    let exponent: Int

    /// Parses `-12.50`, `1.2E3`, `.5`; nil when the text is not decimal syntax.
    init?(_ text: String) {
        var utf8 = Array(text.utf8)
        guard !utf8.isEmpty else { return nil }
        var negative = false
        if utf8[0] == UInt8(ascii: "-") { negative = true; utf8.removeFirst() }
        var intDigits: [UInt8] = [], fracDigits: [UInt8] = []
        var i = 0
        while i < utf8.count, utf8[i] >= 48, utf8[i] <= 57 { intDigits.append(utf8[i] - 48); i += 1 }
        if i < utf8.count, utf8[i] == UInt8(ascii: ".") {
            i += 1
            while i < utf8.count, utf8[i] >= 48, utf8[i] <= 57 { fracDigits.append(utf8[i] - 48); i += 1 }
        }
        guard !intDigits.isEmpty || !fracDigits.isEmpty else { return nil }
        var exp = 0
        if i < utf8.count, utf8[i] == UInt8(ascii: "e") || utf8[i] == UInt8(ascii: "E") {
            i += 1
            var expNegative = false
            if i < utf8.count, utf8[i] == UInt8(ascii: "+") || utf8[i] == UInt8(ascii: "-") {
                expNegative = utf8[i] == UInt8(ascii: "-")
                i += 1
            }
            var any = false
            while i < utf8.count, utf8[i] >= 48, utf8[i] <= 57 {
                any = true
                if exp < 100_000 { exp = exp * 10 + Int(utf8[i] - 48) }
                i += 1
            }
            guard any else { return nil }
            if expNegative { exp = -exp }
        }
        guard i == utf8.count else { return nil }
        var all = intDigits + fracDigits
        var pointAt = intDigits.count + exp
        while let first = all.first, first == 0 { all.removeFirst(); pointAt -= 1 }
        while let last = all.last, last == 0 { all.removeLast() }
        self.negative = all.isEmpty ? false : negative
        digits = all
        exponent = all.isEmpty ? 0 : pointAt
    }

    var isZero: Bool { digits.isEmpty }

    /// The exact integer value, or nil when it has a fractional part or does not fit in an Int.
    var exactInteger: Int? {
        if isZero { return 0 }
        guard exponent >= digits.count, exponent <= 18 else { return nil }
        var v = 0
        for d in digits { v = v * 10 + Int(d) }
        for _ in digits.count..<exponent { v *= 10 }
        return negative ? -v : v
    }

    static func < (a: DecimalValue, b: DecimalValue) -> Bool {
        if a.negative != b.negative { return a.negative }
        let magnitudeLess = lessMagnitude(a, b)
        let magnitudeGreater = lessMagnitude(b, a)
        return a.negative ? magnitudeGreater : magnitudeLess
    }

    private static func lessMagnitude(_ a: DecimalValue, _ b: DecimalValue) -> Bool {
        if a.isZero || b.isZero { return a.isZero && !b.isZero }
        if a.exponent != b.exponent { return a.exponent < b.exponent }
        return a.digits.lexicographicallyPrecedes(b.digits)
    }
}

/// Calendar arithmetic for the ISO 8601 conversions (proleptic Gregorian, UTC).
enum CivilTime {
    /// Days since 1970-01-01 for a date (Howard Hinnant's days_from_civil).
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The date of a day count since 1970-01-01 (civil_from_days).
    static func date(days z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, or with `.mmm` when `millis` is given; nil outside years 0001-9999.
    static func format(epochSeconds s: Int, millis: Int?) -> String? {
        let (dayCount, secOfDay) = floorDivMod(s, 86_400)
        let (y, m, d) = date(days: dayCount)
        guard (1...9999).contains(y) else { return nil }
        var out = pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2) + "T"
        out += pad(secOfDay / 3600, 2) + ":" + pad(secOfDay / 60 % 60, 2) + ":" + pad(secOfDay % 60, 2)
        if let millis { out += "." + pad(millis, 3) }
        return out + "Z"
    }

    static func floorDivMod(_ a: Int, _ b: Int) -> (Int, Int) {
        let q = a / b, r = a % b
        return r < 0 ? (q - 1, r + b) : (q, r)
    }

    private static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    /// A parsed RFC 3339 timestamp: whole seconds since 1970 plus the fraction's digits.
    struct Parsed {
        let epochSeconds: Int
        let fraction: [UInt8]
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM|-HH:MM]` (`T` may be a space; `Z` may be lowercase).
    static func parse(_ text: String) -> Parsed? {
        let b = Array(text.utf8)
        var i = 0
        func number(_ width: Int) -> Int? {
            guard i + width <= b.count else { return nil }
            var v = 0
            for k in i..<(i + width) {
                guard b[k] >= 48, b[k] <= 57 else { return nil }
                v = v * 10 + Int(b[k] - 48)
            }
            i += width
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = number(4), expect(45), let month = number(2), expect(45), let day = number(2) else { return nil }
        guard i < b.count, b[i] == UInt8(ascii: "T") || b[i] == UInt8(ascii: "t") || b[i] == 32 else { return nil }
        i += 1
        guard let hour = number(2), expect(58), let minute = number(2), expect(58), let second = number(2) else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month),
            hour < 24, minute < 60, second < 60
        else { return nil }
        var fraction: [UInt8] = []
        if expect(46) {
            while i < b.count, b[i] >= 48, b[i] <= 57 { fraction.append(b[i] - 48); i += 1 }
            guard !fraction.isEmpty else { return nil }
        }
        var offset = 0
        guard i < b.count else { return nil }
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
            i += 1
            guard let oh = number(2), expect(58), let om = number(2), oh < 24, om < 60 else { return nil }
            offset = sign * (oh * 3600 + om * 60)
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let seconds = days(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Parsed(epochSeconds: seconds, fraction: fraction)
    }
}
