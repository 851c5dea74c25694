// Attribute names and string values are byte strings, as in DynamoDB: canonically equivalent but
// byte-different spellings ("é" and "e\u{301}") are different names and different values.
import DynamoCore
import PropertyBased
import Testing

/// Groups of spellings that Swift's `String ==` calls equal but whose UTF-8 bytes differ.
enum EquivalentSpellings {
    static let groups: [[String]] = [
        ["\u{E9}", "e\u{301}"],  // é: precomposed, decomposed
        ["\u{C5}", "A\u{30A}", "\u{212B}"],  // Å, A + ring, ANGSTROM SIGN
        ["\u{F1}", "n\u{303}"],  // ñ
        ["\u{3A9}", "\u{2126}"],  // Ω, OHM SIGN
        ["\u{1EC7}", "e\u{323}\u{302}", "\u{EA}\u{323}"],  // ệ in three spellings
        ["\u{D55C}", "\u{1112}\u{1161}\u{11AB}"],  // 한: syllable, jamo
    ]

    /// A name from one group (with an optional ASCII prefix), as all of its spellings.
    static func spellings<G: RandomNumberGenerator>(_ rng: inout G) -> [String] {
        let group = groups.randomElement(using: &rng)!
        let prefix = ["", "a", "name_", "x."].randomElement(using: &rng)!
        return group.map { prefix + $0 }
    }

    /// An item whose names and string values are drawn from equivalent spellings: every name has at
    /// least one canonically equivalent sibling in the item, at the top level and in a nested map.
    static func item<G: RandomNumberGenerator>(_ rng: inout G, depth: Int = 0) -> Item {
        var item: Item = [:]
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            let names = spellings(&rng)
            for name in names.shuffled(using: &rng).prefix(Int.random(in: 2...names.count, using: &rng)) {
                let values = spellings(&rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: item[AttributeName(name)] = .s(values.randomElement(using: &rng)!)
                case 1: item[AttributeName(name)] = .ss(values)
                case 2 where depth < 2: item[AttributeName(name)] = .m(Self.item(&rng, depth: depth + 1))
                default: item[AttributeName(name)] = .l(values.map { .s($0) })
                }
            }
        }
        return item
    }

    static let itemGenerator = Generator<Item, Shrink.None<Item>> { rng in item(&rng) }

    /// The distinct byte strings among the names of a map and its nested maps.
    static func nameCount(_ item: Item) -> Int {
        item.count + item.values.reduce(0) { n, v in if case .m(let m) = v { n + nameCount(m) } else { n } }
    }
}

@Suite struct AttributeNameTests {
    @Test func namesCompareHashAndOrderByBytes() {
        let nfc: AttributeName = "\u{E9}", nfd: AttributeName = "e\u{301}"
        #expect("\u{E9}" == "e\u{301}")  // Swift's String says equal ...
        #expect(nfc != nfd)  // ... the bytes do not.
        #expect(Set([nfc, nfd, AttributeName("\u{E9}")]).count == 2)
        #expect(nfd < nfc)  // 0x65 ("e") before 0xC3
        #expect(AttributeName("a") < AttributeName("ab") && !(AttributeName("ab") < AttributeName("a")))
        #expect(nfc.description == "\u{E9}" && Array(nfd.string.utf8) == [0x65, 0xCC, 0x81])
        let interpolated: AttributeName = "k\(1)"
        #expect(interpolated == AttributeName("k1"))
    }

    @Test func stringValuesCompareByBytes() {
        #expect(AttributeValue.s("\u{E9}") != .s("e\u{301}"))
        #expect(AttributeValue.s("\u{E9}") == .s("\u{E9}"))
        #expect(AttributeValue.ss(["\u{E9}", "b"]) == .ss(["b", "\u{E9}"]))
        #expect(AttributeValue.ss(["\u{E9}", "b"]) != .ss(["b", "e\u{301}"]))
        #expect(AttributeValue.ss(["\u{E9}", "e\u{301}"]) == .ss(["e\u{301}", "\u{E9}"]))
        #expect(AttributeValue.ss(["\u{E9}", "e\u{301}"]) != .ss(["\u{E9}", "\u{E9}"]))
        #expect(Set<AttributeValue>([.s("\u{E9}"), .s("e\u{301}")]).count == 2)
        // Equal values hash alike, whatever the member order.
        #expect(AttributeValue.ss(["x", "\u{E9}", "e\u{301}"]).hashValue == AttributeValue.ss(["e\u{301}", "x", "\u{E9}"]).hashValue)
    }

    @Test func bothSpellingsRoundTripThroughTheCodec() throws {
        let item: Item = [
            "\u{E9}": .s("nfc"), "e\u{301}": .s("nfd"),
            "m": .m(["\u{E9}": .n(DynamoNumber(1)), "e\u{301}": .n(DynamoNumber(2))]),
        ]
        #expect(item.count == 3)
        let bytes = JSONWriter.encode(item: item)
        let back = try JSONReader.parseItem(bytes)
        #expect(identical(back, item))
        #expect(back == item)
        #expect(dynamoDBItemSize(item) == (2 + 3) + (3 + 3) + (1 + 3 + (2 + 2 + 1) + (3 + 2 + 1)))
        try validateDynamoDBItem(item)
        // Swapping the values of the two spellings is a different item.
        var swapped = item
        swapped["\u{E9}"] = .s("nfd"); swapped["e\u{301}"] = .s("nfc")
        #expect(swapped != item)
    }

    @Test func equivalentSpellingsRoundTripExactly() async {
        await propertyCheck(count: 300, input: EquivalentSpellings.itemGenerator) { item in
            failOnError {
                let back = try JSONReader.parseItem(JSONWriter.encode(item: item))
                #expect(identical(back, item))
                #expect(back == item && back.hashValue == item.hashValue)
                #expect(EquivalentSpellings.nameCount(back) == EquivalentSpellings.nameCount(item))
                // Every name and string keeps its bytes: writing the parsed item gives the same item back.
                #expect(identical(try JSONReader.parseItem(JSONWriter.encode(item: back)), item))
            }
        }
    }

    @Test func equivalentSpellingsAreNeverEqual() async {
        await propertyCheck(count: 300, input: EquivalentSpellings.itemGenerator) { item in
            // Respell one top-level name (keeping its value): a different item, unless the new
            // spelling is already taken (then the item would lose an attribute: skip).
            let (name, value) = item.first!
            // By bytes: String's hasSuffix would match any equivalent spelling.
            func byteSuffix(_ s: String, _ suffix: String) -> Bool { Array(s.utf8).suffix(suffix.utf8.count).elementsEqual(suffix.utf8) }
            guard let group = EquivalentSpellings.groups.first(where: { g in g.contains { byteSuffix(name.string, $0) } }),
                let suffix = group.first(where: { byteSuffix(name.string, $0) })
            else { return }
            let prefix = String(decoding: Array(name.string.utf8).dropLast(suffix.utf8.count), as: UTF8.self)
            for spelling in group {
                let other = AttributeName(prefix + spelling)
                guard other != name, item[other] == nil else { continue }
                var respelled = item
                respelled.removeValue(forKey: name)
                respelled[other] = value
                #expect(respelled != item)
                #expect(respelled.count == item.count)
            }
        }
    }
}
