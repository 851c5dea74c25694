import DynamoCore
import Mappings
import Testing

/// Which target keys can be traced back to exactly one source item, and which cannot (and why).
struct KeyDerivationTests {
    let pkS = KeySchemaSpec(partition: KeyAttributeSpec(name: "pk", type: .s))
    let pkSkN = KeySchemaSpec(partition: KeyAttributeSpec(name: "pk", type: .s), sort: KeyAttributeSpec(name: "sk", type: .n))

    /// The only source of a one-entry mapping, with `keyPrefix` and `transforms` (YAML list items).
    func source(keyPrefix: String? = nil, _ transforms: String = "") throws -> ResolvedSource {
        let body = transforms.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n")
        let yaml = """
            version: 1
            tables:
              - source: src
                target: dst
            \(keyPrefix.map { "    key-prefix: \"\($0)\"" } ?? "")
            \(transforms.isEmpty ? "" : "    transforms:\n" + body)
            """
        let doc = try load(yaml)
        return try #require(try doc.resolve(existingTables: ["src"]).targets.first?.sources.first)
    }

    func derivation(_ s: ResolvedSource, _ sourceKey: KeySchemaSpec, _ targetKey: KeySchemaSpec) throws -> KeyDerivation {
        try s.keyDerivation(sourceKey: sourceKey, targetKey: targetKey).get()
    }

    func limitation(_ s: ResolvedSource, _ sourceKey: KeySchemaSpec, _ targetKey: KeySchemaSpec) -> String? {
        if case .failure(let l) = s.keyDerivation(sourceKey: sourceKey, targetKey: targetKey) { return l.reason }
        return nil
    }

    @Test func aKeyPrefixIsTakenOffAgainAndAKeyWithoutItBelongsToNoItemOfTheSource() throws {
        let d = try derivation(try source(keyPrefix: "legacy#"), pkSkN, pkSkN)
        #expect(d.targetKey(forSourceKey: ["pk": .s("u1"), "sk": n("3")]) == ["pk": .s("legacy#u1"), "sk": n("3")])
        #expect(d.sourceKey(forTargetKey: ["pk": .s("legacy#u1"), "sk": n("3")]) == ["pk": .s("u1"), "sk": n("3")])
        #expect(d.sourceKey(forTargetKey: ["pk": .s("other#u1"), "sk": n("3")]) == nil)
        #expect(d.sourceKey(forTargetKey: ["pk": .s("legacy#"), "sk": n("3")]) == nil, "an empty source key does not exist")
    }

    @Test func renamesAndACopyingSetAndAPrefixTemplateAreFollowedToTheSourceKey() throws {
        let source = try self.source(
            keyPrefix: "A:",
            """
            - rename: {user_id: uid}
            - set: {pk: "U#{uid}"}
            - drop: [uid]
            - rename: {created: sk}
            """)
        let sourceKey = KeySchemaSpec(partition: KeyAttributeSpec(name: "user_id", type: .s), sort: KeyAttributeSpec(name: "created", type: .n))
        let d = try derivation(source, sourceKey, pkSkN)
        #expect(d.parts.map(\.prefix) == ["A:U#", ""])
        #expect(d.targetKey(forSourceKey: ["user_id": .s("x"), "created": n("7")]) == ["pk": .s("A:U#x"), "sk": n("7")])
        #expect(d.sourceKey(forTargetKey: ["pk": .s("A:U#x"), "sk": n("7")]) == ["user_id": .s("x"), "created": n("7")])
    }

    @Test func filtersAndNonKeyTransformsDoNotLimitFollowing() throws {
        let source = try self.source(
            """
            - filter: {attribute: status, equals: active}
            - set: {kind: "{source}"}
            - default: {tier: free}
            - convert: {pk: string}
            """)
        #expect(limitation(source, pkS, pkS) == nil)
    }

    @Test(arguments: [
        (
            "- set: {pk: \"{tenant}#{id}\"}",
            "the target's partition key 'pk' is built by template \"{tenant}#{id}\", which cannot be split back into the source key (set at line 7)"
        ),
        ("- set: {pk: fixed}", "the target's partition key 'pk' is set to a constant (set at line 7)"),
        ("- set: {pk: \"{email}\"}", "the target's partition key 'pk' is copied from 'email', which is not a source key attribute (set at line 7)"),
        ("- rename: {email: pk}", "the target's partition key 'pk' is renamed from the non-key attribute 'email' (rename at line 7)"),
        ("- convert: {pk: lowercase}", "the target's partition key 'pk' is converted with lowercase (convert at line 7)"),
    ])
    func aTargetKeyNotTracedToTheSourceKeyIsALimitation(transform: String, reason: String) throws {
        #expect(limitation(try source(transform), pkS, pkS) == reason)
    }

    @Test func aSourceKeyAttributeMissingFromTheTargetKeyIsALimitation() throws {
        // Source pk + sk into a target keyed by pk only: items of one pk share a target key.
        let reason = limitation(try source(), pkSkN, pkS)
        #expect(reason == "its key attribute 'sk' is not part of the target key (pk), so several of its items can share one target key")
    }

    @Test func aNumberKeyRenderedAsTextIsALimitation() throws {
        let sourceKey = KeySchemaSpec(partition: KeyAttributeSpec(name: "id", type: .n))
        let reason = limitation(try source("- set: {pk: \"ID#{id}\"}"), sourceKey, pkS)
        #expect(reason == "the target's partition key 'pk' is built by template \"ID#{id}\" from the N attribute 'id' (set at line 7)")
    }

    @Test func theTargetNamesTheFirstLimitedSource() throws {
        let yaml = """
            version: 1
            tables:
              - target: dst
                conflict: keep-existing
                sources:
                  - table: src-a
                  - table: src-b
                    transforms:
                      - set: {pk: "{email}"}
            """
        let target = try #require(try load(yaml).resolve(existingTables: ["src-a", "src-b"]).targets.first)
        let limitation = try #require(target.followLimitation(sourceKeys: [pkS, pkS], targetKey: pkS))
        #expect(limitation.source == "src-b")
        #expect(
            limitation.description
                == "m.yaml:7: source src-b: the target's partition key 'pk' is copied from 'email', which is not a source key attribute (set at line 9); a follower could not tell which source item a target key comes from, so it cannot keep the target exact"
        )
    }

    @Test func aSingleOverwriteSourceIsFollowedByItsImagesWhateverItsKeyTransform() throws {
        for (policy, limited) in [("overwrite", false), ("keep-existing", true)] {
            let yaml = """
                version: 1
                tables:
                  - source: src-a
                    target: dst
                    conflict: \(policy)
                    transforms:
                      - set: {pk: "{email}"}
                """
            let target = try #require(try load(yaml).resolve(existingTables: ["src-a"]).targets.first)
            #expect(target.isFollowedByRecomputing == limited)
            #expect((target.followLimitation(sourceKeys: [pkS], targetKey: pkS) != nil) == limited, "\(policy)")
        }
    }
}
