import Foundation
import Pipeline

/// What dynamo-migrate remembers about one on-demand backup it took.
public struct BackupRecord: Sendable, Equatable, Codable {
    public var backupArn: String
    public var backupName: String
    public var table: String
    /// When the content checksum was taken (just before CreateBackup).
    public var checksumTakenAt: Date
    public var createdAt: Date
    public var availableAt: Date?
    public var itemCount: Int
    public var contentChecksum: ContentChecksum
    public var sizeBytes: Int?

    public init(backupArn: String, backupName: String, table: String, checksumTakenAt: Date, createdAt: Date,
                availableAt: Date?, itemCount: Int, contentChecksum: ContentChecksum, sizeBytes: Int?) {
        self.backupArn = backupArn; self.backupName = backupName; self.table = table
        self.checksumTakenAt = checksumTakenAt; self.createdAt = createdAt; self.availableAt = availableAt
        self.itemCount = itemCount; self.contentChecksum = contentChecksum; self.sizeBytes = sizeBytes
    }
}

/// The state directory (default `.dynamo-migrate/backups`): `backups.jsonl` and `drills.jsonl`,
/// append-only JSON lines, each line written with one `write` and fsynced.
public struct BackupStateStore: Sendable {
    public let directory: URL
    public var backupsFile: URL { directory.appendingPathComponent("backups.jsonl") }
    public var drillsFile: URL { directory.appendingPathComponent("drills.jsonl") }

    public static let defaultDirectory = ".dynamo-migrate/backups"

    public init(directory: URL) { self.directory = directory }

    public func appendBackup(_ record: BackupRecord) throws { try append(record, to: backupsFile) }
    public func appendDrill(_ record: DrillRecord) throws { try append(record, to: drillsFile) }

    /// Every backup record, oldest first. A line cut short by a crash is skipped and reported in `skipped`.
    public func backups() throws -> (records: [BackupRecord], skipped: [Int]) { try read(backupsFile) }
    public func drills() throws -> (records: [DrillRecord], skipped: [Int]) { try read(drillsFile) }

    /// The newest record of `arn`.
    public func backup(arn: String) throws -> BackupRecord? {
        try backups().records.last { $0.backupArn == arn }
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(ExportJSON.iso8601(date))
        }
        return encoder
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = ExportJSON.parseDate(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an ISO 8601 date: \(text)")
            }
            return date
        }
        return decoder
    }

    func append<T: Encodable>(_ value: T, to url: URL) throws {
        var data: Data
        do { data = try Self.encoder.encode(value) } catch { throw BackupError.other("cannot encode a record: \(error)") }
        data.append(UInt8(ascii: "\n"))
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw BackupError.io(path: directory.path, reason: plainReason(error))
        }
        let fd = open(url.path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { throw BackupError.io(path: url.path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        let ok = data.withUnsafeBytes { buffer in write(fd, buffer.baseAddress!, buffer.count) == buffer.count }
        guard ok, fsync(fd) == 0 else { throw BackupError.io(path: url.path, reason: String(cString: strerror(errno))) }
    }

    func read<T: Decodable>(_ url: URL) throws -> (records: [T], skipped: [Int]) {
        guard FileManager.default.fileExists(atPath: url.path) else { return ([], []) }
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw BackupError.io(path: url.path, reason: plainReason(error)) }
        var records: [T] = []
        var skipped: [Int] = []
        let decoder = Self.decoder
        for (index, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            if let record = try? decoder.decode(T.self, from: Data(line)) { records.append(record) } else { skipped.append(index + 1) }
        }
        return (records, skipped)
    }
}
