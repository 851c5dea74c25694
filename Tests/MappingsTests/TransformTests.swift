// Each transform and conversion, with exact items in and out, and exact per-item errors.
import DynamoCore
import Mappings
import Testing

@Suite struct TransformTests {
    @Test func renameMovesValuesAndSwaps() throws {
        let t = try transform("- rename: { user_id: userId, EmailAddress: email }")
        #expect(
            try t.apply(["user_id": .s("u1"), "EmailAddress": .s("A@x.io"), "n": n("1")])
                == ["userId": .s("u1"), "email": .s("A@x.io"), "n": n("1")])
        // Missing sources are skipped.
        #expect(try t.apply(["user_id": .s("u1")]) == ["userId": .s("u1")])
        let swap = try transform("- rename: { a: b, b: a }")
        #expect(try swap.apply(["a": .s("1"), "b": .s("2")]) == ["a": .s("2"), "b": .s("1")])
    }

    @Test func renameOntoAnExistingAttributeFails() throws {
        let t = try transform("- rename: { user_id: userId }")
        let e = try #require(transformError(t, ["user_id": .s("u1"), "userId": .s("u2")]))
        #expect(e.description == "m.yaml:7:19: rename: attribute 'userId' already exists; renaming 'user_id' onto it would lose one of the two values")
    }

    @Test func dropAndKeep() throws {
        let item: Item = ["a": .s("1"), "b": .s("2"), "c": .bool(true)]
        #expect(try transform("- drop: [b, missing]").apply(item) == ["a": .s("1"), "c": .bool(true)])
        #expect(try transform("- keep: [a, c, missing]").apply(item) == ["a": .s("1"), "c": .bool(true)])
    }

    @Test func setConstantsOfEveryYAMLKind() throws {
        let t = try transform(
            """
            - set:
                origin: dev
                version: 2
                ratio: 1.50
                big: 12345678901234567890123
                hex: 0x1F
                active: true
                answer: no
                nothing: null
                count: { N: "5" }
                tags: { SS: [a, b] }
                nums: { NS: [1, "2.5"] }
                blob: { B: "AAEC" }
                list: { L: [x, 1, { BOOL: false }] }
                map: { M: { k: v, n: 3 } }
                stage: "{env}-x"
            """)
        #expect(
            try t.apply(["id": .s("1")]) == [
                "id": .s("1"), "origin": .s("dev"), "version": n("2"), "ratio": n("1.50"),
                "big": n("12345678901234567890123"), "hex": n("31"), "active": .bool(true), "answer": .s("no"),
                "nothing": .null, "count": n("5"), "tags": .ss(["a", "b"]), "nums": .ns([DynamoNumber(unchecked: "1"), DynamoNumber(unchecked: "2.5")]),
                "blob": .b([0, 1, 2]), "list": .l([.s("x"), n("1"), .bool(false)]), "map": .m(["k": .s("v"), "n": n("3")]),
                "stage": .s("prod-x"),
            ])
    }

    @Test func setTemplates() throws {
        let t = try transform(#"- set: { pk: "{tenantId}#{orderId}", copy: "{price}", src: "{source}/{env}", braces: "{{x}}", flag: "f={ok}" }"#)
        let item: Item = ["tenantId": .s("t1"), "orderId": n("42"), "price": n("9.5"), "ok": .bool(true)]
        var expected = item
        expected["pk"] = .s("t1#42")
        expected["copy"] = n("9.5")
        expected["src"] = .s("src-table/prod")
        expected["braces"] = .s("{x}")
        expected["flag"] = .s("f=true")
        #expect(try t.apply(item) == expected)
    }

    @Test func setReadsTheItemAsItWasBeforeTheStep() throws {
        let t = try transform(#"- set: { a: "{b}", b: "{a}" }"#)
        #expect(try t.apply(["a": .s("1"), "b": .s("2")]) == ["a": .s("2"), "b": .s("1")])
    }

    @Test func setTemplateErrors() throws {
        let t = try transform(#"- set: { pk: "{tenantId}#{orderId}" }"#)
        #expect(
            transformError(t, ["orderId": .s("o")])?.description
                == #"m.yaml:7:16: set: attribute 'pk' needs attribute 'tenantId' for template "{tenantId}#{orderId}", and the item has none"#)
        #expect(
            transformError(t, ["tenantId": .m([:]), "orderId": .s("o")])?.description
                == #"m.yaml:7:16: set: attribute 'pk' cannot use attribute 'tenantId' of type M in template "{tenantId}#{orderId}"; templates take S, N and BOOL"#
        )
        let d = try transform(#"- default: { pk: "{id}" }"#)
        #expect(
            transformError(d, [:])?.description
                == #"m.yaml:7:20: default: attribute 'pk' needs attribute 'id' for template "{id}", and the item has none"#)
    }

    @Test func defaultOnlyFillsMissingAttributes() throws {
        let t = try transform("- default: { status: active, n: 0 }")
        #expect(try t.apply(["id": .s("1")]) == ["id": .s("1"), "status": .s("active"), "n": n("0")])
        #expect(try t.apply(["status": .s("closed"), "n": .null]) == ["status": .s("closed"), "n": .null])
    }

    @Test func convertNumberAndString() throws {
        let t = try transform("- convert: { price: number, code: string }")
        #expect(try t.apply(["price": .s("12.50"), "code": n("7")]) == ["price": n("12.50"), "code": .s("7")])
        // Already the target type, missing, or NULL: left alone.
        #expect(try t.apply(["price": n("3"), "code": .s("x")]) == ["price": n("3"), "code": .s("x")])
        #expect(try t.apply(["price": .null]) == ["price": .null])
        #expect(try t.apply([:]) == [:])
        #expect(
            transformError(t, ["price": .s("12,50")])?.description
                == #"m.yaml:7:20: convert number: attribute 'price' is "12,50", not a number"#)
        #expect(
            transformError(t, ["price": .bool(true)])?.description
                == "m.yaml:7:20: convert number: attribute 'price' has type BOOL; number converts S to N")
        #expect(
            transformError(t, ["code": .ss(["a"])])?.description
                == "m.yaml:7:35: convert string: attribute 'code' has type SS; string converts N to S")
    }

    @Test func convertEpochToISO8601() throws {
        let t = try transform("- convert: { s: iso8601-from-epoch-seconds, ms: iso8601-from-epoch-millis }")
        #expect(
            try t.apply(["s": n("1700000000"), "ms": n("1700000000250")])
                == ["s": .s("2023-11-14T22:13:20Z"), "ms": .s("2023-11-14T22:13:20.250Z")])
        #expect(try t.apply(["ms": n("1700000000000")]) == ["ms": .s("2023-11-14T22:13:20Z")], "whole seconds: no .000")
        #expect(
            try t.apply(["s": .s("0"), "ms": n("-1")])
                == ["s": .s("1970-01-01T00:00:00Z"), "ms": .s("1969-12-31T23:59:59.999Z")])
        #expect(try t.apply(["s": n("1.7E9")]) == ["s": .s("2023-11-14T22:13:20Z")])
        #expect(try t.apply(["s": n("951782400")]) == ["s": .s("2000-02-29T00:00:00Z")])
        #expect(
            transformError(t, ["s": n("1700000000.5")])?.description
                == "m.yaml:7:20: convert iso8601-from-epoch-seconds: attribute 's' is 1700000000.5, not a whole number of seconds")
        #expect(
            transformError(t, ["s": .s("soon")])?.description
                == #"m.yaml:7:20: convert iso8601-from-epoch-seconds: attribute 's' is "soon", not a number of seconds"#)
        #expect(
            transformError(t, ["s": n("253402300800")])?.description
                == "m.yaml:7:20: convert iso8601-from-epoch-seconds: attribute 's' is 253402300800, outside the years 0001-9999")
    }

    @Test func convertISO8601ToEpoch() throws {
        let t = try transform("- convert: { s: epoch-seconds-from-iso8601, ms: epoch-millis-from-iso8601 }")
        #expect(
            try t.apply(["s": .s("2023-11-14T22:13:20Z"), "ms": .s("2023-11-14T23:13:20.25+01:00")])
                == ["s": n("1700000000"), "ms": n("1700000000250")])
        #expect(
            try t.apply(["s": .s("1970-01-01T00:00:00.000Z"), "ms": .s("1969-12-31 23:59:59.999z")])
                == ["s": n("0"), "ms": n("-1")])
        #expect(
            transformError(t, ["s": .s("2023-02-29T00:00:00Z")])?.description
                == #"m.yaml:7:20: convert epoch-seconds-from-iso8601: attribute 's' is "2023-02-29T00:00:00Z", not an ISO 8601 date-time like 2024-01-31T12:00:00Z"#
        )
        #expect(
            transformError(t, ["s": .s("2023-11-14T22:13:20.5Z")])?.description
                == #"m.yaml:7:20: convert epoch-seconds-from-iso8601: attribute 's' is "2023-11-14T22:13:20.5Z", which has fractional seconds; use epoch-millis-from-iso8601 to keep them"#
        )
        #expect(
            transformError(t, ["ms": .s("2023-11-14T22:13:20.0001Z")])?.description
                == #"m.yaml:7:51: convert epoch-millis-from-iso8601: attribute 'ms' is "2023-11-14T22:13:20.0001Z", which has digits below a millisecond"#)
        #expect(
            transformError(t, ["s": n("5")])?.description
                == "m.yaml:7:20: convert epoch-seconds-from-iso8601: attribute 's' has type N; epoch-seconds-from-iso8601 converts S holding an ISO 8601 date-time to N"
        )
    }

    @Test func convertSets() throws {
        let t = try transform("- convert: { tags: string-set, list: string-from-set }")
        #expect(
            try t.apply(["tags": .s("red, green ,blue"), "list": .ss(["b", "a", "C"])])
                == ["tags": .ss(["red", "green", "blue"]), "list": .s("C,a,b")])
        #expect(
            transformError(t, ["tags": .s("")])?.description
                == #"m.yaml:7:20: convert string-set: attribute 'tags' is "", which gives an empty set; DynamoDB sets cannot be empty"#)
        #expect(
            transformError(t, ["tags": .s("a,,b")])?.description
                == #"m.yaml:7:20: convert string-set: attribute 'tags' is "a,,b", which has an empty element"#)
        #expect(
            transformError(t, ["tags": .s("a,b,a")])?.description
                == #"m.yaml:7:20: convert string-set: attribute 'tags' is "a,b,a", which lists "a" twice; DynamoDB sets hold distinct values"#)
        #expect(
            transformError(t, ["list": .ss(["a,b"])])?.description
                == #"m.yaml:7:38: convert string-from-set: attribute 'list' holds "a,b", which contains ','; the joined text could not be split back"#)
    }

    @Test func convertCase() throws {
        let t = try transform("- convert: { email: lowercase, code: uppercase }")
        #expect(
            try t.apply(["email": .s("Ann@Example.COM"), "code": .s("ab-ç")])
                == ["email": .s("ann@example.com"), "code": .s("AB-Ç")])
        #expect(
            transformError(t, ["email": n("1")])?.description
                == "m.yaml:7:20: convert lowercase: attribute 'email' has type N; lowercase converts S")
    }

    @Test func stepsRunInOrder() throws {
        let t = try transform(
            """
            - rename: { user_id: userId, Email: email }
            - convert: { email: lowercase, created: iso8601-from-epoch-seconds }
            - default: { status: active }
            - filter: { attribute: status, equals: active }
            - set: { pk: "USER#{userId}" }
            - drop: [legacy]
            """)
        #expect(
            try t.apply(["user_id": .s("7"), "Email": .s("A@B.C"), "created": n("0"), "legacy": .bool(true)])
                == [
                    "userId": .s("7"), "email": .s("a@b.c"), "created": .s("1970-01-01T00:00:00Z"),
                    "status": .s("active"), "pk": .s("USER#7"),
                ])
        #expect(try t.apply(["user_id": .s("8"), "status": .s("closed")]) == nil)
    }

    @Test func keyPrefixAndKeyCheck() throws {
        let doc = try load(
            """
            version: 1
            tables:
              - target: users-new
                sources:
                  - table: users-old
                    key-prefix: "USER#"
                    transforms:
                      - rename: { id: userId }
            """)
        let r = try doc.resolve(existingTables: ["users-old"])
        let source = try #require(r.targets.first?.sources.first)
        let key = KeySchemaSpec(
            partition: KeyAttributeSpec(name: "userId", type: .s),
            sort: KeyAttributeSpec(name: "at", type: .n))
        let t = source.itemTransform(targetKey: key)
        #expect(try t.apply(["id": .s("42"), "at": n("1")]) == ["userId": .s("USER#42"), "at": n("1")])
        // The plain transform has no prefix.
        #expect(try source.transform.apply(["id": .s("42")]) == ["userId": .s("42")])
        #expect(
            transformError(t, ["at": n("1")])?.description
                == "m.yaml:5:16: key-prefix: attribute 'userId' is missing, so it cannot be prefixed")
        #expect(
            transformError(t, ["id": n("42"), "at": n("1")])?.description
                == "m.yaml:5:16: key-prefix: attribute 'userId' has type N; key-prefix needs an S partition key")
        #expect(
            transformError(t, ["id": .s("42")])?.description
                == "m.yaml:5:16: key: attribute 'at' is missing after the transforms; it is the target's sort key")
        #expect(
            transformError(t, ["id": .s("42"), "at": .s("1")])?.description
                == "m.yaml:5:16: key: attribute 'at' has type S after the transforms; the target's sort key is N")
    }

    @Test func identityTransform() throws {
        let t = try transform("- drop: []")
        #expect(try t.apply(["a": .s("1")]) == ["a": .s("1")])
        #expect(try CompiledTransform.identity.apply(["a": .s("1")]) == ["a": .s("1")])
        #expect(CompiledTransform.identity.isIdentity)
    }
}

@Suite struct MoreTransformTests {
    @Test func multiRenameOntoExistingFails() throws {
        let t = try transform("- rename: { a: x, b: y }")
        #expect(
            transformError(t, ["a": .s("1"), "b": .s("2"), "y": .s("3")])?.description
                == "m.yaml:7:25: rename: attribute 'y' already exists; renaming 'b' onto it would lose one of the two values")
        #expect(try t.apply(["a": .s("1"), "b": .s("2")]) == ["x": .s("1"), "y": .s("2")])
    }

    @Test func transformsAreSendableAndSharedAcrossTasks() async throws {
        let t = try transform("- set: { pk: \"{id}#x\" }")
        let results = await withTaskGroup(of: Item?.self) { group in
            for i in 0..<8 { group.addTask { try? t.apply(["id": .s(String(i))]) } }
            var out: [Item?] = []
            for await r in group { out.append(r) }
            return out
        }
        #expect(Set(results.compactMap { $0?["pk"] }) == Set((0..<8).map { AttributeValue.s("\($0)#x") }))
    }
}
