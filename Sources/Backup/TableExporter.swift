import Crypto
import DynamoClient
import DynamoCore
import Foundation
import Logging
import RunState
import Synchronization
import TableIO
import ZlibSupport

/// Settings of one export.
public struct ExportOptions: Sendable {
    /// Parallel scan segments (and so at most this many data files written at once).
    public var segments: Int
    /// gzip level 0-9.
    public var gzipLevel: Int
    /// A data file is closed and a new one started once this many bytes of JSON lines (before
    /// compression; zlib holds compressed output back, so that is the size known as lines go in) went into it.
    public var maxFileBytes: Int
    /// Scan `Limit` per page; nil for DynamoDB's 1 MB pages.
    public var pageLimit: Int?
    /// The bucket, prefix and encryption the export is published to, recorded in its summary as
    /// DynamoDB records them; nil for an export that stays local.
    public var s3: ExportS3Fields?

    public init(segments: Int = 4, gzipLevel: Int = 6, maxFileBytes: Int = 1 << 30, pageLimit: Int? = nil, s3: ExportS3Fields? = nil) {
        self.segments = segments; self.gzipLevel = gzipLevel; self.maxFileBytes = maxFileBytes; self.pageLimit = pageLimit
        self.s3 = s3
    }
}

/// What an export produced.
public struct ExportResult: Sendable {
    public var location: ExportLocation
    public var summary: ExportSummary
    public var files: [ManifestFileEntry]
    public var compressedBytes: Int
    public var durationSeconds: Double
}

/// Why an export, import or verification could not be done.
public enum BackupError: Error, Sendable, CustomStringConvertible {
    case tableNotFound(String)
    case io(path: String, reason: String)
    case format(ExportFormatError)
    case invalidOption(String)
    case itemRejected(file: String, line: Int, reason: String)
    case client(DynamoDBError)
    case other(String)

    public var description: String {
        switch self {
        case .tableNotFound(let t): "table \(t) does not exist at this endpoint"
        case .io(let p, let r): "\(p): \(r)"
        case .format(let e): e.description
        case .invalidOption(let m): m
        case .itemRejected(let f, let l, let r): "\(f), line \(l): \(r)"
        case .client(let e): e.description
        case .other(let m): m
        }
    }
}

/// Streams a table into DynamoDB's S3 export layout on a local disk: a parallel scan, one gzip data
/// file per segment (rolled at `maxFileBytes`), memory bounded by one page per segment.
public struct TableExporter: Sendable {
    public let client: DynamoDBClient
    public let checksummer: any ContentChecksummer
    public let logger: Logger

    public init(
        client: DynamoDBClient, checksummer: any ContentChecksummer = MultisetContentChecksummer(),
        logger: Logger = Logger(label: "dynamo-migrate.export")
    ) {
        self.client = client; self.checksummer = checksummer; self.logger = logger
    }

