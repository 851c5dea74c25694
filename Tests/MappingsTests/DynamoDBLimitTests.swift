// Names and sizes DynamoDB refuses (moto accepts them): refused when the mapping loads, with file and line,
// instead of a ValidationException from AWS in the middle of a migration.
import DynamoCore
import Mappings
import Testing

@Suite struct DynamoDBLimitTests {
    static let long = String(repeating: "k", count: 256)

    @Test("index names, key and TTL attribute names and tags beyond DynamoDB's limits are mapping issues")
    func limitsAreIssues() {
        #expect(
            issueLines(
                """
                version: 1
                tables:
                  - source: a-old
                    target: a-new
                    settings:
                      key: { partition: { name: \(Self.long), type: S } }
                      global-secondary-indexes:
                        - { name: ix, partition: { name: e, type: S } }
                        - { name: by email, partition: { name: e, type: S } }
                      ttl: \(Self.long)
                      tags: { \(String(repeating: "t", count: 129)): x, team: \(String(repeating: "v", count: 257)) }
                """) == [
                    "m.yaml:6:33: 'name' 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk…' is 256 bytes long; DynamoDB allows key and TTL attribute names of at most 255 bytes",
                    "m.yaml:8:19: global secondary index name 'ix' is 2 characters long; DynamoDB needs 3 to 255; use 3 to 255 letters, digits, '_', '-' and '.'",
                    "m.yaml:9:19: global secondary index name 'by email' contains ' ', which DynamoDB does not allow; use 3 to 255 letters, digits, '_', '-' and '.'",
                    "m.yaml:10:12: 'ttl' 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk…' is 256 bytes long; DynamoDB allows key and TTL attribute names of at most 255 bytes",
                    "m.yaml:11:15: tag key 'tttttttttttttttttttttttttttttttttttttttt' is 129 characters long; DynamoDB allows 1 to 128",
                    "m.yaml:11:155: the value of tag 'team' is 257 characters long; DynamoDB allows at most 256",
                ])
    }

    @Test("names exactly at DynamoDB's limits load: a 255-character index name, a 255-byte key attribute name")
    func limitsThemselvesLoad() throws {
        let keyName = String(repeating: "é", count: 127) + "x"  // 255 bytes of UTF-8
        let doc = try load(
            """
            version: 1
            tables:
              - source: a-old
                target: a-new
                settings:
                  key: { partition: { name: \(keyName), type: S } }
                  global-secondary-indexes:
                    - { name: \(String(repeating: "i", count: 255)), partition: { name: \(keyName), type: S } }
                  ttl: \(keyName)
                  tags: { \(String(repeating: "t", count: 128)): \(String(repeating: "v", count: 256)) }
            """)
        let target = try #require(doc.resolve(existingTables: ["a-old"]).targets.first)
        #expect(target.settings.key?.partition.name == keyName)
    }

    @Test("a glob target longer than 255 characters once the source's capture is filled in is refused at resolution")
    func globTargetTooLong() throws {
        let capture = String(repeating: "s", count: 245)
        let source = "legacy-" + capture  // 252 characters: a valid table name
        let doc = try load(
            """
            version: 1
            tables:
              - source: "legacy-*"
                target: "omnix-ai-prod-*"
            """)
        #expect(try doc.resolve(existingTables: ["legacy-ok"]).targets.map(\.name) == ["omnix-ai-prod-ok"])
        #expect(
            resolutionIssues(doc, [source, "legacy-ok"]) == [
                "m.yaml:4:13: target 'omnix-ai-prod-\(capture)' is 259 characters long; DynamoDB needs 3 to 255 (its name comes from source '\(source)'); shorten the target pattern or name this source's target explicitly"
            ])
    }
}

/// The issue lines resolving `doc` against `tables` produces (empty when it resolves).
private func resolutionIssues(_ doc: MappingDocument, _ tables: [String]) -> [String] {
    do {
        _ = try doc.resolve(existingTables: tables)
        return []
    } catch {
        return error.issues.map(\.description)
    }
}

/// Key values DynamoDB refuses (and with them the whole BatchWriteItem they are in): the item fails alone.
@Suite struct KeyValueLimitTests {
    @Test("an empty key value or one over 2048 (partition) / 1024 (sort) bytes fails the item, naming the attribute; the limits themselves pass")
    func keyValueLimits() throws {
        let doc = try load(
            """
            version: 1
            tables:
              - source: a-old
                target: a-new
            """)
        let source = try #require(doc.resolve(existingTables: ["a-old"]).targets.first?.sources.first)
        let t = source.itemTransform(
            targetKey: KeySchemaSpec(
                partition: KeyAttributeSpec(name: "pk", type: .s),
                sort: KeyAttributeSpec(name: "sk", type: .b)))
        #expect(
            transformError(t, ["pk": .s(""), "sk": .b([1])])?.description
                == "m.yaml:3:13: key: attribute 'pk' is empty after the transforms; DynamoDB does not allow an empty partition key")
        #expect(
            transformError(t, ["pk": .s("a"), "sk": .b([])])?.description
                == "m.yaml:3:13: key: attribute 'sk' is empty after the transforms; DynamoDB does not allow an empty sort key")
        #expect(
            transformError(t, ["pk": .s(String(repeating: "é", count: 1025)), "sk": .b([1])])?.description
                == "m.yaml:3:13: key: attribute 'pk' is 2050 bytes after the transforms; DynamoDB allows at most 2048 in a partition key")
        #expect(
            transformError(t, ["pk": .s("a"), "sk": .b(Array(repeating: 7, count: 1025))])?.description
                == "m.yaml:3:13: key: attribute 'sk' is 1025 bytes after the transforms; DynamoDB allows at most 1024 in a sort key")
        let atTheLimits: Item = ["pk": .s(String(repeating: "p", count: 2048)), "sk": .b(Array(repeating: 7, count: 1024))]
        #expect(try t.apply(atTheLimits) == atTheLimits)
    }
}
