import Crypto
import DynamoClient
import DynamoCore
import Foundation
import RunState

/// `manifest-summary.json` of an export, as DynamoDB writes it (fields per "DynamoDB table export
/// output format"), plus our own `dynamoMigrate` object, which DynamoDB's exports lack.
public struct ExportSummary: Sendable, Equatable {
    public var version = "2020-06-30"
    public var exportArn: String?
    public var startTime: Date?
    public var endTime: Date?
    public var tableArn: String?
    public var tableId: String?
    public var exportTime: Date?
    public var s3Bucket: String?
    public var s3Prefix: String?
    public var s3SseAlgorithm: String?
    public var s3SseKmsKeyId: String?
    public var manifestFilesS3Key: String
    public var billedSizeBytes: Int?
    public var itemCount: Int
    public var outputFormat: String
    /// Our extras; nil for an export DynamoDB itself wrote.
    public var dynamoMigrate: ExportExtras?

    public init(
        exportArn: String?, startTime: Date?, endTime: Date?, tableArn: String?, tableId: String?,
        exportTime: Date?, manifestFilesS3Key: String, billedSizeBytes: Int?, itemCount: Int,
        outputFormat: String = "DYNAMODB_JSON", dynamoMigrate: ExportExtras?
    ) {
        self.exportArn = exportArn; self.startTime = startTime; self.endTime = endTime; self.tableArn = tableArn
        self.tableId = tableId; self.exportTime = exportTime; self.manifestFilesS3Key = manifestFilesS3Key
        self.billedSizeBytes = billedSizeBytes; self.itemCount = itemCount; self.outputFormat = outputFormat
        self.dynamoMigrate = dynamoMigrate
    }
}

/// What dynamo-migrate adds to an export's summary: enough to recreate the table and check its content.
public struct ExportExtras: Sendable, Equatable, Codable {
    public var toolVersion: String
    public var tableName: String
    public var contentChecksum: ContentChecksum
    public var keySchema: KeySchema
    public var billingMode: String
    public var globalSecondaryIndexes: [IndexRecord]
    public var localSecondaryIndexes: [IndexRecord]
    public var segments: Int
    public var gzipLevel: Int
    /// Bytes of the JSON lines before compression.
    public var uncompressedBytes: Int
    /// A scan is not a snapshot: items written while it ran may or may not be in the export.
    public var consistency: String

    public init(
        toolVersion: String = "0.1.0", tableName: String, contentChecksum: ContentChecksum, keySchema: KeySchema,
        billingMode: String, globalSecondaryIndexes: [IndexRecord], localSecondaryIndexes: [IndexRecord],
        segments: Int, gzipLevel: Int, uncompressedBytes: Int,
        consistency: String = "parallel scan between startTime and endTime, not a point-in-time snapshot"
    ) {
        self.toolVersion = toolVersion; self.tableName = tableName; self.contentChecksum = contentChecksum
        self.keySchema = keySchema; self.billingMode = billingMode
        self.globalSecondaryIndexes = globalSecondaryIndexes; self.localSecondaryIndexes = localSecondaryIndexes
        self.segments = segments; self.gzipLevel = gzipLevel; self.uncompressedBytes = uncompressedBytes
        self.consistency = consistency
    }
}

/// A secondary index as recorded in an export, so `import --create` can recreate it.
public struct IndexRecord: Sendable, Equatable, Codable {
    public var name: String
    public var keySchema: KeySchema
    /// ALL, KEYS_ONLY or INCLUDE.
    public var projectionType: String
    public var nonKeyAttributes: [String]?

    public init(_ index: SecondaryIndex) {
        name = index.name
        keySchema = index.keySchema
        switch index.projection {
        case .all: projectionType = "ALL"
        case .keysOnly: projectionType = "KEYS_ONLY"
        case .include(let names): projectionType = "INCLUDE"; nonKeyAttributes = names
        }
    }

    public var secondaryIndex: SecondaryIndex {
        let projection: Projection =
            switch projectionType {
            case "KEYS_ONLY": .keysOnly
            case "INCLUDE": .include(nonKeyAttributes ?? [])
            default: .all
            }
        return SecondaryIndex(name: name, keySchema: keySchema, projection: projection)
    }
}

/// One line of `manifest-files.json`.
public struct ManifestFileEntry: Sendable, Equatable {
    public var itemCount: Int
    /// Base64 of the MD5 of the gzip file.
    public var md5Checksum: String
    /// S3's ETag of a single-part upload: the hex MD5 of the file.
    public var etag: String
    /// `AWSDynamoDB/<export id>/data/<name>.json.gz` (DynamoDB prefixes it with the export's S3 prefix).
    public var dataFileS3Key: String

