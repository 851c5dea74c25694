/// Standard base64 (RFC 4648 alphabet `A-Z a-z 0-9 + /`, with `=` padding), as DynamoDB uses for
/// binary values on the wire.
public enum Base64 {
    /// Encodes bytes as padded standard base64.
    public static func encode(_ bytes: [UInt8]) -> String {
        if bytes.isEmpty { return "" }
        return bytes.withUnsafeBufferPointer { input in
            String(
                unsafeUninitializedCapacity: encodedLength(input.count),
                initializingUTF8With: { out in
                    encode(input, into: out.baseAddress!)
                })
        }
    }

    /// Decodes padded standard base64; nil when the text is not valid base64 (wrong length, a
    /// character outside the alphabet, misplaced padding, whitespace).
    public static func decode(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { decode($0) }
    }

    /// Decodes padded standard base64 from its ASCII bytes; nil when invalid.
    public static func decode(_ bytes: [UInt8]) -> [UInt8]? {
        bytes.withUnsafeBufferPointer { decode($0) }
    }

    // MARK: - Internals shared with the JSON codec

    static func encodedLength(_ count: Int) -> Int { (count + 2) / 3 * 4 }

    /// Writes exactly ``encodedLength(_:)`` bytes; returns that count.
    @discardableResult
    static func encode(_ input: UnsafeBufferPointer<UInt8>, into out: UnsafeMutablePointer<UInt8>) -> Int {
        encodeAlphabet.withUnsafeBufferPointer { alphabet in
            let n = input.count
            var i = 0, o = 0
            while i + 3 <= n {
                let v = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
                out[o] = alphabet[Int(v >> 18)]
                out[o + 1] = alphabet[Int((v >> 12) & 63)]
                out[o + 2] = alphabet[Int((v >> 6) & 63)]
                out[o + 3] = alphabet[Int(v & 63)]
                i += 3; o += 4
            }
            let rest = n - i
            if rest > 0 {
                let v = UInt32(input[i]) << 16 | (rest == 2 ? UInt32(input[i + 1]) << 8 : 0)
                out[o] = alphabet[Int(v >> 18)]
                out[o + 1] = alphabet[Int((v >> 12) & 63)]
                out[o + 2] = rest == 2 ? alphabet[Int((v >> 6) & 63)] : UInt8(ascii: "=")
                out[o + 3] = UInt8(ascii: "=")
                o += 4
            }
            return o
        }
    }

    /// Decodes padded base64; nil when invalid. Non-zero bits in the last character before padding
    /// are tolerated (as most decoders do); they carry no data.
    static func decode(_ input: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        let n = input.count
        if n == 0 { return [] }
        guard n % 4 == 0 else { return nil }
        var padding = 0
        if input[n - 1] == UInt8(ascii: "=") { padding = input[n - 2] == UInt8(ascii: "=") ? 2 : 1 }
        let outCount = n / 4 * 3 - padding
        var valid = true
        let result = decodeTable.withUnsafeBufferPointer { table in
            [UInt8](unsafeUninitializedCapacity: outCount) { out, initialized in
                let fullEnd = padding == 0 ? n : n - 4
                var i = 0, o = 0
                var bad: UInt32 = 0
                while i < fullEnd {
                    let a = UInt32(table[Int(input[i])]), b = UInt32(table[Int(input[i + 1])])
                    let c = UInt32(table[Int(input[i + 2])]), d = UInt32(table[Int(input[i + 3])])
                    bad |= a | b | c | d
                    let v = a << 18 | b << 12 | c << 6 | d
                    out[o] = UInt8(truncatingIfNeeded: v >> 16)
                    out[o + 1] = UInt8(truncatingIfNeeded: v >> 8)
                    out[o + 2] = UInt8(truncatingIfNeeded: v)
                    i += 4; o += 3
                }
                if padding > 0 {
                    let a = UInt32(table[Int(input[i])]), b = UInt32(table[Int(input[i + 1])])
                    let c = padding == 1 ? UInt32(table[Int(input[i + 2])]) : 0
                    bad |= a | b | c
                    let v = a << 18 | b << 12 | c << 6
                    out[o] = UInt8(truncatingIfNeeded: v >> 16)
                    if padding == 1 { out[o + 1] = UInt8(truncatingIfNeeded: v >> 8) }
                }
                // Invalid characters map to 0x80, so one check covers the whole input.
                valid = bad & 0x80 == 0
                initialized = outCount
            }
        }
        return valid ? result : nil
    }

    static let encodeAlphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Character → 6-bit value, or 0x80 for anything outside the alphabet (including '=').
    static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0x80, count: 256)
        for (value, char) in encodeAlphabet.enumerated() { table[Int(char)] = UInt8(value) }
        return table
    }()
}
