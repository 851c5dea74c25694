import DynamoClient
import DynamoCore
import Foundation
import Mappings
import Pipeline
import RunState
import TableIO
import TestSupport
import Testing

/// Loads mapping YAML, resolves it against the server's tables and runs the migrator.
func migrate(
    _ yaml: String, client: DynamoDBClient, stateDirectory: URL,
    configure: (inout MigrationOptions) -> Void = { _ in }
) async throws -> (MigrationReport, ResolvedMapping) {
    let resolved = try await resolve(yaml, client: client)
    var options = MigrationOptions(stateDirectory: stateDirectory, planFingerprint: "test")
    options.writersPerTarget = 2
    configure(&options)
    let report = try await Migrator(client: client, mapping: resolved, options: options).run()
    return (report, resolved)
}

func resolve(_ yaml: String, client: DynamoDBClient) async throws -> ResolvedMapping {
    let document = try MappingLoader.parse(yaml: yaml, file: "test.yaml", env: nil)
    return try document.resolve(existingTables: try await client.listTables())
}

/// What a target must hold: every source item through its transform, merged in mapping order under
/// the target's conflict policy. Items that fail a transform or grow over 400 KB are left out (the
/// migrator dead-letters them).
func expectedItems(of target: ResolvedTarget, keySchema: KeySchema, client: DynamoDBClient) async throws -> [Item: Item] {
    var expected: [Item: Item] = [:]
    for source in target.sources {
        let transform = source.itemTransform(targetKey: keySchema.spec)
        for item in try await scanAll(client, source.table) {
            guard let out = try? transform.apply(item), let key = keySchema.key(of: out),
                dynamoDBItemSize(out) <= DynamoDBLimits.maxItemBytes
            else { continue }
            switch target.conflict {
            case .overwrite: expected[key] = out
            case .keepExisting, .fail: if expected[key] == nil { expected[key] = out }
            }
        }
    }
    return expected
}

/// Every item of a table by primary key.
func actualItems(_ table: String, client: DynamoDBClient) async throws -> [Item: Item] {
    let key = try await client.describeTable(table).keySchema
    var result: [Item: Item] = [:]
    for item in try await scanAll(client, table) {
        let k = try #require(key.key(of: item))
        #expect(result[k] == nil, "key \(k) appears twice in \(table)")
        result[k] = item
    }
    return result
}

/// Requires every target of the mapping to hold exactly what the sources should produce.
func expectTargetsMatchSources(
    _ resolved: ResolvedMapping, client: DynamoDBClient,
    sourceLocation: Testing.SourceLocation = #_sourceLocation
) async throws {
    for target in resolved.targets {
        let keySchema = try await client.describeTable(target.name).keySchema
        let expected = try await expectedItems(of: target, keySchema: keySchema, client: client)
        let actual = try await actualItems(target.name, client: client)
        #expect(actual.count == expected.count, "item count of \(target.name)", sourceLocation: sourceLocation)
        let missing = expected.keys.filter { actual[$0] == nil }
        let extra = actual.keys.filter { expected[$0] == nil }
        let changed = expected.keys.filter { actual[$0] != nil && actual[$0] != expected[$0] }
        #expect(missing.isEmpty, "\(target.name) lacks \(missing.count) items, e.g. \(missing.prefix(3))", sourceLocation: sourceLocation)
        #expect(extra.isEmpty, "\(target.name) has \(extra.count) unexpected items", sourceLocation: sourceLocation)
        #expect(
            changed.isEmpty, "\(target.name) has \(changed.count) changed items, e.g. \(changed.prefix(1).map { (expected[$0]!, actual[$0]!) })",
            sourceLocation: sourceLocation)
    }
}

/// Source tables for the merge tests: `A` keyed by id, `B` keyed by uid, overlapping on ids 100..<150.
struct MergeFixture {
    let a: String
    let b: String
    let target: String

    static func make(_ client: DynamoDBClient, prefix: String, countA: Int = 150, countB: Int = 100) async throws -> MergeFixture {
        let a = TestEnvironment.uniqueTableName("\(prefix)-a")
        let b = TestEnvironment.uniqueTableName("\(prefix)-b")
        try await client.createTable(CreateTableInput(name: a, keySchema: KeySchema(partitionKey: KeyAttribute(name: "id", type: .string))))
        try await client.createTable(
            CreateTableInput(
                name: b, keySchema: KeySchema(partitionKey: KeyAttribute(name: "uid", type: .string)),
                globalSecondaryIndexes: [SecondaryIndex(name: "byStatus", keySchema: KeySchema(partitionKey: KeyAttribute(name: "status", type: .string)))]))
        try await client.waitUntilActive(a, pollInterval: .milliseconds(50))
        try await client.waitUntilActive(b, pollInterval: .milliseconds(50))
        let itemsA: [Item] = (0..<countA).map { i in
            [
                "id": .s(String(format: "u%04d", i)), "name": .s("Ada \(i) ✓"), "price": .s("\(i).50"),
                "createdAt": .n(DynamoNumber(1_700_000_000 + i)), "tags": .ss(["a", "t\(i % 7)"]),
            ]
        }
        let itemsB: [Item] = (0..<countB).map { i in
            let n = i + 100
            return [
                "uid": .s(String(format: "u%04d", n)), "name": .s("Bob \(n)"), "status": .s(n % 10 == 0 ? "deleted" : "active"),
                "score": .n(DynamoNumber(unchecked: "\(n).25")), "blob": .b([UInt8(n % 256), 1, 2]),
            ]
        }
        try await writeAll(client, a, itemsA)
        try await writeAll(client, b, itemsB)
        return MergeFixture(a: a, b: b, target: TestEnvironment.uniqueTableName("\(prefix)-target"))
    }

    func yaml(conflict: String = "overwrite") -> String {
        """
        version: 1
        tables:
          - target: \(target)
            conflict: \(conflict)
            settings:
              key: { partition: { name: id, type: S } }
            sources:
              - table: \(a)
                transforms:
                  - convert: { price: number, createdAt: iso8601-from-epoch-seconds }
                  - set: { origin: "{source}" }
              - table: \(b)
                transforms:
                  - rename: { uid: id }
                  - filter: { attribute: status, not-equals: deleted }
        """
    }

    func delete(_ client: DynamoDBClient) async {
        for table in [a, b, target] { try? await client.deleteTable(table) }
    }
}