    public init(itemCount: Int, md5Checksum: String, etag: String, dataFileS3Key: String) {
        self.itemCount = itemCount; self.md5Checksum = md5Checksum; self.etag = etag; self.dataFileS3Key = dataFileS3Key
    }
}

/// Why an export cannot be read.
public enum ExportFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    case missingFile(String)
    case unreadable(file: String, reason: String)
    case malformed(file: String, line: Int?, reason: String)
    case noExport(String)
    case severalExports(String, ids: [String])

    public var description: String {
        switch self {
        case .missingFile(let f): "\(f) is missing"
        case .unreadable(let f, let r): "cannot read \(f): \(r)"
        case .malformed(let f, let line, let r): "\(f)\(line.map { ", line \($0)" } ?? ""): \(r)"
        case .noExport(let d): "\(d) holds no export: expected manifest-summary.json there or in AWSDynamoDB/<export id>/ below it"
        case .severalExports(let d, let ids):
            "\(d) holds \(ids.count) exports (\(ids.joined(separator: ", "))): name the folder of one, e.g. \(d)/AWSDynamoDB/\(ids.last ?? "")"
        }
    }
}

// MARK: - Encoding and decoding

package enum ExportJSON {
    /// ISO 8601 with milliseconds in UTC: the one date form of exports and state records.
    package static func iso8601(_ date: Date) -> String { RecordJSON.iso8601(date) }

    package static func parseDate(_ text: String?) -> Date? { RecordJSON.parseDate(text) }
}

extension ExportSummary {
    /// The summary as DynamoDB lays it out (fields in its order), our extras last.
    public func encoded() throws -> [UInt8] {
        var w = JSONWriter()
        func optional(_ key: String, _ value: String?) {
            w.key(key)
            if let value { w.string(value) } else { w.null() }
        }
        w.beginObject()
        optional("version", version)
        optional("exportArn", exportArn)
        optional("startTime", startTime.map(ExportJSON.iso8601))
        optional("endTime", endTime.map(ExportJSON.iso8601))
        optional("tableArn", tableArn)
        optional("tableId", tableId)
        optional("exportTime", exportTime.map(ExportJSON.iso8601))
        optional("s3Bucket", s3Bucket)
        optional("s3Prefix", s3Prefix)
        optional("s3SseAlgorithm", s3SseAlgorithm)
        optional("s3SseKmsKeyId", s3SseKmsKeyId)
        optional("manifestFilesS3Key", manifestFilesS3Key)
        w.key("billedSizeBytes")
        if let billedSizeBytes { w.int(billedSizeBytes) } else { w.null() }
        w.key("itemCount"); w.int(itemCount)
        optional("outputFormat", outputFormat)
        w.endObject()
        var bytes = w.bytes
        if let dynamoMigrate {
            // Spliced in as JSONEncoder wrote it, so its keys stay sorted (JSONWriter keeps dictionary order).
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            bytes.removeLast()
            bytes += Array(",\"dynamoMigrate\":".utf8) + [UInt8](try encoder.encode(dynamoMigrate)) + [UInt8(ascii: "}")]
        }
        return bytes + [UInt8(ascii: "\n")]
    }

    /// Reads a summary written by DynamoDB or by us.
    public static func decode(_ bytes: [UInt8], file: String) throws(ExportFormatError) -> ExportSummary {
        let json: JSON
        do { json = try JSON.parse(bytes) } catch { throw .malformed(file: file, line: nil, reason: "\(error)") }
        guard json.objectValue != nil else { throw .malformed(file: file, line: nil, reason: "not a JSON object") }
        guard let itemCount = json["itemCount"]?.intValue else {
            throw .malformed(file: file, line: nil, reason: "no itemCount")
        }
        var extras: ExportExtras?
        if let raw = json["dynamoMigrate"], raw != .null {
            do {
                extras = try JSONDecoder().decode(ExportExtras.self, from: Data(raw.encoded()))
            } catch {
                throw .malformed(file: file, line: nil, reason: "dynamoMigrate is not what this version writes: \(error)")
            }
        }
        var summary = ExportSummary(
            exportArn: json["exportArn"]?.stringValue,
            startTime: ExportJSON.parseDate(json["startTime"]?.stringValue),
            endTime: ExportJSON.parseDate(json["endTime"]?.stringValue),
            tableArn: json["tableArn"]?.stringValue, tableId: json["tableId"]?.stringValue,
            exportTime: ExportJSON.parseDate(json["exportTime"]?.stringValue),
            manifestFilesS3Key: json["manifestFilesS3Key"]?.stringValue ?? "manifest-files.json",
            billedSizeBytes: json["billedSizeBytes"]?.intValue, itemCount: itemCount,
            outputFormat: json["outputFormat"]?.stringValue ?? "DYNAMODB_JSON", dynamoMigrate: extras)
        summary.version = json["version"]?.stringValue ?? summary.version
        summary.s3Bucket = json["s3Bucket"]?.stringValue
        summary.s3Prefix = json["s3Prefix"]?.stringValue
        summary.s3SseAlgorithm = json["s3SseAlgorithm"]?.stringValue
        summary.s3SseKmsKeyId = json["s3SseKmsKeyId"]?.stringValue
        return summary
    }
}

