import DynamoCore
import Testing

@Suite struct JSONWriterTests {
    func text(_ body: (inout JSONWriter) -> Void) -> String {
        var writer = JSONWriter()
        body(&writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    @Test(arguments: [
        (AttributeValue.s("x"), #"{"S":"x"}"#),
        (.s(""), #"{"S":""}"#),
        (.n(DynamoNumber(unchecked: "1.50")), #"{"N":"1.50"}"#),
        (.b([0, 1, 2, 255]), #"{"B":"AAEC/w=="}"#),
        (.b([]), #"{"B":""}"#),
        (.bool(true), #"{"BOOL":true}"#),
        (.bool(false), #"{"BOOL":false}"#),
        (.null, #"{"NULL":true}"#),
        (.m(["k": .s("v")]), #"{"M":{"k":{"S":"v"}}}"#),
        (.m([:]), #"{"M":{}}"#),
        (.l([.n(DynamoNumber(1)), .s("2"), .l([]), .m([:])]), #"{"L":[{"N":"1"},{"S":"2"},{"L":[]},{"M":{}}]}"#),
        (.l([]), #"{"L":[]}"#),
        (.ss(["a", "b\"c"]), #"{"SS":["a","b\"c"]}"#),
        (.ns([DynamoNumber(1), DynamoNumber(unchecked: "2.5E3")]), #"{"NS":["1","2.5E3"]}"#),
        (.bs([[0], [1, 2]]), #"{"BS":["AA==","AQI="]}"#),
    ])
    func attributeValues(value: AttributeValue, expected: String) {
        #expect(text { $0.attributeValue(value) } == expected)
        #expect(String(decoding: value.dynamoJSON, as: UTF8.self) == expected)
    }

    @Test func escapes() {
        #expect(
            text { $0.string("a\"b\\c\n\r\t\u{8}\u{C}\u{1}\u{1F}\u{7F}é/😀") }
                == #""a\"b\\c\n\r\t\b\f\u0001\u001f"# + "\u{7F}é/😀\"")
        #expect(text { $0.string("") } == #""""#)
    }

    @Test func everyControlCharacterIsEscaped() {
        let short: [UInt8: String] = [0x08: #"\b"#, 0x09: #"\t"#, 0x0A: #"\n"#, 0x0C: #"\f"#, 0x0D: #"\r"#]
        for c in UInt8(0)..<0x20 {
            let hex = String(c, radix: 16)
            let escape = short[c] ?? #"\u00"# + (hex.count == 1 ? "0" + hex : hex)
            let value = "x" + String(UnicodeScalar(c)) + "y"
            #expect(text { $0.string(value) } == "\"x" + escape + "y\"")
        }
    }

    @Test func structureAndSeparators() {
        let out = text { w in
            w.beginObject()
            w.key("a"); w.beginArray(); w.int(1); w.int(-20); w.endArray()
            w.key("b"); w.null()
            w.key("c"); w.beginObject(); w.endObject()
            w.key("d"); w.bool(false)
            w.key("e"); w.numberText("1e5")
            w.key("f"); w.base64([1])
            w.key("g\n"); w.string("s")
            w.key("h"); w.item(["x": .null])
            w.endObject()
        }
        #expect(out == #"{"a":[1,-20],"b":null,"c":{},"d":false,"e":1e5,"f":"AQ==","g\n":"s","h":{"x":{"NULL":true}}}"#)
        #expect(
            text { w in
                w.beginArray(); w.beginArray(); w.endArray(); w.beginArray(); w.string("x"); w.endArray()
                w.attributeValue(.null); w.attributeValue(.s("a")); w.int(Int.min); w.int(Int.max); w.int(0)
                w.endArray()
            } == #"[[],["x"],{"NULL":true},{"S":"a"},-9223372036854775808,9223372036854775807,0]"#)
    }

    @Test func itemsWithSeveralAttributesRoundTrip() throws {
        let item: Item = ["pk": .s("user#1"), "sk": .n(DynamoNumber(7)), "tags": .ss(["x", "y"]), "on": .bool(true)]
        let bytes = JSONWriter.encode(item: item)
        #expect(identical(try JSONReader.parseItem(bytes), item))
        #expect(bytes.count == #"{"pk":{"S":"user#1"},"sk":{"N":"7"},"tags":{"SS":["x","y"]},"on":{"BOOL":true}}"#.utf8.count)
    }

    @Test func genericJSONRoundTrip() throws {
        let json = JSON.object([
            "a": .array([.number("1"), .number("-2.5e3"), .bool(true), .bool(false), .null, .string("s\n\u{0}é")]),
            "b": .object(["c": .object([:])]), "d": .array([]),
        ])
        #expect(try JSON.parse(json.encoded()) == json)
        #expect(String(decoding: JSON.array([.string("x"), .number("2")]).encoded(), as: UTF8.self) == #"["x",2]"#)
    }
}

@Suite struct Base64Tests {
    @Test(arguments: [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
    ])
    func rfc4648Vectors(plain: String, encoded: String) {
        #expect(Base64.encode(Array(plain.utf8)) == encoded)
        #expect(Base64.decode(encoded) == Array(plain.utf8))
    }

    @Test func allByteValues() {
        let bytes = (0...255).map { UInt8($0) }
        let encoded = Base64.encode(bytes)
        #expect(encoded.hasPrefix("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g"))
        #expect(encoded.hasSuffix("/P3+/w=="))
        #expect(Base64.decode(encoded) == bytes)
    }

    @Test(arguments: ["Zg=", "Zg", "Z===", "Zm9v\n", "Zm-v", "Zm_v", "=Zm9", "Zm=v", "Zg==Zg==", " Zm9v", "Zm9v====", "===="])
    func rejectsInvalid(text: String) {
        #expect(Base64.decode(text) == nil)
    }
}
