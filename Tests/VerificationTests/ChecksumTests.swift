import DynamoClient
import DynamoCore
import Foundation
import RunState
import TestSupport
import Testing

@testable import TableIO
@testable import Verification

@Suite struct ChecksumTests {
    func checksum(_ items: [Item], schema: KeySchema = Vectors.pkOnly) -> TableChecksum {
        var hasher = ItemHasher(keySchema: schema)
        var checksum = TableChecksum()
        for item in items { checksum.add(hasher.digest(item)!) }
        return checksum
    }

    func items(_ count: Int) -> [Item] {
        (0..<count).map { ["pk": .s("item-\($0)"), "v": .n(DynamoNumber($0)), "tag": .ss(["a", "b\($0 % 3)"])] }
    }

    @Test func hash128Arithmetic() throws {
        let max = Hash128(high: .max, low: .max)
        #expect(max &+ Hash128(high: 0, low: 1) == .zero)
        #expect(Hash128(high: 0, low: .max) &+ Hash128(high: 0, low: 1) == Hash128(high: 1, low: 0))
        #expect(Hash128.zero &- Hash128(high: 0, low: 1) == max)
        let a = Hash128(high: 0x0123_4567_89ab_cdef, low: 0xfedc_ba98_7654_3210)
        #expect(a.hex == "0123456789abcdeffedcba9876543210")
        #expect(Hash128(hex: "0123456789ABCDEFFEDCBA9876543210") == a)
        #expect(Hash128(hex: "0123") == nil)
        #expect(Hash128(hex: "0123456789abcdeffedcba987654321g") == nil)
        #expect(Hash128(prefixOf: [UInt8](1...20)) == Hash128(high: 0x0102_0304_0506_0708, low: 0x090a_0b0c_0d0e_0f10))
    }

    @Test func multisetSumMatchesTheDocumentedVector() {
        let sum = checksum([Vectors.small, Vectors.small, Vectors.full], schema: Vectors.pkOnly)
        #expect(sum.hash.hex == Vectors.multisetSum)
        #expect(sum.itemCount == 3)
        #expect(sum.canonicalBytes == 29 + 29 + 212)
    }

    @Test func duplicatesDoNotCancel() {
        let one = checksum([Vectors.small])
        let two = checksum([Vectors.small, Vectors.small])
        #expect(two.hash == one.hash &+ one.hash)
        #expect(two.hash != .zero)
        #expect(two != one)
        #expect(two.itemCount == 2)
        // With XOR two copies would vanish; with a sum, {x, x, y} and {y} differ.
        #expect(checksum([Vectors.small, Vectors.small, Vectors.full]).hash != checksum([Vectors.full]).hash)
    }

    @Test func orderDoesNotMatter() {
        let list = items(50)
        var random = SeededRandom(seed: 7)
        let shuffled = list.shuffled(using: &random)
        #expect(checksum(list) == checksum(shuffled))
    }

    @Test func partialsCombineToTheWhole() {
        let list = items(100)
        let whole = checksum(list)
        let parts = [checksum(Array(list[0..<10])), checksum(Array(list[10..<60])), checksum(Array(list[60...])), TableChecksum()]
        #expect(parts.reduce(TableChecksum(), +) == whole)
        var combined = parts[2]
        combined.combine(parts[0])
        combined.combine(parts[1])
        #expect(combined == whole)
        #expect(whole.buckets.reduce(0) { $0 + $1.itemCount } == 100)
        #expect(
            whole.buckets.reduce(ChecksumTotals()) {
                var t = $0; t.combine($1); return t
            } == whole.totals)
    }

    @Test func aChangedItemShowsInItsKeysBucketOnly() {
        var list = items(100)
        let original = checksum(list)
        list[42]["v"] = .n(DynamoNumber(4242))
        let changed = checksum(list)
        let bucket = Int(ItemHasher.bucket(ofKey: ["pk": .s("item-42")]))
        #expect(changed.differingBuckets(from: original) == [bucket])
        #expect(changed.itemCount == original.itemCount)
        #expect(changed.hash != original.hash)
    }

    @Test func bucketsFollowTheKeyNotTheContent() {
        var hasher = ItemHasher(keySchema: Vectors.pkSk)
        let a = hasher.digest(["pk": .s("x"), "sk": n("1"), "v": .s("one")])!
        let b = hasher.digest(["pk": .s("x"), "sk": n("1.0"), "v": .s("two")])!
        #expect(a.bucket == b.bucket)
        #expect(a.hash != b.hash)
        #expect(hasher.digest(["pk": .s("x")]) == nil)  // no sort key
    }

    @Test func codableRoundTripWithHexAndSparseBuckets() throws {
        let original = checksum([Vectors.small, Vectors.full])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(original)
        let text = String(decoding: data, as: UTF8.self)
        // The example of docs/checksums.md: "a" falls in bucket b2, "user#1" (keyed by pk alone) in b5.
        let total = "d78488e68827852984585da18fd0346b"
        #expect(
            text == "{\"buckets\":{"
                + "\"b2\":{\"canonicalBytes\":29,\"hash\":\"baf35c2fd4efb4f40c59517d1144d1c5\",\"itemCount\":1},"
                + "\"b5\":{\"canonicalBytes\":212,\"hash\":\"1c912cb6b337d03577ff0c247e8b62a6\",\"itemCount\":1}},"
                + "\"canonicalBytes\":241,\"format\":\"dmc1\",\"hash\":\"\(total)\",\"itemCount\":2}")
        #expect(try JSONDecoder().decode(TableChecksum.self, from: data) == original)

        let bad = Data(
            "{\"buckets\":{\"zz\":{\"canonicalBytes\":1,\"hash\":\"\(total)\",\"itemCount\":1}},\"canonicalBytes\":1,\"format\":\"dmc1\",\"hash\":\"\(total)\",\"itemCount\":1}"
                .utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(TableChecksum.self, from: bad) }
    }

    @Test func differingAttributesCompareCanonically() {
        let a: Item = ["pk": .s("k"), "n": n("1.50"), "s": .ss(["x", "y"]), "gone": .null, "same": .s("v")]
        let b: Item = ["pk": .s("k"), "n": n("1.5"), "s": .ss(["y", "x"]), "new": .bool(true), "same": .s("w")]
        #expect(TableDiffer.differingAttributes(a, b) == ["gone", "new", "same"])
        #expect(TableDiffer.differingAttributes(a, a) == [])
    }

    @Test func describeKeyPutsThePartitionKeyFirst() {
        #expect(describeKey(["sk": n("3"), "pk": .s("a")], schema: Vectors.pkSk) == "pk={\"S\":\"a\"}, sk={\"N\":\"3\"}")
    }
}
