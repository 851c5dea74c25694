import DynamoClient
import DynamoCore
import Foundation
import PropertyBased
import RunState
import TestSupport
import Testing
import Verification

@testable import TableIO

/// Hex of bytes, for comparing with the vectors in docs/checksums.md.
func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

func n(_ text: String) -> AttributeValue { .n(DynamoNumber(unchecked: text)) }

/// The vectors of docs/checksums.md, produced by an independent Python implementation of the format.
enum Vectors {
    static let small: Item = ["pk": .s("a"), "n": n("1.50")]
    static let smallBytes = "00000002000000016e0200000003312e3500000002706b010000000161"
    static let smallSHA256 = "baf35c2fd4efb4f40c59517d1144d1c5c8519477b941fd2560a13bd536fc7557"
    static let smallBucket: UInt8 = 178

    static let full: Item = [
        "pk": .s("user#1"), "sk": n("15E-1"), "name": .s("Zoë"), "bin": .b([0, 255]), "ok": .bool(true), "none": .null,
        "m": .m(["z": n("-0.0"), "a": .l([.s("x"), n("100")])]),
        "ss": .ss(["b", "a", "é"]), "ns": .ns([DynamoNumber(unchecked: "10"), DynamoNumber(unchecked: "9"), DynamoNumber(unchecked: "-1e2")]),
        "bs": .bs([[2], [1, 0], [1]]),
    ]
    static let fullBytes =
        "0000000a0000000362696e030000000200ff0000000262730a0000000300000001010000000201000000000102000000016d0600000002000000016107000000020100000001780200000003313030000000017a020000000130000000046e616d6501000000045a6fc3ab000000046e6f6e6505000000026e730900000003000000042d3130300000000231300000000139000000026f6b040100000002706b010000000675736572233100000002736b0200000003312e3500000002737308000000030000000161000000016200000002c3a9"
    static let fullSHA256 = "1c912cb6b337d03577ff0c247e8b62a65700d2747b2468c614b67015d72b7834"
    static let fullBucket: UInt8 = 235
    /// small + small + full.
    static let multisetSum = "9277e5165d173a1d90b1af1ea1150630"

    static let pkOnly = KeySchema(partitionKey: KeyAttribute(name: "pk", type: .string))
    static let pkSk = KeySchema(partitionKey: KeyAttribute(name: "pk", type: .string), sortKey: KeyAttribute(name: "sk", type: .number))
}

@Suite struct CanonicalEncodingTests {
    @Test func documentedVectors() {
        #expect(hex(CanonicalEncoding.bytes(of: Vectors.small)) == Vectors.smallBytes)
        #expect(hex(ItemHasher.sha256(of: Vectors.small)) == Vectors.smallSHA256)
        #expect(ItemHasher.bucket(ofKey: ["pk": .s("a")]) == Vectors.smallBucket)
        #expect(hex(CanonicalEncoding.bytes(of: Vectors.full)) == Vectors.fullBytes)
        #expect(hex(ItemHasher.sha256(of: Vectors.full)) == Vectors.fullSHA256)
        #expect(ItemHasher.bucket(ofKey: ["pk": .s("user#1"), "sk": n("1.5")]) == Vectors.fullBucket)

        var hasher = ItemHasher(keySchema: Vectors.pkSk)
        let digest = hasher.digest(Vectors.full)
        #expect(digest == ItemDigest(hash: Hash128(hex: String(Vectors.fullSHA256.prefix(32)))!, canonicalBytes: 212, bucket: 235))
    }

    @Test func everyTypeHasItsTag() {
        let cases: [(AttributeValue, String)] = [
            (.s("hi"), "01000000026869"),
            (n("007"), "02000000013" + "7"),
            (.b([9]), "030000000109"),
            (.bool(false), "0400"),
            (.bool(true), "0401"),
            (.null, "05"),
            (.m([:]), "0600000000"),
            (.l([]), "0700000000"),
            (.ss(["x"]), "08000000010000000178"),
            (.ns([DynamoNumber(unchecked: "1e1")]), "0900000001000000023130"),
            (.bs([[]]), "0a0000000100000000"),
        ]
        for (value, expected) in cases {
            #expect(hex(CanonicalEncoding.bytes(of: value)) == expected, "\(value)")
        }
    }

