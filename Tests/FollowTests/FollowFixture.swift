// Shared pieces of the follow tests: a source with a stream, a writer that keeps changing it, and the
// comparison of a target with the projection of its source.
import DynamoClient
import DynamoCore
import Follow
import Foundation
import Mappings
import Pipeline
import RunState
import Synchronization
import TableIO
import TestSupport
import Testing

/// A client on the real clock: the follower's polls and idle period are real time.
func realClient(_ endpoint: String = localEndpoint) -> DynamoDBClient {
    makeClient(endpoint: endpoint, sleeper: ShiftedDateClock(by: 0))
}

/// A source table keyed `pk` with a NEW_AND_OLD_IMAGES stream and `count` items, half `active`.
func makeStreamSource(_ client: DynamoDBClient, prefix: String, count: Int) async throws -> String {
    let name = TestEnvironment.uniqueTableName(prefix)
    try await client.createTable(
        CreateTableInput(
            name: name, keySchema: KeySchema(partitionKey: KeyAttribute(name: "pk", type: .string), sortKey: nil),
            billingMode: .payPerRequest, stream: .newAndOldImages))
    try await client.waitUntilActive(name, pollInterval: .milliseconds(50))
    try await writeAll(client, name, (0..<count).map { sourceItem($0, version: 0) })
    return name
}

func sourceItem(_ i: Int, version: Int) -> Item {
    ["pk": .s("k\(i)"), "status": .s((i + version) % 2 == 0 ? "active" : "archived"), "v": .n(DynamoNumber(version)), "body": .s("item \(i) v\(version)")]
}

/// A mapping from `source` to `target`: `pk` renamed to `id`, only `active` items, plus a constant.
func followMapping(source: String, target: String) -> String {
    """
    version: 1
    tables:
      - source: \(source)
        target: \(target)
        settings:
          key: { partition: { name: id, type: S } }
        transforms:
          - rename: { pk: id }
          - filter: { attribute: status, equals: active }
          - set: { origin: "{source}" }
    """
}

func resolve(_ yaml: String, client: DynamoDBClient) async throws -> ResolvedMapping {
    try MappingLoader.parse(yaml: yaml, file: "test.yaml", env: nil).resolve(existingTables: try await client.listTables())
}

/// Changes a source the way applications do: new items, updates that move items in and out of the
/// filter, deletes (and re-creations of deleted keys). Deterministic for a seed.
struct SourceWriter: Sendable {
    let client: DynamoDBClient
    let table: String
    let initial: Int

    func run(operations: Range<Int>, seed: UInt64) async throws {
        var random = SeededRandom(seed: seed)
        for step in operations {
            let i = Int(random.next() % UInt64(initial + 40))
            switch random.next() % 5 {
            case 0: try await client.deleteItem(table: table, key: ["pk": .s("k\(i)")])
            default: try await client.putItem(table: table, item: sourceItem(i, version: step + 1))
            }
        }
    }
}

/// Every item of `target` must be exactly the projection of a `source` item, and every projected
/// source item must be there.
func expectTargetEqualsProjection(source: String, target: String, mapping: ResolvedMapping, client: DynamoDBClient) async throws {
    let targetKey = try await client.describeTable(target).keySchema
    let resolvedSource = try #require(mapping.targets.first { $0.name == target }?.sources.first)
    let transform = resolvedSource.itemTransform(targetKey: targetKey.spec)
    var expected: [Item: Item] = [:]
    for item in try await scanAll(client, source) {
        if case .written(let out, let key, _) = project(item, through: transform, targetKey: targetKey) { expected[key] = out }
    }
    var actual: [Item: Item] = [:]
    for item in try await scanAll(client, target) { actual[try #require(targetKey.key(of: item))] = item }
    let missing = expected.keys.filter { actual[$0] == nil }
    let extra = actual.keys.filter { expected[$0] == nil }
    let changed = expected.keys.filter { actual[$0] != nil && actual[$0] != expected[$0] }
    #expect(missing.isEmpty, "\(target) lacks \(missing.count) items, e.g. \(missing.prefix(3))")
    #expect(extra.isEmpty, "\(target) has \(extra.count) items no source item projects to, e.g. \(extra.prefix(3))")
    #expect(changed.isEmpty, "\(target) has \(changed.count) stale items, e.g. \(changed.prefix(2).map { (expected[$0]!, actual[$0]!) })")
    #expect(actual.count == expected.count)
}
