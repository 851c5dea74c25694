import DynamoClient
import DynamoCore
import Foundation
import Logging
import RunState
import TableIO

/// Takes on-demand backups and records their content checksum and item count in the state directory.
public struct BackupManager: Sendable {
    public let client: DynamoDBClient
    public let store: BackupStateStore
    public let checksummer: any ContentChecksummer
    /// Segments of the checksum scan.
    public var segments: Int
    public var backupTimeout: Duration

    public init(
        client: DynamoDBClient, store: BackupStateStore, checksummer: any ContentChecksummer = MultisetContentChecksummer(),
        segments: Int = 4, backupTimeout: Duration = .seconds(3600)
    ) {
        self.client = client; self.store = store; self.checksummer = checksummer
        self.segments = segments; self.backupTimeout = backupTimeout
    }

    /// `<table>-<yyyyMMdd-HHmmss>` in UTC: the default name template.
    public static let defaultNameTemplate = "{table}-{timestamp}"

    /// Fills `{table}`, `{timestamp}` (`yyyyMMdd-HHmmss`, UTC) and `{date}` (`yyyyMMdd`) in `template`.
    /// DynamoDB allows 3-255 characters of `[a-zA-Z0-9_.-]` in a backup name; anything else becomes `-`.
    /// A name too long keeps its timestamp: the table part is shortened (``fitted(_:into:)``), since a
    /// lost CreateBackup answer is resolved by looking the name up, and two runs must not share one.
    public static func backupName(template: String, table: String, at date: Date) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
        let filled =
            template
            .replacingOccurrences(of: "{timestamp}", with: utcStamp(date, format: "yyyyMMdd-HHmmss"))
            .replacingOccurrences(of: "{date}", with: utcStamp(date, format: "yyyyMMdd"))
        let name = String(filled.map { allowed.contains($0) || $0 == "{" || $0 == "}" ? $0 : "-" })
        let safeTable = String(table.map { allowed.contains($0) ? $0 : "-" })
        // Braces were kept only to find `{table}`; any other placeholder left over becomes `-` too.
        return String(String(fitted(safeTable, into: name).map { allowed.contains($0) ? $0 : "-" }).prefix(maxNameLength))
    }

    /// DynamoDB's longest table and backup name.
    public static let maxNameLength = 255

    /// `template` with `{table}` replaced by `table`, within ``maxNameLength`` characters: when the whole
    /// is too long, the table part is cut and followed by `-` and 8 hex digits of a hash of the whole
    /// table name, so the rest (a timestamp, `-drill-…`) survives, two long names sharing their
    /// beginning still differ, and the same table always gives the same name. Names are ASCII.
    public static func fitted(_ table: String, into template: String) -> String {
        let plain = template.replacingOccurrences(of: "{table}", with: table)
        let occurrences = template.components(separatedBy: "{table}").count - 1
        guard plain.utf8.count > maxNameLength, occurrences == 1 else { return plain }
        let tag = String(stableHashHex(table.utf8).suffix(8))
        let room = maxNameLength - (template.utf8.count - "{table}".utf8.count) - 1 - tag.count
        guard room >= 1 else { return plain }
        return template.replacingOccurrences(of: "{table}", with: String(decoding: table.utf8.prefix(room), as: UTF8.self) + "-" + tag)
    }

    static func utcStamp(_ date: Date, format: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = format
        return formatter.string(from: date)
    }

    /// Checksums `table`, creates a backup, waits until it is AVAILABLE, and records it.
    ///
    /// The checksum is taken just before CreateBackup: writes landing in between make the backup
    /// differ from it, which a later drill reports (take backups of quiet tables, or accept that).
    public func create(table: String, nameTemplate: String = defaultNameTemplate, now: Date = Date()) async throws -> BackupRecord {
        do {
            _ = try await recordPendingBackups()
            guard try await client.describeTableIfExists(table) != nil else { throw BackupError.tableNotFound(table) }
            let checksumTakenAt = Date()
            let checksum = try await checksummer.checksum(table: table, client: client, segments: segments)
            let name = Self.backupName(template: nameTemplate, table: table, at: now)
            let pending = PendingBackup(
                backupName: name, table: table, endpoint: client.configuration.endpoint,
                checksumTakenAt: checksumTakenAt, requestedAt: Date(), contentChecksum: checksum)
            try store.recordPendingBackup(pending)
            // Not retried blindly: a lost answer is resolved by looking the backup up by its name.
            let summary = try await client.createBackupOnce(table: table, name: name)
            let record = try await appendRecord(summary, for: pending)
            store.forgetPendingBackup(pending)
            return record
        } catch let error as DynamoDBError {
            throw BackupError.client(error)
        }
    }

    /// Waits until `summary` is AVAILABLE and appends its record.
    func appendRecord(_ summary: BackupSummary, for pending: PendingBackup) async throws -> BackupRecord {
        let description = try await client.waitUntilBackupAvailable(summary.arn, timeout: backupTimeout)
        let record = BackupRecord(
            backupArn: summary.arn, backupName: pending.backupName, table: pending.table, checksumTakenAt: pending.checksumTakenAt,
            createdAt: description.backup.creationDate ?? summary.creationDate ?? pending.requestedAt, availableAt: Date(),
            itemCount: pending.contentChecksum.itemCount, contentChecksum: pending.contentChecksum, sizeBytes: description.backup.sizeBytes)
        try store.appendBackup(record)
        return record
    }

    /// Records the backups that earlier runs on this endpoint asked for but did not get to record
    /// (killed between CreateBackup and the record): each is found by table and name among the
    /// backups not recorded yet. A pending backup that DynamoDB never made is forgotten.
    /// - Returns: the records appended.
    public func recordPendingBackups() async throws -> [BackupRecord] {
        var recorded: [BackupRecord] = []
        let endpoint = client.configuration.endpoint
        for pending in store.pendingBackups() where pending.endpoint == endpoint {
            let known = Set(try store.backups().records.map(\.backupArn))
            let found = try await client.listBackups(table: pending.table)
                .filter { $0.name == pending.backupName && $0.status != "DELETED" }
            if let made = found.first(where: { !known.contains($0.arn) }) {
                recorded.append(try await appendRecord(made, for: pending))
            }
            store.forgetPendingBackup(pending)
        }
        return recorded
    }
}

/// A backup as `backup list` shows it: what DynamoDB lists, joined with what we recorded.
public struct ListedBackup: Sendable, Codable {
    public var backupArn: String
    public var backupName: String
    public var table: String?
    public var status: String
    public var type: String?
    public var createdAt: Date?
    public var sizeBytes: Int?
    /// From the state directory, when this backup was taken by `backup create`.
    public var itemCount: Int?
    public var contentChecksum: ContentChecksum?

    public init(_ summary: BackupSummary, record: BackupRecord?) {
        backupArn = summary.arn; backupName = summary.name; table = summary.tableName ?? record?.table
        status = summary.status; type = summary.type; createdAt = summary.creationDate ?? record?.createdAt
        sizeBytes = summary.sizeBytes; itemCount = record?.itemCount; contentChecksum = record?.contentChecksum
    }
}