    @Test func attributeOrderDoesNotMatter() {
        // Dictionaries built in different insertion orders (and so, usually, iterated differently).
        var a: Item = [:]
        var b: Item = [:]
        let names = (0..<40).map { "attr\($0)" }
        for name in names { a[AttributeName(name)] = .s(name) }
        for name in names.reversed() { b[AttributeName(name)] = .s(name) }
        #expect(CanonicalEncoding.bytes(of: a) == CanonicalEncoding.bytes(of: b))
        #expect(CanonicalEncoding.bytes(of: ["m": .m(a)]) == CanonicalEncoding.bytes(of: ["m": .m(b)]))
    }

    @Test func namesSortByUTF8BytesNotByUnicodeCollation() {
        // "Z" (0x5A) < "a" (0x61) < "é" (0xC3 0xA9); a capital letter sorts before every lowercase one.
        let bytes = CanonicalEncoding.bytes(of: ["é": .null, "a": .null, "Z": .null])
        #expect(hex(bytes) == "00000003" + "000000015a05" + "000000016105" + "00000002c3a905")
    }

    @Test func setOrderDoesNotMatter() {
        #expect(CanonicalEncoding.bytes(of: .ss(["b", "a", "c"])) == CanonicalEncoding.bytes(of: .ss(["c", "b", "a"])))
        #expect(
            CanonicalEncoding.bytes(of: .ns([DynamoNumber(3), DynamoNumber(1)]))
                == CanonicalEncoding.bytes(of: .ns([DynamoNumber(1), DynamoNumber(3)])))
        #expect(CanonicalEncoding.bytes(of: .bs([[2], [1]])) == CanonicalEncoding.bytes(of: .bs([[1], [2]])))
        // Lists keep their order.
        #expect(CanonicalEncoding.bytes(of: .l([.s("a"), .s("b")])) != CanonicalEncoding.bytes(of: .l([.s("b"), .s("a")])))
    }

    @Test func numberSpellingDoesNotMatter() {
        let spellings = ["1.5", "1.50", "15E-1", "0.15e1", "+1.5", "001.500", "150e-2"]
        let expected = CanonicalEncoding.bytes(of: n("1.5"))
        for spelling in spellings { #expect(CanonicalEncoding.bytes(of: n(spelling)) == expected, "\(spelling)") }
        #expect(CanonicalEncoding.bytes(of: n("-0")) == CanonicalEncoding.bytes(of: n("0.000")))
        #expect(
            CanonicalEncoding.bytes(of: .ns([DynamoNumber(unchecked: "1E2"), DynamoNumber(unchecked: "2")]))
                == CanonicalEncoding.bytes(of: .ns([DynamoNumber(unchecked: "2.0"), DynamoNumber(unchecked: "100")])))
    }

    @Test func everyTypeChangeChangesTheBytes() {
        // The same payload under every type: all encodings differ.
        let values: [AttributeValue] = [
            .s("1"), n("1"), .b([0x31]), .bool(true), .null, .m(["1": .null]), .l([.s("1")]),
            .ss(["1"]), .ns([DynamoNumber(1)]), .bs([[0x31]]),
        ]
        let encodings = Set(values.map { CanonicalEncoding.bytes(of: ["a": $0]) })
        #expect(encodings.count == values.count)
        #expect(CanonicalEncoding.bytes(of: ["a": .s("1")]) != CanonicalEncoding.bytes(of: ["a": n("1")]))
        #expect(CanonicalEncoding.bytes(of: ["a": .s("")]) != CanonicalEncoding.bytes(of: ["a": .null]))
        #expect(CanonicalEncoding.bytes(of: ["a": .l([])]) != CanonicalEncoding.bytes(of: ["a": .m([:])]))
        #expect(CanonicalEncoding.bytes(of: ["a": .ss(["x"])]) != CanonicalEncoding.bytes(of: ["a": .l([.s("x")])]))
    }

    @Test func smallChangesChangeTheBytes() {
        let base: Item = ["pk": .s("user-1"), "name": .s("Ada"), "n": n("10")]
        let variants: [Item] = [
            ["pk": .s("user-2"), "name": .s("Ada"), "n": n("10")],  // one character
            ["pk": .s("user-1"), "name": .s("Adb"), "n": n("10")],
            ["pk": .s("user-1"), "name": .s("Ada"), "n": n("11")],
            ["pk": .s("user-1"), "name": .s("Ada "), "n": n("10")],  // trailing space
            ["pk": .s("user-1"), "Name": .s("Ada"), "n": n("10")],  // attribute name case
            ["pk": .s("user-1"), "name": .s("Ada")],  // attribute missing
            ["pk": .s("user-1"), "name": .s("Ada"), "n": n("10"), "x": .s("")],  // empty vs missing
            ["pk": .s("user-1"), "name": .s("Ada"), "n": n("10"), "x": .null],
            ["pk": .s("user-1"), "name": .s("Ada"), "n": n("1E1"), "": .s("")],
        ]
        let baseBytes = CanonicalEncoding.bytes(of: base)
        var seen: Set<[UInt8]> = [baseBytes]
        for variant in variants {
            let bytes = CanonicalEncoding.bytes(of: variant)
            #expect(bytes != baseBytes, "\(variant)")
            seen.insert(bytes)
        }
        #expect(seen.count == variants.count + 1)
    }

    @Test func lengthPrefixesKeepBoundaries() {
        // Without length prefixes these pairs would concatenate to the same text.
        #expect(CanonicalEncoding.bytes(of: ["ab": .s("c")]) != CanonicalEncoding.bytes(of: ["a": .s("bc")]))
        #expect(CanonicalEncoding.bytes(of: ["a": .ss(["ab", "c"])]) != CanonicalEncoding.bytes(of: ["a": .ss(["a", "bc"])]))
        #expect(CanonicalEncoding.bytes(of: ["a": .l([.l([]), .l([])])]) != CanonicalEncoding.bytes(of: ["a": .l([.l([.l([])])])]))
    }

    @Test func decodingRejectsCorruptBytes() throws {
        #expect(throws: CanonicalDecodingError(offset: 0, reason: "unexpected end in a length")) {
            try CanonicalEncoding.decodeItem([0, 0])
        }
        #expect(throws: CanonicalDecodingError(offset: 9, reason: "unknown type tag 17")) {
            try CanonicalEncoding.decodeItem([0, 0, 0, 1, 0, 0, 0, 1, 0x61, 0x11])
        }
        #expect(throws: CanonicalDecodingError(offset: 10, reason: "1 bytes after the item")) {
            try CanonicalEncoding.decodeItem([0, 0, 0, 1, 0, 0, 0, 1, 0x61, 0x05, 0x00])
        }
        #expect(
            try CanonicalEncoding.decodeItem(Array(CanonicalEncoding.bytes(of: Vectors.small)))
                == ["pk": .s("a"), "n": n("1.5")])
    }

    /// Random items, respelled (numbers), reordered (sets, attributes) and decoded again.
    @Test func randomItemsAreInvariantAndRoundTrip() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0...Int(Int32.max))) { seed in
            var random = SeededRandom(seed: UInt64(seed))
            let item = RandomItems.item(&random)
            let respelled = RandomItems.respell(item, &random)
            let bytes = CanonicalEncoding.bytes(of: item)
            #expect(CanonicalEncoding.bytes(of: respelled) == bytes)
            let decoded = try? CanonicalEncoding.decodeItem(bytes)
            #expect(decoded.map { CanonicalEncoding.bytes(of: $0) } == bytes)
            #expect(decoded == item)
            // One mutation anywhere changes the bytes.
            let mutated = RandomItems.mutate(item, &random)
            #expect(CanonicalEncoding.bytes(of: mutated) != bytes)
        }
    }
}

