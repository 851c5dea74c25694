import Testing

@Test func MappingsTestsBuilds() { #expect(Bool(true)) }
