import Testing

@Test func DynamoClientTestsBuilds() { #expect(Bool(true)) }
