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

    /// Reads the given data files of `export` (several at once: --segments, default 4) into the writers;
    /// files that could not be read are kept for ``checkExportFailures(_:)``.
    func readExport(_ export: ExportSource, pages: SegmentReader, files: [Int]) async throws {
        let reader = ExportSourceReader(
            export: export, pages: pages, concurrency: options.segments ?? 4, shouldStop: { [self] in isStopping })
        let failures = try await reader.read(files: files)
        if !failures.isEmpty { exportFailures.withLock { $0[export.url] = failures } }
    }

    /// Throws, once everything else read has been written, when data files of `source` could not be read.
    func checkExportFailures(_ source: ResolvedSource) throws {
        guard let failures = exportFailures.withLock({ $0.removeValue(forKey: source.table) }) else { return }
        throw ExportSourceReadError(export: source.table, failures: failures, stateDirectory: options.stateDirectory.path)
    }
}

/// Data files of an export source that could not be read; every other file was migrated.
public struct ExportSourceReadError: Error, CustomStringConvertible {
    public var export: String
    public var failures: [String]
    public var stateDirectory: String

    public var description: String {
        "\(failures.count) data file\(failures.count == 1 ? "" : "s") of export source \(export) could not be read (the other files are migrated): "
            + failures.joined(separator: "; ")
            + "; fix or restore \(failures.count == 1 ? "it" : "them"), then rerun with --resume --state-dir \(stateDirectory) to read only \(failures.count == 1 ? "that file" : "those files")"
    }
}
