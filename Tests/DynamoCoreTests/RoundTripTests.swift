import DynamoCore
import Foundation
import PropertyBased
import Testing

@Suite struct RoundTripTests {
    /// Writer then reader must give back exactly the item (bytes of every string, number texts,
    /// set and list order).
    @Test func randomItemsRoundTripExactly() async {
        await propertyCheck(count: 300, input: RandomValues.itemGenerator) { item in
            failOnError {
                let bytes = JSONWriter.encode(item: item)
                let back = try JSONReader.parseItem(bytes)
                #expect(identical(back, item))
                #expect(back == item)
            }
        }
    }

    @Test func randomValuesRoundTripExactly() async {
        await propertyCheck(count: 300, input: RandomValues.valueGenerator) { value in
            failOnError {
                let back = try AttributeValue(dynamoJSON: value.dynamoJSON)
                #expect(identical(back, value))
                #expect(back.hashValue == value.hashValue)
            }
        }
    }

    /// Foundation parses our output to the same item (its own JSON and base64 decoding).
    @Test func foundationReadsOurOutput() async {
        await propertyCheck(count: 200, input: RandomValues.foundationItemGenerator) { item in
            failOnError {
                let parsed = try FoundationReference.parse(JSONWriter.encode(item: item))
                let back = try #require(FoundationReference.item(parsed))
                #expect(identical(back, item))
            }
        }
    }

    /// We parse Foundation's output (its escaping, e.g. `\/`) to the same item.
    @Test func weReadFoundationOutput() async {
        await propertyCheck(count: 200, input: RandomValues.foundationItemGenerator) { item in
            failOnError {
                let bytes = try FoundationReference.serialize(FoundationReference.object(item))
                #expect(identical(try JSONReader.parseItem(bytes), item))
            }
        }
    }

    @Test func randomNumbersAreValidAndCanonicalIsStable() async {
        let numbers = Generator<String, Shrink.None<String>> { rng in RandomValues.numberText(&rng) }
        await propertyCheck(count: 500, input: numbers) { text in
            failOnError {
                let number = try DynamoNumber(validating: text)
                let canonical = number.canonical
                #expect(try DynamoNumber(validating: canonical).canonical == canonical)
                #expect(DynamoNumber(unchecked: canonical) == number)
                // The canonical text is plain decimal and means the same value as the original.
                #expect(!canonical.contains("E") && !canonical.contains("e") && !canonical.hasPrefix("+"))
                if let a = Double(text), let b = Double(canonical) {
                    #expect(a == b || abs(a - b) <= abs(a) * 1e-15)
                }
            }
        }
    }

    @Test func randomBytesMatchFoundationBase64() async {
        let bytes = Gen<UInt8>.value(in: 0...255).array(of: 0...70)
        await propertyCheck(count: 300, input: bytes) { bytes in
            failOnError {
                let encoded = Base64.encode(bytes)
                #expect(encoded == Data(bytes).base64EncodedString())
                #expect(Base64.decode(encoded) == bytes)
            }
        }
    }

    /// Documents the Foundation quirk the Foundation-reference tests avoid; our codec keeps the BOM.
    @Test func leadingByteOrderMarkIsKept() throws {
        let item: Item = ["\u{FEFF}k": .s("\u{FEFF}v\n\u{FEFF}")]
        #expect(identical(try JSONReader.parseItem(JSONWriter.encode(item: item)), item))
        #expect(Array(JSONWriter.encode(item: item).prefix(5)) == [0x7B, 0x22, 0xEF, 0xBB, 0xBF])
    }

    @Test func everyControlCharacterRoundTrips() throws {
        let all = String(String.UnicodeScalarView((0..<0x20).map { UnicodeScalar($0)! }))
        let item: Item = [AttributeName(all): .s(all), "ss": .ss([all, "\"\\"]), "l": .l([.s(all)])]
        let bytes = JSONWriter.encode(item: item)
        #expect(identical(try JSONReader.parseItem(bytes), item))
        #expect(identical(try #require(FoundationReference.item(try FoundationReference.parse(bytes))), item))
    }

    @Test func nestingThirtyTwoLevelsDeep() throws {
        // DynamoDB allows 32 levels of nested documents; alternate maps and lists, inside a Scan page.
        var value: AttributeValue = .s("bottom")
        for level in 0..<32 { value = level % 2 == 0 ? .m(["level\(level)": value]) : .l([value, .null]) }
        let item: Item = ["pk": .s("deep"), "doc": value]
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("Items"); writer.beginArray(); writer.item(item); writer.endArray()
        writer.key("Count"); writer.int(1)
        writer.endObject()
        var reader = JSONReader(writer.bytes)
        var items: [Item] = []
        try reader.readObject { r, key in
            if key == "Items" { items = try r.readItems() } else { try r.skipValue() }
        }
        try reader.finish()
        #expect(items.count == 1)
        #expect(identical(items[0], item))
        #expect(identical(try #require(FoundationReference.item(try FoundationReference.parse(JSONWriter.encode(item: item)))), item))
    }

    @Test func fourHundredKilobyteItem() throws {
        var rng = SystemRandomNumberGenerator()
        let chunk = "plain text, \"quoted\", back\\slash, tab\t, newline\n, naïve, 東京, 😀; "
        let payload = String(repeating: chunk, count: 300_000 / chunk.utf8.count)
        let blob = (0..<90_000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let item: Item = [
            "pk": .s("big#1"),
            "payload": .s(payload),
            "blob": .b(blob),
            "numbers": .ns((0..<100).map { DynamoNumber(unchecked: "\($0).25") }),
        ]
        let size = dynamoDBItemSize(item)
        // "0.25" has 2 significant digits (2 bytes); "1.25"..."99.25" have 3 or 4 (3 bytes each).
        let numberBytes = 2 + 99 * 3
        #expect(size == 2 + 5 + 7 + payload.utf8.count + 4 + 90_000 + 7 + numberBytes)
        #expect(size > 380_000 && size <= dynamoDBMaximumItemSize)
        let bytes = JSONWriter.encode(item: item)
        #expect(identical(try JSONReader.parseItem(bytes), item))
        #expect(identical(try #require(FoundationReference.item(try FoundationReference.parse(bytes))), item))
    }
}
