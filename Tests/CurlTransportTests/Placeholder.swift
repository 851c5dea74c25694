import Testing

@Test func CurlTransportTestsBuilds() { #expect(Bool(true)) }
