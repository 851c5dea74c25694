import Crypto
import DynamoCore
import Foundation
import RunState
import ZlibSupport

/// An export opened for reading: its summary and file list.
public struct ExportReader: Sendable {
    public let location: ExportLocation
    public let summary: ExportSummary
    public let files: [ManifestFileEntry]
    /// Exact bytes of the two manifests, for their checksum files.
    let summaryBytes: [UInt8]
    let filesBytes: [UInt8]

    /// Opens the export in `location` (summary and manifest of files; data files are read later).
    public init(location: ExportLocation) throws(ExportFormatError) {
        self.location = location
        summaryBytes = try Self.read(location.summaryFile)
        summary = try ExportSummary.decode(summaryBytes, file: "manifest-summary.json")
        guard summary.outputFormat == "DYNAMODB_JSON" else {
            throw .malformed(
                file: "manifest-summary.json", line: nil,
                reason: "outputFormat is \(summary.outputFormat); only DYNAMODB_JSON exports can be read")
        }
        filesBytes = try Self.read(location.filesManifest)
        files = try ManifestFileEntry.decodeLines(filesBytes, file: "manifest-files.json")
    }

    /// Opens the single export in `path` (an export folder, or a folder with one `AWSDynamoDB/<id>/`).
    public static func open(_ path: URL) throws(ExportFormatError) -> ExportReader {
        let found = try ExportLocation.find(in: path)
        guard found.count == 1 else {
            throw .severalExports(path.path, ids: found.map(\.exportId))
        }
        return try ExportReader(location: found[0])
    }

    static func read(_ url: URL) throws(ExportFormatError) -> [UInt8] {
        guard FileManager.default.fileExists(atPath: url.path) else { throw .missingFile(url.lastPathComponent) }
        do { return [UInt8](try Data(contentsOf: url)) } catch { throw .unreadable(file: url.lastPathComponent, reason: plainReason(error)) }
    }

    /// Reads one data file, streaming: calls `body` with batches of at most `batchSize` items.
    /// Returns the item count and the MD5 of the file's bytes (as stored, compressed).
    public func forEachItem(
        in entry: ManifestFileEntry, batchSize: Int = 100,
        _ body: ([Item]) async throws -> Void
    ) async throws -> (items: Int, md5: [UInt8]) {
        try await DataFileReader.forEachItem(
            at: location.dataFile(forKey: entry.dataFileS3Key),
            name: "data/" + (entry.dataFileS3Key as NSString).lastPathComponent,
            batchSize: batchSize, body)
    }
}

/// Reads a gzip file of `{"Item":{...}}` lines (ours, and DynamoDB's native exports').
package enum DataFileReader {
    static let chunkSize = 1 << 20

    package static func forEachItem(
        at url: URL, name: String, batchSize: Int,
        _ body: ([Item]) async throws -> Void
    ) async throws -> (items: Int, md5: [UInt8]) {
        guard let handle = try? FileHandle(forReadingFrom: url) else { throw ExportFormatError.missingFile(name) }
        defer { try? handle.close() }
        var md5 = Insecure.MD5()
        let gzip: GzipReader
        do { gzip = try GzipReader() } catch { throw ExportFormatError.unreadable(file: name, reason: "\(error)") }
        var plain: [UInt8] = []
        var lineNumber = 0
        var count = 0
        var batch: [Item] = []
        batch.reserveCapacity(batchSize)

        func takeLines(final: Bool) async throws {
            var start = 0
            while let newline = plain[start...].firstIndex(of: UInt8(ascii: "\n")) {
                lineNumber += 1
                if newline > start { batch.append(try parseLine(Array(plain[start..<newline]), name: name, line: lineNumber)) }
                start = newline + 1
                if batch.count >= batchSize { count += batch.count; try await body(batch); batch.removeAll(keepingCapacity: true) }
            }
            plain.removeFirst(start)
            if final && !plain.isEmpty {
                lineNumber += 1
                batch.append(try parseLine(plain, name: name, line: lineNumber))
                plain.removeAll()
            }
        }

        while true {
            let chunk: Data?
            do { chunk = try handle.read(upToCount: chunkSize) } catch {
                throw ExportFormatError.unreadable(file: name, reason: plainReason(error))
            }
            guard let chunk, !chunk.isEmpty else { break }
            md5.update(data: chunk)
            do {
                try chunk.withUnsafeBytes { try gzip.write($0, into: &plain) }
            } catch {
                throw ExportFormatError.malformed(file: name, line: nil, reason: "not valid gzip data (\(error))")
            }
            try await takeLines(final: false)
        }
        do { try gzip.finish() } catch {
            throw ExportFormatError.malformed(file: name, line: nil, reason: "the gzip data is truncated or damaged (\(error))")
        }
        try await takeLines(final: true)
        if !batch.isEmpty { count += batch.count; try await body(batch) }
        return (count, Array(md5.finalize()))
    }

    static func parseLine(_ bytes: [UInt8], name: String, line: Int) throws(ExportFormatError) -> Item {
        var reader = JSONReader(bytes)
        var item: Item?
        do {
            try reader.readObject { r, key in
                if key == "Item" { item = try r.readItem() } else { try r.skipValue() }
            }
            try reader.finish()
        } catch {
            throw .malformed(file: name, line: line, reason: "\(error)")
        }
        guard let item else { throw .malformed(file: name, line: line, reason: "no \"Item\" in this line") }
        return item
    }
}
