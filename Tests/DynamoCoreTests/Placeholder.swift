import Testing

@Test func DynamoCoreTestsBuilds() { #expect(Bool(true)) }
