import DynamoCore
import Foundation
import PropertyBased
import Testing

/// Items read as raw bytes: the same size and key as the parsed item, and exactly the bytes received.
@Suite struct RawItemTests {
    func raw(_ bytes: [UInt8], key: [AttributeName]) throws -> RawItem {
        var reader = JSONReader(bytes)
        let item = try reader.readRawItem(keyAttributes: key)
        try reader.finish()
        return item
    }

    /// The attributes the raw reader is asked to parse: a few of the item's, and one it lacks.
    func keyNames(of item: Item) -> [AttributeName] {
        Array(item.keys.sorted().prefix(2)) + [AttributeName("not-there")]
    }

    @Test func sizeKeyAndBytesMatchTheParsedItem() async {
        await propertyCheck(count: 300, input: RandomValues.itemGenerator) { item in
            failOnError {
                let bytes = JSONWriter.encode(item: item)
                let names = keyNames(of: item)
                let r = try raw(bytes, key: names)
                #expect(r.size == dynamoDBItemSize(item))
                #expect(Array(r.bytes) == bytes)
                #expect(r.key == item.filter { names.contains($0.key) })
                #expect(identical(try r.item(), item))
            }
        }
    }

    /// Foundation's output escapes differently (`\/`, `\u` escapes): sizes still count decoded bytes.
    @Test func foundationEscapesAreSizedByTheirDecodedBytes() async {
        await propertyCheck(count: 200, input: RandomValues.foundationItemGenerator) { item in
            failOnError {
                let bytes = try FoundationReference.serialize(FoundationReference.object(item))
                let r = try raw(bytes, key: keyNames(of: item))
                #expect(r.size == dynamoDBItemSize(item))
                #expect(Array(r.bytes) == bytes)
            }
        }
    }

    @Test func escapesWhitespaceAndNumbersAreSizedAsDynamoDBSizesThem() throws {
        let text = #" { "n\u00e9" : { "S" : "a\"\\\u00e9\ud83d\ude00" } , "num" : {"N":"-0012.3400"}, "z": {"N":"0.000"}, "m": {"M": {"k": {"L": [{"NULL": true}, {"BOOL": false}]}}}, "bs": {"BS": ["AQID", "BA=="]}, "ns": {"NS": ["1E+10", "7"]}, "e": {"S": ""} } "#
        let bytes = Array(text.utf8)
        var reader = JSONReader(bytes)
        let r = try reader.readRawItem(keyAttributes: ["num"])
        try reader.finish()
        let item = try JSONReader.parseItem(bytes)
        #expect(r.size == dynamoDBItemSize(item))
        #expect(r.key == ["num": .n(DynamoNumber(unchecked: "-0012.3400"))])
        #expect(String(decoding: r.bytes, as: UTF8.self) == text.trimmingCharacters(in: .whitespaces))
    }

    @Test func malformedItemsAreRefusedAsTheParserRefusesThem() {
        for bad in [#"{"a": {"S": 1}}"#, #"{"a": {"X": "y"}}"#, #"{"a": {}}"#, #"{"a": {"S": "x", "N": "1"}}"#, #"{"a": {"B": "***"}}"#, #"{"a": {"NULL": false}}"#, #"{"a": {"S": "x"}"#] {
            #expect(throws: JSONParseError.self, "\(bad)") {
                var reader = JSONReader(Array(bad.utf8))
                _ = try reader.readRawItem(keyAttributes: [])
            }
            #expect(throws: JSONParseError.self, "\(bad)") { _ = try JSONReader.parseItem(Array(bad.utf8)) }
        }
    }
}