    /// Exports `table` into `<directory>/AWSDynamoDB/<new export id>/`.
    /// - Parameter progress: called after each page with the items written so far.
    public func export(
        table: String, to directory: URL, options: ExportOptions = ExportOptions(),
        progress: @escaping @Sendable (Int) -> Void = { _ in }
    ) async throws -> ExportResult {
        guard (0...9).contains(options.gzipLevel) else { throw BackupError.invalidOption("--gzip-level must be 0 to 9, not \(options.gzipLevel)") }
        guard options.segments >= 1 else { throw BackupError.invalidOption("--segments must be at least 1") }
        let description: TableDescription
        do {
            // A missing table is the client's ResourceNotFoundException, which names the region and endpoint.
            description = try await client.describeTable(table)
        } catch {
            throw BackupError.client(error)
        }

        let started = Date()
        let clock = ContinuousClock.now
        let exportId = Self.newExportId(at: started)
        let location = ExportLocation(directory: directory.appendingPathComponent("AWSDynamoDB").appendingPathComponent(exportId))
        do {
            try FileManager.default.createDirectory(at: location.dataDirectory, withIntermediateDirectories: true)
            // DynamoDB writes an empty _started marker first; so do we.
            _ = FileManager.default.createFile(atPath: location.directory.appendingPathComponent("_started").path, contents: Data())
        } catch {
            throw BackupError.io(path: location.directory.path, reason: "cannot create the export folder: \(plainReason(error))")
        }

        let sinks = try (0..<options.segments).map { segment in
            try SegmentSink(segment: segment, location: location, options: options, checksummer: checksummer)
        }
        let written = Atomic<Int>(0)
        let scan = ParallelScan(client: client, table: table, totalSegments: options.segments, pageLimit: options.pageLimit)
        do {
            try await scan.forEachPage { segment, page in
                // Pages of one segment arrive in order, one at a time: the sink is not shared.
                try sinks[segment].write(page.items)
                let total = written.add(page.items.count, ordering: .relaxed).newValue
                progress(total)
            }
            for sink in sinks { try sink.close() }
        } catch let error as DynamoDBError {
            sinks.forEach { $0.abandon() }
            throw BackupError.client(error)
        } catch {
            sinks.forEach { $0.abandon() }
            throw error
        }

        let files = sinks.flatMap(\.entries)
        var checksum = checksummer.empty
        for sink in sinks { checksum = checksummer.combine(checksum, sink.checksum) }
        let itemCount = files.reduce(0) { $0 + $1.itemCount }
        let extras = ExportExtras(
            tableName: table, contentChecksum: checksum, keySchema: description.keySchema,
            billingMode: description.billingMode.name,
            globalSecondaryIndexes: description.globalSecondaryIndexes.map(IndexRecord.init),
            localSecondaryIndexes: description.localSecondaryIndexes.map(IndexRecord.init),
            segments: options.segments, gzipLevel: options.gzipLevel,
            uncompressedBytes: sinks.reduce(0) { $0 + $1.uncompressedBytes })
        let ended = Date()
        let tableArn = description.arn
        var summary = ExportSummary(
            exportArn: tableArn.map { "\($0)/export/\(exportId)" }, startTime: started, endTime: ended,
            tableArn: tableArn, tableId: description.raw["TableId"]?.stringValue, exportTime: started,
            manifestFilesS3Key: "AWSDynamoDB/\(exportId)/manifest-files.json",
            billedSizeBytes: sinks.reduce(0) { $0 + $1.itemBytes }, itemCount: itemCount, dynamoMigrate: extras)
        if let s3 = options.s3 {
            summary.s3Bucket = s3.bucket
            summary.s3Prefix = s3.prefix
            summary.s3SseAlgorithm = s3.sseAlgorithm
            summary.s3SseKmsKeyId = s3.kmsKeyId
        }

        // Manifests last, so an export without them is visibly incomplete.
        let filesBytes = files.flatMap { $0.encodedLine() }
        let summaryBytes = try summary.encoded()
        try Self.write(filesBytes, to: location.filesManifest)
        try Self.write(Array(Digests.md5Base64(filesBytes).utf8), to: location.directory.appendingPathComponent("manifest-files.md5"))
        try Self.write(summaryBytes, to: location.summaryFile)
        try Self.write(Array(Digests.md5Base64(summaryBytes).utf8), to: location.directory.appendingPathComponent("manifest-summary.md5"))

        let elapsed = ContinuousClock.now - clock
        return ExportResult(
            location: location, summary: summary, files: files,
            compressedBytes: sinks.reduce(0) { $0 + $1.compressedBytes },
            durationSeconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    /// `01700000000000-1a2b3c4d`: milliseconds since 1970 (14 digits) and 8 random hex digits, like DynamoDB's.
    static func newExportId(at date: Date) -> String {
        let millis = Int64(date.timeIntervalSince1970 * 1000)
        let digits = String(millis)
        let random = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        return String(repeating: "0", count: max(0, 14 - digits.count)) + digits + "-"
            + String(repeating: "0", count: 8 - random.count) + random
    }

    static func write(_ bytes: [UInt8], to url: URL) throws {
        do {
            try writeAtomically(Data(bytes), to: url)
        } catch {
            throw BackupError.io(path: url.path, reason: "\(error)")
        }
    }
}

/// One segment's data files: JSON lines through gzip to disk, MD5 computed on the way.
final class SegmentSink: @unchecked Sendable {
    // Only the segment's own scan task touches a sink (pages of a segment arrive one at a time),
    // and the exporter reads the results after the scan has finished.
    let segment: Int
    let location: ExportLocation
    let options: ExportOptions
    let checksummer: any ContentChecksummer
    private(set) var entries: [ManifestFileEntry] = []
    private(set) var checksum: ContentChecksum
    private(set) var uncompressedBytes = 0
    private(set) var compressedBytes = 0
    private(set) var itemBytes = 0

    private var part = 0
    private var handle: FileHandle?
    private var path: URL?
    private var gzip: GzipWriter?
    private var md5 = Insecure.MD5()
    private var fileItems = 0
    private var fileBytes = 0
    private var fileUncompressed = 0
    private var line: [UInt8] = []
    private var out: [UInt8] = []

    init(segment: Int, location: ExportLocation, options: ExportOptions, checksummer: any ContentChecksummer) throws {
        self.segment = segment; self.location = location; self.options = options; self.checksummer = checksummer
        self.checksum = checksummer.empty
    }

    func write(_ items: [Item]) throws {
        guard !items.isEmpty else { return }
        if handle == nil { try open() }
        checksum = checksummer.combine(checksum, checksummer.checksum(items: items))
        line.removeAll(keepingCapacity: true)
        for item in items {
            var w = JSONWriter(capacity: 256)
            w.beginObject()
            w.key("Item")
            w.item(item)
            w.endObject()
            line.append(contentsOf: w.bytes)
            line.append(UInt8(ascii: "\n"))
            itemBytes += dynamoDBItemSize(item)
        }
        out.removeAll(keepingCapacity: true)
        do {
            try line.withUnsafeBytes { try gzip!.write($0, into: &out) }
        } catch {
            throw BackupError.io(path: path!.path, reason: "\(error)")
        }
        try emit(out)
        uncompressedBytes += line.count
        fileUncompressed += line.count
        fileItems += items.count
        if fileUncompressed >= options.maxFileBytes { try finishFile() }
    }

    func close() throws {
        if handle != nil { try finishFile() }
    }

    /// Removes a half-written file after a failure.
    func abandon() {
        try? handle?.close()
        handle = nil
        if let path { try? FileManager.default.removeItem(at: path) }
    }

    private func open() throws {
        part += 1
        let name = String(format: "segment-%04d-part-%04d.json.gz", segment, part)
        let url = location.dataDirectory.appendingPathComponent(name)
        guard FileManager.default.createFile(atPath: url.path, contents: nil),
            let handle = try? FileHandle(forWritingTo: url)
        else {
            throw BackupError.io(path: url.path, reason: "cannot create the data file")
        }
        do { gzip = try GzipWriter(level: options.gzipLevel) } catch { throw BackupError.io(path: url.path, reason: "\(error)") }
        self.handle = handle
        self.path = url
        md5 = Insecure.MD5()
        fileItems = 0
        fileBytes = 0
        fileUncompressed = 0
    }

    private func emit(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        md5.update(data: bytes)
        do { try handle!.write(contentsOf: bytes) } catch { throw BackupError.io(path: path!.path, reason: plainReason(error)) }
        fileBytes += bytes.count
        compressedBytes += bytes.count
    }

    private func finishFile() throws {
        out.removeAll(keepingCapacity: true)
        do { try gzip!.finish(into: &out) } catch { throw BackupError.io(path: path!.path, reason: "\(error)") }
        try emit(out)
        do {
            try handle!.synchronize()
            try handle!.close()
        } catch {
            throw BackupError.io(path: path!.path, reason: plainReason(error))
        }
        let digest = Array(md5.finalize())
        entries.append(
            ManifestFileEntry(
                itemCount: fileItems, md5Checksum: Base64.encode(digest), etag: Digests.hex(digest),
                dataFileS3Key: "AWSDynamoDB/\(location.exportId)/data/\(path!.lastPathComponent)"))
        handle = nil
        gzip = nil
    }
}
