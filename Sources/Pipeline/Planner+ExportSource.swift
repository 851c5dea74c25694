// plan's hook for export sources: described from the export, sampled from its first data file.
import DynamoClient
import DynamoCore
import Foundation
import Mappings
import TableIO

extension Planner {
    /// DescribeTable for a table; what the export records for an export (nil: no such table).
    func describePlanSource(_ source: ResolvedSource) async throws -> TableDescription? {
        guard let spec = source.export else { return try await clients.source(source.table).describeTableIfExists(source.table) }
        return try await ExportSource.open(spec, client: clients.source(source.table)).tableDescription
    }

    /// The first `sampleSize` items: one Scan page of a table, or the start of an export's first data file.
    func sampleItems(_ source: ResolvedSource) async throws -> [Item] {
        guard let spec = source.export else {
            return Array(
                try await clients.source(source.table).scan(ScanInput(table: source.table, limit: options.sampleSize)).items.prefix(options.sampleSize))
        }
        let export = try await ExportSource.open(spec, client: clients.source(source.table))
        guard let file = export.files.first else { return [] }
        let staging = FileManager.default.temporaryDirectory.appendingPathComponent("dynamo-migrate-plan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: staging) }
        var items: [Item] = []
        do {
            _ = try await export.forEachItem(in: file, staging: staging, batchSize: max(1, options.sampleSize)) { batch in
                items.append(contentsOf: batch.prefix(options.sampleSize - items.count))
                if items.count >= options.sampleSize { throw SampleTaken() }
            }
        } catch is SampleTaken {}
        return items
    }

    func plannedExport(_ source: ResolvedSource) async throws -> PlannedExport? {
        guard let spec = source.export else { return nil }
        let export = try await ExportSource.open(spec, client: clients.source(source.table))
        return PlannedExport(
            url: export.url, dataFiles: export.files.count, items: export.itemCount, bytes: export.bytes,
            hasManifests: export.hasManifests, exportedTable: export.tableName)
    }
}

/// Ends reading a data file once the samples are taken.
private struct SampleTaken: Error {}
