import TestSupport
// SeededRandom and TestCRC32 against reference values.
import Testing

@Suite struct SeededRandomTests {
    @Test func matchesTheSplitMix64ReferenceSequence() {
        var random = SeededRandom(seed: 0)
        #expect(random.next() == 0xE220_A839_7B1D_CDAF)
        #expect(random.next() == 0x6E78_9E6A_A1B9_65F4)
        #expect(random.next() == 0x06C4_5D18_8009_454F)
    }

    @Test func equalSeedsGiveEqualSequencesAndOthersDiffer() {
        var a = SeededRandom(seed: 42), b = SeededRandom(seed: 42), c = SeededRandom(seed: 43)
        let first = (0..<8).map { _ in a.next() }
        #expect(first == (0..<8).map { _ in b.next() })
        #expect(first != (0..<8).map { _ in c.next() })
    }

    @Test func unitIntervalDrawsStayInRange() {
        var random = SeededRandom(seed: 7)
        let draws = (0..<1000).map { _ in random.nextUnitInterval() }
        #expect(draws.allSatisfy { $0 >= 0 && $0 < 1 })
        var again = SeededRandom(seed: 7)
        #expect(again.nextUnitInterval() == draws[0])
    }
}

@Suite struct TestCRC32Tests {
    @Test func matchesReferenceValues() {
        #expect(TestCRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(TestCRC32.checksum([UInt8]()) == 0)
        // moto's x-amz-crc32 for the body `{}`.
        #expect(TestCRC32.checksum(Array("{}".utf8)) == 2_745_614_147)
    }
}
