// Filter semantics and table-name globs.
import DynamoCore
import Mappings
import Testing

@Suite struct FilterTests {
    private func keeps(_ filter: String, _ item: Item) throws -> Bool {
        try transform("- filter: \(filter)").apply(item) != nil
    }

    @Test func equalsAndNotEquals() throws {
        let eq = "{ attribute: status, equals: active }"
        #expect(try keeps(eq, ["status": .s("active")]))
        #expect(try !keeps(eq, ["status": .s("Active")]))
        #expect(try !keeps(eq, [:]))
        #expect(try !keeps(eq, ["status": .ss(["active"])]))
        let ne = "{ attribute: status, not-equals: deleted }"
        #expect(try keeps(ne, ["status": .s("active")]))
        #expect(try keeps(ne, [:]))  // missing counts as not equal
        #expect(try !keeps(ne, ["status": .s("deleted")]))
    }

    @Test func numbersCompareByValue() throws {
        #expect(try keeps("{ attribute: n, equals: 1.5 }", ["n": n("1.50")]))
        #expect(try keeps("{ attribute: n, equals: 100 }", ["n": n("1E+2")]))
        #expect(try !keeps("{ attribute: n, equals: 1 }", ["n": .s("1")]))
        #expect(try keeps("{ attribute: n, less-than: 10 }", ["n": n("9.99")]))
        #expect(try !keeps("{ attribute: n, less-than: 10 }", ["n": n("10")]))
        #expect(try keeps("{ attribute: n, less-or-equal: 10 }", ["n": n("10.0")]))
        #expect(try keeps("{ attribute: n, greater-than: -5 }", ["n": n("-4.5")]))
        #expect(try !keeps("{ attribute: n, greater-than: -5 }", ["n": n("-50")]))
        #expect(try keeps("{ attribute: n, greater-or-equal: 0 }", ["n": n("0")]))
        #expect(try keeps("{ attribute: n, greater-than: 0.001 }", ["n": n("1E-2")]))
        // Different types never compare.
        #expect(try !keeps("{ attribute: n, less-than: 10 }", ["n": .s("1")]))
        #expect(try !keeps("{ attribute: n, greater-or-equal: 0 }", [:]))
    }

    @Test func stringsCompareByBytes() throws {
        #expect(try keeps("{ attribute: s, less-than: b }", ["s": .s("a")]))
        #expect(try keeps("{ attribute: s, less-than: a }", ["s": .s("B")]))  // 'B' (0x42) < 'a' (0x61)
        #expect(try keeps("{ attribute: s, greater-than: z }", ["s": .s("é")]))
        #expect(try keeps("{ attribute: s, begins-with: \"USER#\" }", ["s": .s("USER#1")]))
        #expect(try !keeps("{ attribute: s, begins-with: \"USER#\" }", ["s": .s("user#1")]))
        #expect(try keeps("{ attribute: b, begins-with: { B: AAE= } }", ["b": .b([0, 1, 2])]))
        #expect(try !keeps("{ attribute: b, begins-with: { B: AAE= } }", ["b": .b([1])]))
    }

    @Test func exists() throws {
        #expect(try keeps("{ attribute: a, exists: true }", ["a": .null]))
        #expect(try !keeps("{ attribute: a, exists: true }", [:]))
        #expect(try keeps("{ attribute: a, exists: false }", [:]))
    }

    @Test func setsAndMapsCompareWithoutOrder() throws {
        #expect(try keeps("{ attribute: t, equals: { SS: [a, b] } }", ["t": .ss(["b", "a"])]))
        #expect(try !keeps("{ attribute: t, equals: { SS: [a, b] } }", ["t": .ss(["a"])]))
        #expect(
            try keeps(
                "{ attribute: m, equals: { M: { x: 1, y: [2] } } }".replacingOccurrences(of: "[2]", with: "{ L: [2] }"),
                ["m": .m(["y": .l([n("2.0")]), "x": n("1")])]))
    }

    @Test func combinators() throws {
        let f = """
            { any: [ { attribute: status, equals: active }, { all: [ { attribute: vip, equals: true }, { not: { attribute: banned, exists: true } } ] } ] }
            """
        #expect(try keeps(f, ["status": .s("active")]))
        #expect(try keeps(f, ["vip": .bool(true)]))
        #expect(try !keeps(f, ["vip": .bool(true), "banned": .bool(false)]))
        #expect(try !keeps(f, ["status": .s("closed")]))
        #expect(try keeps("{ all: [] }", [:]))
        #expect(try !keeps("{ any: [] }", [:]))
    }

    @Test func envInFilterOperands() throws {
        #expect(try keeps("{ attribute: stage, equals: \"{env}\" }", ["stage": .s("prod")]))
    }
}