/// Random items of every type, and ways to respell or change them.
enum RandomItems {
    static func item(_ r: inout SeededRandom, depth: Int = 0) -> Item {
        var item: Item = [:]
        for _ in 0..<Int.random(in: 1...6, using: &r) { item[AttributeName(name(&r))] = value(&r, depth: depth) }
        return item
    }

    static func name(_ r: inout SeededRandom) -> String {
        let alphabet = ["a", "b", "Z", "é", "_", "1", "😀", "名"]
        return (0..<Int.random(in: 1...4, using: &r)).map { _ in alphabet.randomElement(using: &r)! }.joined()
    }

    static func number(_ r: inout SeededRandom) -> DynamoNumber {
        let digits = Int.random(in: -99999...99999, using: &r)
        let scale = Int.random(in: 0...3, using: &r)
        var text = String(abs(digits))
        if scale > 0 {
            while text.count <= scale { text = "0" + text }
            text.insert(".", at: text.index(text.endIndex, offsetBy: -scale))
        }
        return DynamoNumber(unchecked: (digits < 0 ? "-" : "") + text)
    }

    static func value(_ r: inout SeededRandom, depth: Int) -> AttributeValue {
        let kinds = depth >= 2 ? 8 : 10
        switch Int.random(in: 0..<kinds, using: &r) {
        case 0: return .s(name(&r) + (Bool.random(using: &r) ? "" : " x"))
        case 1: return .n(number(&r))
        case 2: return .b((0..<Int.random(in: 0...5, using: &r)).map { _ in UInt8.random(in: 0...255, using: &r) })
        case 3: return .bool(Bool.random(using: &r))
        case 4: return .null
        case 5: return .ss(Array(Set((0..<Int.random(in: 1...4, using: &r)).map { _ in name(&r) })))
        case 6:
            var seen = Set<String>()
            var members: [DynamoNumber] = []
            for _ in 0..<Int.random(in: 1...4, using: &r) {
                let number = number(&r)
                if seen.insert(number.canonical).inserted { members.append(number) }
            }
            return .ns(members)
        case 7: return .bs(Array(Set((0..<Int.random(in: 1...3, using: &r)).map { _ in [UInt8.random(in: 0...255, using: &r), 7] })))
        case 8: return .m(item(&r, depth: depth + 1))
        default: return .l((0..<Int.random(in: 0...3, using: &r)).map { _ in value(&r, depth: depth + 1) })
        }
    }

