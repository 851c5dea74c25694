import DynamoCore
import Testing

@Suite struct ItemValidationTests {
    @Test func validItemsPass() throws {
        let item: Item = [
            "pk": .s(""), "n": .n(DynamoNumber(unchecked: "1E+125")), "m": .m([:]), "l": .l([]),
            "ss": .ss(["a", "b"]), "ns": .ns([DynamoNumber(1), DynamoNumber(2)]), "bs": .bs([[1], [2]]),
        ]
        try validateDynamoDBItem(item)
    }

    @Test func emptySetsAreRejectedButEmptyMapsAndListsAreNot() {
        #expect(throws: ItemValidationError.emptySet(path: "tags")) { try validateDynamoDBItem(["tags": .ss([])]) }
        #expect(throws: ItemValidationError.emptySet(path: "a.b[1]")) {
            try validateDynamoDBItem(["a": .m(["b": .l([.null, .ns([])])])])
        }
        #expect(throws: ItemValidationError.emptySet(path: "x")) { try validateDynamoDBItem(["x": .bs([])]) }
        #expect(throws: Never.self) { try validateDynamoDBItem(["m": .m([:]), "l": .l([.l([])])]) }
    }

    @Test func emptySetsStillRoundTripThroughTheCodec() throws {
        let item: Item = ["ss": .ss([]), "ns": .ns([]), "bs": .bs([])]
        let bytes = JSONWriter.encode(item: item)
        #expect(identical(try JSONReader.parseItem(bytes), item))
    }

    @Test func duplicateMembersAndBadNumbers() {
        #expect(throws: ItemValidationError.duplicateSetMember(path: "s", member: "\"a\"")) {
            try validateDynamoDBItem(["s": .ss(["a", "b", "a"])])
        }
        #expect(throws: ItemValidationError.duplicateSetMember(path: "n", member: "1.0")) {
            try validateDynamoDBItem(["n": .ns([DynamoNumber(1), DynamoNumber(unchecked: "1.0")])])
        }
        #expect(throws: ItemValidationError.duplicateSetMember(path: "b", member: "binary AQ==")) {
            try validateDynamoDBItem(["b": .bs([[1], [1]])])
        }
        #expect(throws: ItemValidationError.invalidNumber(path: "m.n", .outOfRange("1E+126"))) {
            try validateDynamoDBItem(["m": .m(["n": .n(DynamoNumber(unchecked: "1E+126"))])])
        }
        #expect(throws: ItemValidationError.invalidNumber(path: "ns", .notANumber("x"))) {
            try validateDynamoDBItem(["ns": .ns([DynamoNumber(unchecked: "x")])])
        }
        // NFC and NFD spellings are different strings to DynamoDB.
        #expect(throws: Never.self) { try validateDynamoDBItem(["s": .ss(["\u{E9}", "e\u{301}"])]) }
    }

    @Test func nestingLimit() {
        func nested(_ levels: Int) -> AttributeValue {
            var value: AttributeValue = .s("x")
            for _ in 0..<levels { value = .l([value]) }
            return value
        }
        #expect(throws: Never.self) { try validateDynamoDBItem(["d": nested(32)]) }
        #expect(throws: ItemValidationError.nestedTooDeep(path: "d" + String(repeating: "[0]", count: 32))) {
            try validateDynamoDBItem(["d": nested(33)])
        }
    }

    @Test func sizeLimit() {
        let name: AttributeName = "p"
        let fits: Item = [name: .s(String(repeating: "x", count: dynamoDBMaximumItemSize - 1))]
        #expect(throws: Never.self) { try validateDynamoDBItem(fits) }
        let tooBig: Item = [name: .s(String(repeating: "x", count: dynamoDBMaximumItemSize))]
        #expect(throws: ItemValidationError.itemTooLarge(size: dynamoDBMaximumItemSize + 1)) { try validateDynamoDBItem(tooBig) }
        #expect(ItemValidationError.itemTooLarge(size: 409_601).description == "item is 409601 bytes; DynamoDB's limit is 409600")
    }
}

@Suite struct DeepDynamoJSONTests {
    /// The parser recurses; the default depth limit must be reachable on a concurrency thread's stack.
    @Test func deepestAcceptedDynamoJSONParsesOnACooperativeThread() async throws {
        // Each map level is two JSON containers: {"M":{ "k": ... }}.
        func nested(_ levels: Int) -> AttributeValue {
            var value: AttributeValue = .null
            for _ in 0..<levels { value = .m(["k": value]) }
            return value
        }
        let ok = nested(JSONReader.defaultMaxDepth / 2 - 1).dynamoJSON  // plus the innermost {"NULL":true}
        let parsed = try await Task.detached { try AttributeValue(dynamoJSON: ok) }.value
        #expect(identical(parsed, nested(JSONReader.defaultMaxDepth / 2 - 1)))
        let tooDeep = nested(JSONReader.defaultMaxDepth / 2).dynamoJSON
        let error = await Task.detached { () -> JSONParseError? in
            do { _ = try AttributeValue(dynamoJSON: tooDeep); return nil } catch { return error as? JSONParseError }
        }.value
        // The 257th container is the innermost {"NULL":true}, after 128 levels of the 10 bytes {"M":{"k":.
        #expect(error == JSONParseError(offset: 128 * 10, reason: "nesting deeper than 256 levels"))
    }
}
