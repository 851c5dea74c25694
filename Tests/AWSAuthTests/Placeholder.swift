import Testing

@Test func AWSAuthTestsBuilds() { #expect(Bool(true)) }