    /// The same item as DynamoDB sees it: numbers respelled, set members shuffled.
    static func respell(_ item: Item, _ r: inout SeededRandom) -> Item {
        item.mapValues { respell($0, &r) }
    }

    static func respell(_ value: AttributeValue, _ r: inout SeededRandom) -> AttributeValue {
        switch value {
        case .n(let number): return .n(respell(number, &r))
        case .ss(let members): return .ss(members.shuffled(using: &r))
        case .ns(let members): return .ns(members.map { respell($0, &r) }.shuffled(using: &r))
        case .bs(let members): return .bs(members.shuffled(using: &r))
        case .m(let map): return .m(respell(map, &r))
        case .l(let list): return .l(list.map { respell($0, &r) })
        default: return value
        }
    }

    /// `1.5` as `1.50`, `15E-1` or `+1.5`.
    static func respell(_ number: DynamoNumber, _ r: inout SeededRandom) -> DynamoNumber {
        let canonical = number.canonical
        let unsigned = canonical.hasPrefix("-") ? String(canonical.dropFirst()) : canonical
        let sign = canonical.hasPrefix("-") ? "-" : (Bool.random(using: &r) ? "+" : "")
        switch Int.random(in: 0..<3, using: &r) {
        case 0: return DynamoNumber(unchecked: sign + (unsigned.contains(".") ? unsigned + "00" : unsigned + ".0"))
        case 1: return DynamoNumber(unchecked: sign + "00" + unsigned)
        default:
            let digits = unsigned.replacingOccurrences(of: ".", with: "")
            let fraction = unsigned.split(separator: ".").dropFirst().first?.count ?? 0
            return DynamoNumber(unchecked: sign + digits + "E-\(fraction)")
        }
    }

    /// The item with one value changed (or one attribute added), somewhere at the top level.
    static func mutate(_ item: Item, _ r: inout SeededRandom) -> Item {
        var copy = item
        let name = item.keys.sorted().randomElement(using: &r)!
        switch item[name]! {
        case .s(let s): copy[name] = .s(s + "!")
        case .n(let number): copy[name] = .n(DynamoNumber(unchecked: number.canonical + "1"))
        case .b(let b): copy[name] = .b(b + [0])
        case .bool(let flag): copy[name] = .bool(!flag)
        case .null: copy[name] = .s("")
        case .ss(let members): copy[name] = .ss(members + ["new member"])
        case .ns(let members): copy[name] = .ns(Array(members.dropFirst()) + [DynamoNumber(unchecked: "123456789")])
        case .bs(let members): copy[name] = .bs(members + [[1, 2, 3, 4, 5, 6]])
        case .m(let map): copy[name] = .m(map.merging(["added": .null]) { a, _ in a })
        case .l(let list): copy[name] = .l(list + [.null])
        }
        return copy
    }
}
