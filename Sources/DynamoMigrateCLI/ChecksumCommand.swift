import ArgumentParser
import Foundation
import RunState
import TableIO
import Verification

/// `dynamo-migrate checksum`: order-independent content checksums of tables.
struct ChecksumCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checksum",
        abstract: "Compute an order-independent content checksum of each table (item count, canonical bytes, 128-bit hash).",
        discussion: """
            Each table is read with one parallel scan. Two tables with the same items (attribute order, set \
            member order and number spelling aside) have the same checksum; see docs/checksums.md for the \
            exact encoding. --json adds the 256 per-bucket checksums, keyed by the hash of each item's primary key.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Tables to checksum.")
    var tables: [String]

    @OptionGroup var scan: ScanOptions

    @OptionGroup var outputFormat: OutputFormatOptions

    struct Row: Encodable {
        var table: String
        var checksum: TableChecksum
    }

    func validate() throws {
        if tables.isEmpty { throw ValidationError("name at least one table") }
        try validateTableNames(tables)
    }

    func run() async throws {
        try await runReportingErrors {
            let client = try global.makeClient()
            let checksummer = Checksummer(client: client, segments: scan.segments)
            var rows: [Row] = []
            for table in tables {
                do {
                    rows.append(Row(table: table, checksum: try await checksummer.checksum(table: table)))
                } catch let error as VerificationError {
                    throw CLIError.failed(error.description)
                }
            }
            if outputFormat.json {
                print(try jsonText(rows))
                return
            }
            var text = TextTable(["TABLE", "ITEMS", "BYTES", "HASH"], rightAligned: [1, 2])
            for row in rows {
                text.add([
                    row.table, formatCount(row.checksum.itemCount), formatCount(row.checksum.canonicalBytes),
                    row.checksum.hash.hex,
                ])
            }
            print(text.render())
        }
    }
}