@Suite struct GlobTests {
    @Test func matching() {
        #expect(Glob("omnix-ai-cdk-*").matches("omnix-ai-cdk-users"))
        #expect(Glob("omnix-ai-cdk-*").matches("omnix-ai-cdk-"))
        #expect(!Glob("omnix-ai-cdk-*").matches("omnix-ai-dev-users"))
        #expect(Glob("*").matches("anything-at-all"))
        #expect(Glob("omnix-?-x").matches("omnix-a-x"))
        #expect(!Glob("omnix-?-x").matches("omnix-ab-x"))
        #expect(!Glob("omnix-?-x").matches("omnix--x"))
        #expect(Glob("users").matches("users"))
        #expect(!Glob("users").matches("users2"))
        #expect(Glob("a*b*c").matches("a-b-b-c"))
        #expect(!Glob("a*b*c").matches("a-c-b"))
        #expect(Glob("users").isLiteral)
        #expect(!Glob("user?").isLiteral)
        #expect(Glob("a-*-*").starCount == 2)
    }

    /// Where the shell-style matcher `--match` used to have (fnmatch) disagreed with mapping globs.
    @Test func shellSyntaxIsNotGlobSyntax() {
        // fnmatch read these as a class and an escape; here they are plain characters no table name has.
        #expect(!Glob("orders-[ab]").matches("orders-a"))
        #expect(Glob("orders-[ab]").matches("orders-[ab]"))
        #expect(Glob("orders-[ab]").impossibleCharacter == "[")
        #expect(!Glob("orders\\*").matches("orders*"))
        #expect(Glob("orders\\*").impossibleCharacter == "\\")
        #expect(Glob("a b").impossibleCharacter == " ")
        #expect(Glob("Omnix_AI.v2-*?").impossibleCharacter == nil)
        // Both always agreed on these: '*' crosses '-' and '.', and matches nothing; '?' is one character.
        #expect(Glob("*.backup").matches(".backup"))
        #expect(Glob("a*").matches("a.b-c_d"))
        #expect(Glob("??").matches("ab") && !Glob("??").matches("abc"))
    }

    @Test func capturesByPositionShortestFirst() {
        #expect(Glob("omnix-ai-cdk-*").captures(in: "omnix-ai-cdk-customer-profiles") == ["customer-profiles"])
        #expect(Glob("*-*").captures(in: "a-b-c") == ["a", "b-c"])
        #expect(Glob("*-ai-*").captures(in: "omnix-ai-dev-orders") == ["omnix", "dev-orders"])
        #expect(Glob("x?-*").captures(in: "xy-z") == ["z"])
        #expect(Glob("x-*").captures(in: "y-z") == nil)
        #expect(Glob("omnix-ai-prod-*-v*").instantiate(["users", "2"]) == "omnix-ai-prod-users-v2")
    }

    @Test func overlaps() {
        #expect(Glob("omnix-ai-*").overlaps(Glob("*-users")))
        #expect(Glob("omnix-ai-dev-*").overlaps(Glob("omnix-ai-dev-users")))
        #expect(!Glob("omnix-ai-dev-*").overlaps(Glob("omnix-ai-prod-*")))
        #expect(Glob("a?c").overlaps(Glob("*c")))
        #expect(!Glob("a?c").overlaps(Glob("abcd")))
        #expect(Glob("*").overlaps(Glob("x")))
    }

    @Test func manyStarsStayFast() {
        // Pathological backtracking would take forever here; the memo keeps it polynomial.
        let name = String(repeating: "a", count: 200)
        #expect(!Glob(String(repeating: "*a", count: 30) + "b").matches(name))
    }
}
