import AWSAuth
import DynamoClient
import DynamoCore
import Foundation
import Mappings
import Pipeline
import RunState
import TableIO
import TestSupport
import Testing

func key(_ name: String, _ type: ScalarAttributeType = .string) -> KeyAttribute {
    KeyAttribute(name: name, type: type)
}

/// Creates a table and waits until it is ACTIVE.
func createTable(_ client: DynamoDBClient, _ input: CreateTableInput) async throws {
    try await client.createTable(input)
    try await client.waitUntilActive(input.name, pollInterval: .milliseconds(50))
}

/// Writes items in batches of 25, resending UnprocessedItems.
func writeAll(_ client: DynamoDBClient, _ table: String, _ items: [Item]) async throws {
    var start = 0
    while start < items.count {
        var pending = Array(items[start..<min(start + 25, items.count)]).map { WriteRequest.put($0) }
        while !pending.isEmpty {
            pending = try await client.batchWriteItem([table: pending]).unprocessedItems[table] ?? []
        }
        start += 25
    }
}

/// Every item of a table, by full scan.
func scanAll(_ client: DynamoDBClient, _ table: String) async throws -> [Item] {
    var items: [Item] = []
    var start: Item?
    repeat {
        let page = try await client.scan(ScanInput(table: table, exclusiveStartKey: start))
        items += page.items
        start = page.lastEvaluatedKey
    } while start != nil
    return items
}

/// Loads mapping YAML (written to a temporary file, as the CLI would read it) and resolves it against
/// this test's own tables only, so tables of tests running alongside never show up as unaccounted.
func resolve(_ yaml: String, client: DynamoDBClient, prefix: String) async throws -> (ResolvedMapping, String) {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix).yaml").path
    try Data(yaml.utf8).write(to: URL(fileURLWithPath: path))
    let document = try MappingLoader.load(path: path, env: nil)
    let tables = try await client.listTables().filter { $0.hasPrefix(prefix) }
    return (try document.resolve(existingTables: tables), path)
}

/// Everything a plan could change about a set of tables.
struct EstateSnapshot: Equatable {
    struct TableState: Equatable {
        var description: JSON
        var items: Set<Item>
        var pointInTimeRecovery: ContinuousBackups
        var timeToLive: TimeToLive
        var tags: [String: String]
        var backups: [String]
    }

    var tableNames: [String]
    var tables: [String: TableState]

    static func take(_ client: DynamoDBClient, prefix: String) async throws -> EstateSnapshot {
        let names = try await client.listTables().filter { $0.hasPrefix(prefix) }.sorted()
        let backups = try await client.listBackups()
        var tables: [String: TableState] = [:]
        for name in names {
            let description = try await client.describeTable(name)
            tables[name] = TableState(
                description: description.raw,
                items: Set(try await scanAll(client, name)),
                pointInTimeRecovery: try await client.describeContinuousBackups(table: name),
                timeToLive: try await client.describeTimeToLive(name),
                tags: try await client.listTags(arn: description.arn ?? ""),
                backups: backups.filter { $0.tableName == name }.map(\.arn).sorted())
        }
        return EstateSnapshot(tableNames: names, tables: tables)
    }
}
