// Attribute names in mapping files and in transforms are byte strings, as in DynamoDB: "é" (U+00E9)
// and "e\u{301}" are two attributes, and no transform of one touches the other.
import DynamoCore
import Mappings
import Testing

private let nfc = "\u{E9}", nfd = "e\u{301}"

@Suite struct ByteNameTests {
    @Test func setAddsTheOtherSpellingInsteadOfOverwriting() throws {
        let t = try transform("- set: { \"\(nfc)\": 2 }")
        #expect(try t.apply([AttributeName(nfd): n("1")]) == [AttributeName(nfd): n("1"), AttributeName(nfc): n("2")])
    }

    @Test func dropAndKeepLeaveTheOtherSpelling() throws {
        let item: Item = [AttributeName(nfc): .s("nfc"), AttributeName(nfd): .s("nfd")]
        #expect(try transform("- drop: [\"\(nfc)\"]").apply(item) == [AttributeName(nfd): .s("nfd")])
        #expect(try transform("- keep: [\"\(nfd)\"]").apply(item) == [AttributeName(nfd): .s("nfd")])
    }

    @Test func defaultDoesNotSeeTheOtherSpelling() throws {
        let t = try transform("- default: { \"\(nfc)\": fill }")
        #expect(try t.apply([AttributeName(nfd): .s("x")]) == [AttributeName(nfd): .s("x"), AttributeName(nfc): .s("fill")])
        #expect(try t.apply([AttributeName(nfc): .s("x")]) == [AttributeName(nfc): .s("x")])
    }

    @Test func renameMovesOnlyItsSpelling() throws {
        let t = try transform("- rename: { \"\(nfc)\": plain }")
        #expect(
            try t.apply([AttributeName(nfc): .s("1"), AttributeName(nfd): .s("2")])
                == ["plain": .s("1"), AttributeName(nfd): .s("2")])
        // Renaming one spelling to the other is a real rename, and refused only when the target exists.
        let toOther = try transform("- rename: { \"\(nfc)\": \"\(nfd)\" }")
        #expect(try toOther.apply([AttributeName(nfc): .s("1")]) == [AttributeName(nfd): .s("1")])
        let e = try #require(transformError(toOther, [AttributeName(nfc): .s("1"), AttributeName(nfd): .s("2")]))
        #expect(e.attribute == nfd && Array(e.attribute.utf8) == Array(nfd.utf8))
    }

    @Test func convertTemplatesAndFiltersReadOnlyTheirSpelling() throws {
        let item: Item = [AttributeName(nfc): .s("1"), AttributeName(nfd): .s("two")]
        #expect(
            try transform("- convert: { \"\(nfc)\": number }").apply(item)
                == [AttributeName(nfc): n("1"), AttributeName(nfd): .s("two")])
        #expect(try transform("- set: { t: \"{\(nfd)}-{\(nfc)}\" }").apply(item)?["t"] == .s("two-1"))
        #expect(try transform("- filter: { attribute: \"\(nfc)\", equals: two }").apply(item) == nil)
        #expect(try transform("- filter: { attribute: \"\(nfd)\", equals: two }").apply(item) == item)
        #expect(try transform("- filter: { attribute: \"\(nfc)\", exists: true }").apply([AttributeName(nfd): .s("x")]) == nil)
        // String values compare by bytes too.
        #expect(try transform("- filter: { attribute: a, equals: \"\(nfc)\" }").apply(["a": .s(nfd)]) == nil)
    }

    @Test func mappingFileNamesAreDistinctByBytes() throws {
        // Both spellings in one 'set' are two attributes, not a duplicate key.
        let t = try transform("- set: { \"\(nfc)\": 1, \"\(nfd)\": 2, m: { M: { \"\(nfc)\": a, \"\(nfd)\": b } }, s: { SS: [\"\(nfc)\", \"\(nfd)\"] } }")
        #expect(
            try t.apply([:]) == [
                AttributeName(nfc): n("1"), AttributeName(nfd): n("2"),
                "m": .m([AttributeName(nfc): .s("a"), AttributeName(nfd): .s("b")]), "s": .ss([nfc, nfd]),
            ])
        #expect(
            try transform("- rename: { \"\(nfc)\": x, \"\(nfd)\": y }")
                .apply([AttributeName(nfc): .s("1"), AttributeName(nfd): .s("2")]) == ["x": .s("1"), "y": .s("2")])
        // A byte-identical repeat is still a duplicate.
        #expect(
            issueLines(
                """
                version: 1
                tables:
                  - source: src-table
                    target: dst-table
                    transforms:
                      - set: { "\(nfc)": 1, "\(nfc)": 2 }
                """) == ["m.yaml:6:24: duplicate key '\(nfc)' in 'set'; the first is at line 6"])
    }
}
