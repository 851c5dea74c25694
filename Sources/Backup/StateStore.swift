import Foundation
import RunState
import TableIO

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

/// A backup `backup create` is about to ask for: written before CreateBackup, removed once the
/// backup is recorded, so a run killed in between leaves what the next run needs to find the backup
/// (by table and name) and record it with the checksum taken for it.
public struct PendingBackup: Sendable, Equatable, Codable {
    public var backupName: String
    public var table: String
    public var endpoint: String
    public var checksumTakenAt: Date
    public var requestedAt: Date
    public var contentChecksum: ContentChecksum

    public init(backupName: String, table: String, endpoint: String, checksumTakenAt: Date, requestedAt: Date, contentChecksum: ContentChecksum) {
        self.backupName = backupName; self.table = table; self.endpoint = endpoint
        self.checksumTakenAt = checksumTakenAt; self.requestedAt = requestedAt; self.contentChecksum = contentChecksum
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

    /// Backups asked for and not yet recorded, one file each (named `<table>.<backup name>.json`).
    public var pendingBackupsDirectory: URL { directory.appendingPathComponent("pending-backups") }

    func pendingFile(_ pending: PendingBackup) -> URL {
        pendingBackupsDirectory.appendingPathComponent("\(pending.table).\(pending.backupName).json")
    }

    /// Records, durably, that CreateBackup is about to be sent.
    public func recordPendingBackup(_ pending: PendingBackup) throws {
        let url = pendingFile(pending)
        do {
            try FileManager.default.createDirectory(at: pendingBackupsDirectory, withIntermediateDirectories: true)
            try Self.encoder.encode(pending).write(to: url, options: .atomic)
        } catch {
            throw BackupError.io(path: url.path, reason: error.localizedDescription)
        }
    }

    /// Forgets a pending backup (recorded, or found never to have been made).
    public func forgetPendingBackup(_ pending: PendingBackup) {
        try? FileManager.default.removeItem(at: pendingFile(pending))
    }

    /// Backups asked for by runs that did not get to record them.
    public func pendingBackups() -> [PendingBackup] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: pendingBackupsDirectory.path)) ?? []
        return names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted().compactMap { name in
            (try? Data(contentsOf: pendingBackupsDirectory.appendingPathComponent(name))).flatMap { try? Self.decoder.decode(PendingBackup.self, from: $0) }
        }
    }

    /// Scratch tables a drill asked for and has not deleted yet, one file each (named after the table,
    /// holding the endpoint). Written before the restore is requested, removed once the table is gone
    /// (or kept on purpose), so a scratch table left by a killed drill or a lost answer is found again.
    public var scratchTablesDirectory: URL { directory.appendingPathComponent("scratch-tables") }

    /// Records that a drill is about to ask for scratch table `name` on `endpoint`.
    public func recordScratchTable(_ name: String, endpoint: String) throws {
        let url = scratchTablesDirectory.appendingPathComponent(name)
        do {
            try FileManager.default.createDirectory(at: scratchTablesDirectory, withIntermediateDirectories: true)
            try Data((endpoint + "\n").utf8).write(to: url, options: .atomic)
        } catch {
            throw BackupError.io(path: url.path, reason: error.localizedDescription)
        }
    }

    /// Forgets scratch table `name` (deleted, or kept on purpose).
    public func forgetScratchTable(_ name: String) {
        try? FileManager.default.removeItem(at: scratchTablesDirectory.appendingPathComponent(name))
    }

    /// Scratch tables recorded and not yet forgotten, with the endpoint each was asked for on.
    public func scratchTables() -> [(name: String, endpoint: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: scratchTablesDirectory.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().compactMap { name in
            guard let data = try? Data(contentsOf: scratchTablesDirectory.appendingPathComponent(name)) else { return nil }
            return (name, String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

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