extension ManifestFileEntry {
    /// One JSON line, fields in DynamoDB's order.
    public func encodedLine() -> [UInt8] {
        var w = JSONWriter(capacity: 200)
        w.beginObject()
        w.key("itemCount"); w.int(itemCount)
        w.key("md5Checksum"); w.string(md5Checksum)
        w.key("etag"); w.string(etag)
        w.key("dataFileS3Key"); w.string(dataFileS3Key)
        w.endObject()
        return w.bytes + [UInt8(ascii: "\n")]
    }

    /// Parses `manifest-files.json` (JSON lines; blank lines ignored).
    public static func decodeLines(_ bytes: [UInt8], file: String) throws(ExportFormatError) -> [ManifestFileEntry] {
        var entries: [ManifestFileEntry] = []
        for (index, line) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { continue }
            let json: JSON
            do { json = try JSON.parse(Array(line)) } catch { throw .malformed(file: file, line: index + 1, reason: "\(error)") }
            guard let key = json["dataFileS3Key"]?.stringValue else {
                throw .malformed(file: file, line: index + 1, reason: "no dataFileS3Key")
            }
            guard let count = json["itemCount"]?.intValue else {
                throw .malformed(file: file, line: index + 1, reason: "no itemCount")
            }
            entries.append(
                ManifestFileEntry(
                    itemCount: count, md5Checksum: json["md5Checksum"]?.stringValue ?? "",
                    etag: json["etag"]?.stringValue ?? "", dataFileS3Key: key))
        }
        return entries
    }
}

// MARK: - Digests

package enum Digests {
    package static func md5Base64(_ bytes: some Sequence<UInt8>) -> String {
        var hasher = Insecure.MD5()
        hasher.update(data: Array(bytes))
        return Base64.encode(Array(hasher.finalize()))
    }

    package static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}

/// Where an export lives on disk: `<root>/AWSDynamoDB/<exportId>/`.
public struct ExportLocation: Sendable, Equatable {
    /// The folder holding `manifest-summary.json`.
    public var directory: URL
    public var exportId: String { directory.lastPathComponent }
    public var summaryFile: URL { directory.appendingPathComponent("manifest-summary.json") }
    public var filesManifest: URL { directory.appendingPathComponent("manifest-files.json") }
    public var dataDirectory: URL { directory.appendingPathComponent("data") }

    public init(directory: URL) { self.directory = directory }

    /// The file a `dataFileS3Key` names: DynamoDB's keys carry the export's S3 prefix, ours do not,
    /// and a downloaded export may sit anywhere, so only the file name under `data/` counts.
    public func dataFile(forKey key: String) -> URL {
        dataDirectory.appendingPathComponent((key as NSString).lastPathComponent)
    }

    /// The exports in `path`: the folder itself when it holds `manifest-summary.json`, else each
    /// `AWSDynamoDB/<id>/` below it (or directly below it), oldest first.
    public static func find(in path: URL) throws(ExportFormatError) -> [ExportLocation] {
        let fm = FileManager.default
        if fm.fileExists(atPath: path.appendingPathComponent("manifest-summary.json").path) {
            return [ExportLocation(directory: path)]
        }
        for parent in [path.appendingPathComponent("AWSDynamoDB"), path] {
            guard let names = try? fm.contentsOfDirectory(atPath: parent.path) else { continue }
            let found = names.sorted().map { parent.appendingPathComponent($0) }
                .filter { fm.fileExists(atPath: $0.appendingPathComponent("manifest-summary.json").path) }
                .map(ExportLocation.init(directory:))
            if !found.isEmpty { return found }
        }
        throw .noExport(path.path)
    }
}
