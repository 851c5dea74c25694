import DynamoCore
import Testing

@Suite struct ItemSizeTests {
    @Test func sizesPerAWSRules() {
        #expect(dynamoDBItemSize([:]) == 0)
        #expect(dynamoDBItemSize(["pk": .s("abc")]) == 5)
        #expect(dynamoDBItemSize(["名": .s("é")]) == 3 + 2)
        #expect(dynamoDBItemSize(["n": .n(DynamoNumber(unchecked: "123"))]) == 1 + 3)  // 2 bytes for 3 digits + 1
        #expect(dynamoDBItemSize(["n": .n(DynamoNumber(unchecked: "1.50"))]) == 1 + 2)  // 2 significant digits
        #expect(dynamoDBItemSize(["n": .n(DynamoNumber(unchecked: "1000"))]) == 1 + 2)  // trailing zeros trimmed
        #expect(dynamoDBItemSize(["n": .n(DynamoNumber(unchecked: "0"))]) == 1 + 1)
        #expect(dynamoDBItemSize(["b": .b([1, 2, 3])]) == 4)
        #expect(dynamoDBItemSize(["t": .bool(true), "z": .null]) == 4)
        #expect(dynamoDBItemSize(["m": .m(["a": .s("xy")])]) == 1 + 3 + (1 + 2 + 1))
        #expect(dynamoDBItemSize(["m": .m([:]), "l": .l([])]) == 2 * (1 + 3))
        #expect(dynamoDBItemSize(["l": .l([.s("xy"), .null])]) == 1 + 3 + (2 + 1) + (1 + 1))
        #expect(dynamoDBItemSize(["ss": .ss(["ab", "c"])]) == 2 + 3)
        #expect(dynamoDBItemSize(["ns": .ns([DynamoNumber(12), DynamoNumber(unchecked: "12345")])]) == 2 + 2 + 4)
        #expect(dynamoDBItemSize(["bs": .bs([[1], [2, 3]])]) == 2 + 3)
    }
}

@Suite struct AttributeValueEqualityTests {
    @Test func setsIgnoreOrderListsDoNot() {
        #expect(AttributeValue.ss(["a", "b"]) == .ss(["b", "a"]))
        #expect(AttributeValue.ss(["a", "b"]).hashValue == AttributeValue.ss(["b", "a"]).hashValue)
        #expect(AttributeValue.ss(["a", "b"]) != .ss(["a", "c"]))
        #expect(AttributeValue.ss(["a", "a", "b"]) != .ss(["a", "b", "b"]))
        #expect(AttributeValue.ns([DynamoNumber(1), DynamoNumber(unchecked: "2.0")]) == .ns([DynamoNumber(2), DynamoNumber(1)]))
        #expect(
            AttributeValue.ns([DynamoNumber(1), DynamoNumber(unchecked: "2.0")]).hashValue
                == AttributeValue.ns([DynamoNumber(2), DynamoNumber(1)]).hashValue)
        #expect(AttributeValue.bs([[1], [2]]) == .bs([[2], [1]]))
        #expect(AttributeValue.l([.s("a"), .s("b")]) != .l([.s("b"), .s("a")]))
        #expect(AttributeValue.s("1") != .n(DynamoNumber(1)))
        #expect(AttributeValue.b([]) != .bs([]))
        #expect(AttributeValue.m(["n": .n(DynamoNumber(unchecked: "1E+2"))]) == .m(["n": .n(DynamoNumber(100))]))
    }

    @Test func conveniences() {
        #expect(AttributeValue.s("x").stringValue == "x")
        #expect(AttributeValue.n(DynamoNumber(1)).stringValue == nil)
        #expect(AttributeValue.n(DynamoNumber(1)).numberValue == DynamoNumber(1))
        #expect(AttributeValue.b([1]).binaryValue == [1])
        #expect(AttributeValue.bool(true).boolValue == true)
        #expect(AttributeValue.null.isNull)
        #expect(!AttributeValue.bool(false).isNull)
        #expect(AttributeValue.m(["a": .null]).mapValue == ["a": .null])
        #expect(AttributeValue.l([.null]).listValue == [.null])
        #expect(AttributeValue.ss(["a"]).stringSetValue == ["a"])
        #expect(AttributeValue.ns([DynamoNumber(2)]).numberSetValue == [DynamoNumber(2)])
        #expect(AttributeValue.bs([[3]]).binarySetValue == [[3]])
        #expect(AttributeValue.bs([[3]]).typeDescriptor == "BS")
    }
}
