// Migrator's hook for export sources (`source: { export: … }`): described from the export, read from its files.
import DynamoClient
import Foundation
import Mappings
import TableIO

extension Migrator {
    /// The source's description: DescribeTable for a table; for an export, what the export records
    /// (opened here once, kept for reading). Nil when the table does not exist.
    func describeSource(_ source: ResolvedSource) async throws -> TableDescription? {
        guard let spec = source.export else {
            return try await clients.source(source.table).describeTableIfExists(source.table)
        }
        let export = try await ExportSource.open(spec, client: clients.source(source.table))
        exportSources.withLock { $0[source.table] = export }
        logger.info(
            "\(source.table): export source, \(export.files.count) data files, \(export.bytes) bytes\(export.itemCount.map { ", \($0) items" } ?? "")")
        return export.tableDescription
    }

    /// Reads the given data files of `export` (several at once: --segments, default 4) into the writers.
    func readExport(_ export: ExportSource, pages: SegmentReader, files: [Int]) async throws {
        let reader = ExportSourceReader(
            export: export, pages: pages, concurrency: options.segments ?? 4, shouldStop: { [self] in isStopping })
        try await reader.read(files: files)
    }
}
