import ArgumentParser
import DynamoClient
import Foundation
import Mappings
import RunState
import TableIO

/// `dynamo-migrate tables`: what the endpoint holds.
struct TablesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tables",
        abstract: "List the endpoint's tables with status, key schema, billing, size, PITR and deletion protection.",
        discussion: "Item counts and sizes come from DescribeTable, which DynamoDB refreshes about every six hours.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "Only tables whose name matches this glob (* any run of characters, ? one character).")
    var match: String?

    @OptionGroup var outputFormat: OutputFormatOptions

    struct Row: Encodable {
        var name: String
        var status: String
        var keySchema: String
        var partitionKey: String
        var sortKey: String?
        var billingMode: String
        var readCapacity: Int?
        var writeCapacity: Int?
        var itemCount: Int
        var sizeBytes: Int
        var pointInTimeRecovery: Bool
        var deletionProtection: Bool
    }

    func run() async throws {
        try await runReportingErrors {
            let glob = try matchGlob(match)
            let client = try global.makeClient()
            var names = try await client.listTables()
            if let glob { names = names.filter(glob.matches) }
            let rows = try await describeAll(names, client: client)
            if outputFormat.json {
                print(try jsonText(rows))
                return
            }
            if rows.isEmpty {
                print(match.map { "no tables match \($0) at \(client.configuration.endpoint)" } ?? "no tables at \(client.configuration.endpoint)")
                return
            }
            var table = TextTable(["TABLE", "STATUS", "KEY SCHEMA", "BILLING", "ITEMS", "SIZE", "PITR", "DEL.PROT."], rightAligned: [4, 5])
            for row in rows {
                let billing = row.billingMode == "PROVISIONED" ? "provisioned \(row.readCapacity ?? 0)/\(row.writeCapacity ?? 0)" : "on-demand"
                table.add([
                    row.name, row.status, row.keySchema, billing, formatCount(row.itemCount), formatBytes(row.sizeBytes),
                    row.pointInTimeRecovery ? "on" : "OFF", row.deletionProtection ? "on" : "off",
                ])
            }
            print(table.render())
            print("\n\(rows.count) table\(rows.count == 1 ? "" : "s"); item counts and sizes are DescribeTable's, refreshed by DynamoDB about every six hours.")
        }
    }

    func describeAll(_ names: [String], client: DynamoDBClient) async throws -> [Row] {
        try await withThrowingTaskGroup(of: (Int, Row?).self) { group in
            var rows = [Row?](repeating: nil, count: names.count)
            var next = 0
            func addTask() {
                let index = next
                let name = names[index]
                next += 1
                group.addTask {
                    // A table deleted between ListTables and DescribeTable is simply left out.
                    guard let table = try await client.describeTableIfExists(name) else { return (index, nil) }
                    let pitr = try await client.describeContinuousBackups(table: name)
                    var read: Int?, write: Int?
                    if case .provisioned(let r, let w) = table.billingMode { read = r; write = w }
                    return (
                        index,
                        Row(
                            name: name, status: table.status, keySchema: table.keySchema.description,
                            partitionKey: table.keySchema.partitionKey.name, sortKey: table.keySchema.sortKey?.name,
                            billingMode: table.billingMode.name, readCapacity: read, writeCapacity: write,
                            itemCount: table.itemCount, sizeBytes: table.sizeBytes,
                            pointInTimeRecovery: pitr.isPointInTimeRecoveryEnabled,
                            deletionProtection: table.deletionProtection)
                    )
                }
            }
            for _ in 0..<min(8, names.count) { addTask() }
            while let (index, row) = try await group.next() {
                rows[index] = row
                if next < names.count { addTask() }
            }
            return rows.compactMap { $0 }
        }
    }
}
