import DynamoCore
import Testing

@Suite struct JSONReaderStringTests {
    func read(_ text: String) throws -> String {
        var reader = JSONReader(Array(text.utf8))
        let value = try reader.readString()
        try reader.finish()
        return value
    }

    @Test func simpleEscapes() throws {
        #expect(try read(#""a\"b\\c\/d\b\f\n\r\t""#) == "a\"b\\c/d\u{08}\u{0C}\n\r\t")
    }

    @Test func unicodeEscapesAndSurrogatePairs() throws {
        #expect(try read(#""\u0041\u00e9\u6771\uD83D\uDE00\ud834\udd1e""#) == "Aé東😀𝄞")
        #expect(try read(#""\u0000\u001F\u007f""#) == "\u{0}\u{1F}\u{7F}")
        #expect(try read(#""\uFFFF""#) == "\u{FFFF}")
        #expect(try read(#""x\uDBFF\uDFFFy""#) == "x\u{10FFFF}y")
    }

    @Test func rawUTF8IsKept() throws {
        let text = "é東😀 naïve \u{2028} e\u{301}"
        let value = try read("\"" + text + "\"")
        #expect(Array(value.utf8) == Array(text.utf8))
    }

    @Test func emptyAndLongStrings() throws {
        #expect(try read(#""""#) == "")
        let long = String(repeating: "abcdefghijklmnopqrstuvwxyz0123456789", count: 1000)
        #expect(try read("\"" + long + "\"") == long)
        let mixed = String(repeating: "abcdefgh\\n東京", count: 100)
        #expect(try read("\"" + mixed + "\"") == String(repeating: "abcdefgh\n東京", count: 100))
    }

