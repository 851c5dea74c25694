import Testing

@Test func testSupportBuilds() { #expect(Bool(true)) }