    @Test(arguments: [
        (#""\ud83d""#, 1, #"high surrogate \uD83D not followed by a low surrogate"#),
        (#""\ud83d\u0041""#, 1, #"high surrogate \uD83D not followed by a low surrogate"#),
        (#""ab\ud83dx""#, 3, #"high surrogate \uD83D not followed by a low surrogate"#),
        (#""\ude00""#, 1, #"lone low surrogate \uDE00"#),
        (#""\uDE00\uD83D""#, 1, #"lone low surrogate \uDE00"#),
        (#""abc"#, 0, "unterminated string"),
        (#""abcdefghijklmnopqrstuvwxyz"#, 0, "unterminated string"),
        (#""abc\"#, 0, "unterminated string"),
        (#""\x""#, 1, "invalid escape 'x' after a backslash in a string"),
        (#""\U0041""#, 1, "invalid escape 'U' after a backslash in a string"),
        (#""\u12G4""#, 5, #"invalid hex digit 'G' in a \u escape"#),
        (#""\u12""#, 1, #"truncated \u escape"#),
        ("x", 0, "expected a string, found 'x'"),
        ("", 0, "expected a string, found end of input"),
    ])
    func malformedStrings(text: String, offset: Int, reason: String) {
        #expect(parseError(text) { _ = try $0.readString() } == JSONParseError(offset: offset, reason: reason))
    }

    @Test func everyRawControlCharacterIsRejected() {
        for c in UInt8(0)..<0x20 {
            let hex = (c < 16 ? "0" : "") + String(c, radix: 16, uppercase: true)
            let expected = JSONParseError(offset: 2, reason: "control character byte 0x\(hex) in a string; it must be escaped")
            #expect(parseError([0x22, 0x61, c, 0x22]) { _ = try $0.readString() } == expected)
            // Also after an escape, and deep inside a long run (the eight-byte fast path).
            #expect(parseError([0x22, 0x5C, 0x6E, c, 0x22]) { _ = try $0.readString() }?.offset == 3)
            #expect(parseError([0x22] + Array("abcdefghijkl".utf8) + [c, 0x22]) { _ = try $0.readString() }?.offset == 13)
        }
    }

    @Test(
        arguments: [
            ([0x22, 0x61, 0xFF, 0x22], 2),  // never valid in UTF-8
            ([0x22, 0xC0, 0x80, 0x22], 1),  // overlong NUL
            ([0x22, 0xE0, 0x80, 0x80, 0x22], 1),  // overlong three-byte form
            ([0x22, 0xED, 0xA0, 0x80, 0x22], 1),  // encoded surrogate U+D800
            ([0x22, 0xE6, 0x97, 0x22], 1),  // truncated sequence
            ([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], 1),  // beyond U+10FFFF
            ([0x22, 0x80, 0x22], 1),  // lone continuation byte
            ([0x22, 0x5C, 0x6E, 0xFF, 0x22], 3),  // after an escape
            ([0x22, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0xC3], 10),  // truncated at the end
        ] as [([UInt8], Int)])
    func invalidUTF8IsRejected(bytes: [UInt8], offset: Int) {
        #expect(parseError(bytes) { _ = try $0.readString() } == JSONParseError(offset: offset, reason: "invalid UTF-8 in a string"))
    }
}

@Suite struct JSONReaderValueTests {
    @Test func numbersKeepTheirText() throws {
        for text in ["0", "-0", "-12.5e+3", "1E10", "0.000", "123456789012345678901234567890", "1e-7"] {
            var reader = JSONReader(Array(text.utf8))
            #expect(try reader.readNumberText() == text)
            try reader.finish()
        }
        var reader = JSONReader(Array(" 42 ".utf8))
        #expect(try reader.readInt() == 42)
        try reader.finish()
    }

    @Test(arguments: [
        ("01", 0, "leading zero in a number"),
        ("1.", 2, "expected a digit after '.', found end of input"),
        ("1.e5", 2, "expected a digit after '.', found 'e'"),
        ("-", 1, "expected a number, found end of input"),
        ("-a", 1, "expected a number, found 'a'"),
        (".5", 0, "expected a number, found '.'"),
        ("1e", 2, "expected a digit in the exponent, found end of input"),
        ("1e+x", 3, "expected a digit in the exponent, found 'x'"),
        ("12a", 2, "unexpected 'a' after the end of the value"),
    ])
    func malformedNumbers(text: String, offset: Int, reason: String) {
        #expect(parseError(text) { _ = try $0.readNumberText() } == JSONParseError(offset: offset, reason: reason))
    }

    @Test func literals() throws {
        var reader = JSONReader(Array(#"[true, false, null, "x"]"#.utf8))
        var seen: [String] = []
        try reader.readArray { r in
            if try r.readNullIfPresent() { seen.append("null"); return }
            if r.peekByte() == UInt8(ascii: "\"") { seen.append(try r.readString()); return }
            seen.append(String(try r.readBool()))
        }
        try reader.finish()
        #expect(seen == ["true", "false", "null", "x"])
        #expect(parseError("tru") { _ = try $0.readBool() } == JSONParseError(offset: 0, reason: "expected true or false, found 't'"))
        #expect(parseError("truex") { _ = try $0.readBool() } == JSONParseError(offset: 0, reason: "expected true or false, found 't'"))
        #expect(parseError("nul") { _ = try $0.readJSON() } == JSONParseError(offset: 0, reason: "expected a value, found 'n'"))
    }

    @Test func readNullIfPresentLeavesOtherValues() throws {
        var reader = JSONReader(Array(#"  "null""#.utf8))
        #expect(try reader.readNullIfPresent() == false)
        #expect(try reader.readString() == "null")
        try reader.finish()
    }

    @Test func genericJSON() throws {
        let json = try JSON.parse(Array(#" {"a": [1, -2.5e3, true, false, null, "s\n"], "b": {}, "c": []} "#.utf8))
        #expect(
            json
                == .object([
                    "a": .array([.number("1"), .number("-2.5e3"), .bool(true), .bool(false), .null, .string("s\n")]),
                    "b": .object([:]), "c": .array([]),
                ]))
        #expect(json["a"]?.arrayValue?.first?.intValue == 1)
        #expect(try JSON.parse(Array("\"x\"".utf8)) == .string("x"))
    }

    @Test(arguments: [
        (#"{"a" 1}"#, 5, "expected ':' after a member name, found '1'"),
        (#"{"a":1,}"#, 7, "expected a member name in double quotes, found '}'"),
        (#"{a:1}"#, 1, "expected a member name in double quotes, found 'a'"),
        ("[1 2]", 3, "expected ',' or ']' after an array element, found '2'"),
        ("[1,]", 3, "expected a value, found ']'"),
        (#"{"a":1"#, 6, "expected ',' or '}' after an object member, found end of input"),
        ("{} x", 3, "unexpected 'x' after the end of the value"),
        ("", 0, "expected a value, found end of input"),
        ("   ", 3, "expected a value, found end of input"),
        ("+1", 0, "expected a value, found '+'"),
        (#"{"a":1,"a":2}"#, 7, #"duplicate member name "a""#),
        ("\u{FEFF}{}", 0, "expected a value, found byte 0xEF"),
    ])
    func malformedDocuments(text: String, offset: Int, reason: String) {
        #expect(parseError(text) { _ = try $0.readJSON() } == JSONParseError(offset: offset, reason: reason))
        // Skipping checks the same things (except duplicate names, which it does not track).
        if !reason.hasPrefix("duplicate") {
            #expect(parseError(text) { try $0.skipValue() } == JSONParseError(offset: offset, reason: reason))
        }
    }

    @Test func skipValue() throws {
        var reader = JSONReader(Array(#"{"a":[1,{"b":"\u00e9\n"}],"c":null,"d":[]} ["next"]"#.utf8))
        try reader.skipValue()
        var next: [String] = []
        try reader.readArray { next.append(try $0.readString()) }
        try reader.finish()
        #expect(next == ["next"])
    }

    @Test func nestingDepthLimit() throws {
        let ok = String(repeating: "[", count: 256) + String(repeating: "]", count: 256)
        #expect(parseError(ok) { _ = try $0.readJSON() } == nil)
        #expect(parseError(ok) { try $0.skipValue() } == nil)
        let deep = String(repeating: "[", count: 257) + String(repeating: "]", count: 257)
        let expected = JSONParseError(offset: 256, reason: "nesting deeper than 256 levels")
        #expect(parseError(deep) { _ = try $0.readJSON() } == expected)
        #expect(parseError(deep) { try $0.skipValue() } == expected)
        var reader = JSONReader(Array("[[[]]]".utf8), maxDepth: 2)
        #expect(throws: JSONParseError(offset: 2, reason: "nesting deeper than 2 levels")) { try reader.readJSON() }
    }

    @Test func pullAPIOnAScanPage() throws {
        let page = #"{"Items":[{"pk":{"S":"a"}},{"pk":{"S":"b"},"n":{"N":"7"}}],"Count":2,"ScannedCount":5,"LastEvaluatedKey":{"pk":{"S":"b"}}}"#
        var reader = JSONReader(Array(page.utf8))
        var keys: [String] = []
        var items: [Item] = []
        var count = 0, scanned = 0
        var last: Item?
        try reader.readObject { r, key in
            keys.append(key)
            switch key {
            case "Items": try r.readArray { items.append(try $0.readItem()) }
            case "Count": count = try r.readInt()
            case "ScannedCount": scanned = try r.readInt()
            case "LastEvaluatedKey": last = try r.readItem()
            default: try r.skipValue()
            }
        }
        try reader.finish()
        #expect(keys == ["Items", "Count", "ScannedCount", "LastEvaluatedKey"])
        #expect(items == [["pk": .s("a")], ["pk": .s("b"), "n": .n(DynamoNumber(7))]])
        #expect(count == 2 && scanned == 5)
        #expect(last == ["pk": .s("b")])
        var again = JSONReader(Array(#"{"Items":[{"pk":{"S":"a"}}]}"#.utf8))
        var pageItems: [Item] = []
        try again.readObject { r, _ in pageItems = try r.readItems() }
        #expect(pageItems == [["pk": .s("a")]])
    }

    @Test func readObjectBodyMustConsumeTheValue() {
        #expect(
            parseError(#"{"a":1,"b":2}"#) { try $0.readObject { _, _ in } }
                == JSONParseError(offset: 5, reason: "expected ',' or '}' after an object member, found '1'"))
    }
}

@Suite struct DynamoJSONReaderTests {
    @Test func everyType() throws {
        let text = #"""
            { "s": {"S": "x"}, "n": {"N": "1.50"}, "b": {"B": "AAEC/w=="}, "t": {"BOOL": true},
              "f": {"BOOL": false}, "z": {"NULL": true}, "m": {"M": {"k": {"S": "v"}}},
              "l": {"L": [{"N": "1"}, {"S": "2"}]}, "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.5"]},
              "bs": {"BS": ["AA==", "AQI="]}, "em": {"M": {}}, "el": {"L": []}, "es": {"S": ""}, "eb": {"B": ""} }
            """#
        let item = try JSONReader.parseItem(Array(text.utf8))
        let expected: Item = [
            "s": .s("x"), "n": .n(DynamoNumber(unchecked: "1.50")), "b": .b([0, 1, 2, 255]), "t": .bool(true),
            "f": .bool(false), "z": .null, "m": .m(["k": .s("v")]), "l": .l([.n(DynamoNumber(1)), .s("2")]),
            "ss": .ss(["a", "b"]), "ns": .ns([DynamoNumber(1), DynamoNumber(unchecked: "2.5")]),
            "bs": .bs([[0], [1, 2]]), "em": .m([:]), "el": .l([]), "es": .s(""), "eb": .b([]),
        ]
        #expect(identical(item, expected))
        #expect(item["n"]?.numberValue?.text == "1.50")
    }

    @Test func escapedTypeDescriptor() throws {
        #expect(try AttributeValue(dynamoJSON: Array(#"{"\u0053":"x"}"#.utf8)) == .s("x"))
        #expect(try AttributeValue(dynamoJSON: Array(#"{"B":"AA\u003d\u003d"}"#.utf8)) == .b([0]))
    }

    @Test(arguments: [
        (#"{"X":"1"}"#, 1, #"unknown type descriptor "X""#),
        (#"{"s":"1"}"#, 1, #"unknown type descriptor "s""#),
        (#"{"BOOLEAN":true}"#, 1, #"unknown type descriptor "BOOLEAN""#),
        (#"{"S":"a","N":"1"}"#, 8, "expected '}' closing the attribute value (it holds exactly one type descriptor), found ','"),
        ("{}", 1, #"empty attribute value; expected one type descriptor such as "S""#),
        (#"{"B":"not base64!"}"#, 5, "invalid base64 in a binary value"),
        (#"{"B":"AAE"}"#, 5, "invalid base64 in a binary value"),
        (#"{"B":"AA=A"}"#, 5, "invalid base64 in a binary value"),
        (#"{"BS":["AA==","A==="]}"#, 14, "invalid base64 in a binary value"),
        (#"{"NULL":false}"#, 8, "expected true (the only value of NULL), found 'f'"),
        (#"{"BOOL":"true"}"#, 8, #"expected true or false, found '"'"#),
        (#"{"S":1}"#, 5, "expected a string, found '1'"),
        (#"{"N":1}"#, 5, "expected a string, found '1'"),
        (#""S""#, 0, #"expected an attribute value such as {"S":"text"}, found '"'"#),
        (#"{"SS":"a"}"#, 6, #"expected '[', found '"'"#),
        (#"{"L":[{"S":"x"},{"Q":"y"}]}"#, 17, #"unknown type descriptor "Q""#),
        (#"{"M":{"a":{"S":"x"},"a":{"S":"y"}}}"#, 20, #"duplicate attribute name "a""#),
        (#"{"S" "x"}"#, 5, "expected ':' after a type descriptor, found '\"'"),
    ])
    func malformedAttributeValues(text: String, offset: Int, reason: String) {
        #expect(parseError(text) { _ = try $0.readAttributeValue() } == JSONParseError(offset: offset, reason: reason))
    }

    @Test func malformedItems() {
        #expect(
            parseError(#"{"a":{"S":"x"},"a":{"S":"y"}}"#) { _ = try $0.readItem() }
                == JSONParseError(offset: 15, reason: #"duplicate attribute name "a""#))
        #expect(parseError("[]") { _ = try $0.readItem() } == JSONParseError(offset: 0, reason: "expected '{', found '['"))
        #expect(
            parseError(#"{"a":"x"}"#) { _ = try $0.readItem() }
                == JSONParseError(offset: 5, reason: #"expected an attribute value such as {"S":"text"}, found '"'"#))
    }

    /// NFC and NFD spellings of a name are two attributes to DynamoDB (names are byte strings), and to
    /// us: `Item` is keyed by ``AttributeName``, which compares bytes, not Swift's canonical equivalence.
    @Test func canonicallyEquivalentNamesAreTwoAttributes() throws {
        let text = "{\"\u{E9}\":{\"S\":\"nfc\"},\"e\u{301}\":{\"S\":\"nfd\"},\"m\":{\"M\":{\"e\u{301}\":{\"N\":\"2\"},\"\u{E9}\":{\"N\":\"1\"}}}}"
        var reader = JSONReader(Array(text.utf8))
        let item = try reader.readItem()
        #expect(item.count == 3)
        #expect(item["\u{E9}"] == .s("nfc"))
        #expect(item["e\u{301}"] == .s("nfd"))
        #expect(item["m"] == .m(["\u{E9}": .n(DynamoNumber(1)), "e\u{301}": .n(DynamoNumber(2))]))
        #expect(item["m"] != .m(["\u{E9}": .n(DynamoNumber(2)), "e\u{301}": .n(DynamoNumber(1))]))
        // A byte-identical repeat is still a duplicate.
        #expect(
            parseError("{\"\u{E9}\":{\"S\":\"a\"},\"\u{E9}\":{\"S\":\"b\"}}") { _ = try $0.readItem() }
                == JSONParseError(offset: 16, reason: "duplicate attribute name \"\u{E9}\""))
    }

    @Test func errorDescription() {
        #expect(JSONParseError(offset: 3, reason: "x").description == "malformed JSON at byte 3: x")
    }
}
