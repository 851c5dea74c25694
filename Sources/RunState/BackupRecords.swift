import Foundation

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
    /// The record's format (``StateRecord``); nil in records written before versions (format 1).
    public var formatVersion: Int? = BackupRecord.currentFormatVersion

    public init(
        backupArn: String, backupName: String, table: String, checksumTakenAt: Date, createdAt: Date,
        availableAt: Date?, itemCount: Int, contentChecksum: ContentChecksum, sizeBytes: Int?
    ) {
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
    /// The record's format (``StateRecord``); nil in records written before versions (format 1).
    public var formatVersion: Int? = PendingBackup.currentFormatVersion

    public init(backupName: String, table: String, endpoint: String, checksumTakenAt: Date, requestedAt: Date, contentChecksum: ContentChecksum) {
        self.backupName = backupName; self.table = table; self.endpoint = endpoint
        self.checksumTakenAt = checksumTakenAt; self.requestedAt = requestedAt; self.contentChecksum = contentChecksum
    }
}

/// One timed step of a drill.
public struct DrillPhase: Sendable, Equatable, Codable {
    public var name: String
    public var seconds: Double
    public init(name: String, seconds: Double) { self.name = name; self.seconds = seconds }
}

/// A drill's outcome, as appended to `drills.jsonl`.
public struct DrillRecord: Sendable, Equatable, Codable {
    public var table: String
    public var scratchTable: String
    public var sourceKind: DrillSourceKind
    /// The backup ARN, `latest` / the restore time, or the export folder.
    public var sourceReference: String
    public var startedAt: Date
    public var phases: [DrillPhase]
    /// Request to validated, in seconds.
    public var measuredRTOSeconds: Double
    public var rtoTargetSeconds: Double?
    public var expectedChecksum: ContentChecksum?
    /// Where the expected checksum came from.
    public var expectedFrom: String
    public var actualChecksum: ContentChecksum?
    public var validation: DrillValidation
    public var kept: Bool
    public var notes: [String]
    public var error: String?
    /// The record's format (``StateRecord``); nil in records written before versions (format 1).
    public var formatVersion: Int? = DrillRecord.currentFormatVersion

    public init(
        table: String, scratchTable: String, sourceKind: DrillSourceKind, sourceReference: String, startedAt: Date,
        phases: [DrillPhase], measuredRTOSeconds: Double, rtoTargetSeconds: Double?, expectedChecksum: ContentChecksum?,
        expectedFrom: String, actualChecksum: ContentChecksum?, validation: DrillValidation, kept: Bool,
        notes: [String], error: String?
    ) {
        self.table = table; self.scratchTable = scratchTable; self.sourceKind = sourceKind; self.sourceReference = sourceReference
        self.startedAt = startedAt; self.phases = phases; self.measuredRTOSeconds = measuredRTOSeconds
        self.rtoTargetSeconds = rtoTargetSeconds; self.expectedChecksum = expectedChecksum; self.expectedFrom = expectedFrom
        self.actualChecksum = actualChecksum; self.validation = validation; self.kept = kept; self.notes = notes; self.error = error
    }

    public var rtoMet: Bool? { rtoTargetSeconds.map { measuredRTOSeconds <= $0 } }
    /// Validated, within the RTO (when one was given), and no error.
    public var passed: Bool { error == nil && validation == .passed && rtoMet != false }
}

/// What a drill restored from, as recorded (the strings are the recorded form).
public enum DrillSourceKind: String, Sendable, Equatable, Codable, CustomStringConvertible {
    case backup
    case pitr
    case export
    public var description: String { rawValue }
}

/// Whether a drill's restored content matched what it should hold (the strings are the recorded form).
public enum DrillValidation: String, Sendable, Equatable, Codable, CustomStringConvertible {
    /// The restored table's content checksum equals the expected one.
    case passed
    case failed
    /// There was nothing to compare with (no recorded checksum), or the drill stopped before.
    case notCompared = "not-compared"
    public var description: String { rawValue }
}

extension BackupRecord: StateRecord {
    public static var recordKind: String { "backup record" }
    public static var dateStyle: RecordDateStyle { .fractional }
}

extension PendingBackup: StateRecord {
    public static var recordKind: String { "pending backup record" }
    public static var dateStyle: RecordDateStyle { .fractional }
}

extension DrillRecord: StateRecord {
    public static var recordKind: String { "drill record" }
    public static var dateStyle: RecordDateStyle { .fractional }
}

/// The backup state (default `.dynamo-migrate/backups`), kept in a ``StateStore``: `backups.jsonl` and
/// `drills.jsonl` (append-only JSON lines, each line written with one `write` and fsynced), pending
/// backups and scratch tables (one document each).
public struct BackupStateStore: Sendable {
    public let directory: URL
    let store: LocalDirectoryStateStore
    public var backupsFile: URL { directory.appendingPathComponent(Self.backupsLog) }
    public var drillsFile: URL { directory.appendingPathComponent(Self.drillsLog) }

    public static let defaultDirectory = ".dynamo-migrate/backups"
    static let backupsLog = "backups.jsonl"
    static let drillsLog = "drills.jsonl"
    static let pendingCollection = "pending-backups"
    static let scratchCollection = "scratch-tables"

    public init(directory: URL) {
        self.directory = directory
        self.store = LocalDirectoryStateStore(directory: directory)
    }

    public func appendBackup(_ record: BackupRecord) throws { try store.append(record, to: Self.backupsLog) }
    public func appendDrill(_ record: DrillRecord) throws { try store.append(record, to: Self.drillsLog) }

    /// Every backup record, oldest first. A line cut short by a crash is skipped and reported in `skipped`.
    public func backups() throws -> (records: [BackupRecord], skipped: [Int]) { try store.records(BackupRecord.self, in: Self.backupsLog) }
    public func drills() throws -> (records: [DrillRecord], skipped: [Int]) { try store.records(DrillRecord.self, in: Self.drillsLog) }

    /// Backups asked for and not yet recorded, one file each (named `<table>.<backup name>.json`).
    public var pendingBackupsDirectory: URL { directory.appendingPathComponent(Self.pendingCollection) }

    func pendingName(_ pending: PendingBackup) -> String {
        "\(Self.pendingCollection)/\(Self.fileName("\(pending.table).\(pending.backupName)", suffix: ".json"))"
    }

    /// Longest state file name used as it is. A file system allows 255 bytes per name, and an atomic
    /// replace writes `.<name>.<pid>.tmp` first; a table name alone may be 255 characters.
    static let maxPlainFileNameBytes = 200

    /// `name + suffix` when short enough, else the start of `name`, `-`, a 64-bit FNV-1a hash of the whole
    /// name in hex, and `suffix`: stable (the same record always gets the same file) and at most
    /// ``maxPlainFileNameBytes`` bytes. Readers take what a file is about from its content, never its name.
    static func fileName(_ name: String, suffix: String) -> String {
        let plain = name + suffix
        guard plain.utf8.count > maxPlainFileNameBytes else { return plain }
        let hex = stableHashHex(name.utf8)
        // Table and backup names are ASCII ([a-zA-Z0-9_.-]); cutting by scalars keeps any other text whole.
        var kept = ""
        let budget = maxPlainFileNameBytes - suffix.utf8.count - 17
        for scalar in name.unicodeScalars {
            if kept.utf8.count + String(scalar).utf8.count > budget { break }
            kept.unicodeScalars.append(scalar)
        }
        return "\(kept)-\(hex)\(suffix)"
    }

    /// Records, durably, that CreateBackup is about to be sent.
    public func recordPendingBackup(_ pending: PendingBackup) throws {
        try store.save(pending, to: pendingName(pending))
    }

    /// Forgets a pending backup (recorded, or found never to have been made).
    public func forgetPendingBackup(_ pending: PendingBackup) {
        try? store.remove(pendingName(pending))
    }

    /// Backups asked for by runs that did not get to record them. A file that cannot be read is left
    /// out (as before): the backup it names, if any, is then found by `backup list`, unrecorded.
    public func pendingBackups() -> [PendingBackup] {
        let names = (try? store.names(in: Self.pendingCollection)) ?? []
        return names.filter { $0.hasSuffix(".json") }.compactMap { name in
            try? store.load(PendingBackup.self, from: "\(Self.pendingCollection)/\(name)")?.record
        }
    }

    /// Scratch tables a drill asked for and has not deleted yet, one file each (named after the table,
    /// holding the endpoint). Written before the restore is requested, removed once the table is gone
    /// (or kept on purpose), so a scratch table left by a killed drill or a lost answer is found again.
    public var scratchTablesDirectory: URL { directory.appendingPathComponent(Self.scratchCollection) }

    /// Records that a drill is about to ask for scratch table `name` on `endpoint`. The file holds the
    /// endpoint, then the table's name (a long name's file is named by ``fileName(_:suffix:)``).
    public func recordScratchTable(_ name: String, endpoint: String) throws {
        // The name is in the document too: a long one (up to DynamoDB's 255) is not its file name.
        try store.replace(scratchFile(name), with: Data((endpoint + "\n" + name + "\n").utf8))
    }

    /// Forgets scratch table `name` (deleted, or kept on purpose).
    public func forgetScratchTable(_ name: String) {
        try? store.remove(scratchFile(name))
    }

    func scratchFile(_ name: String) -> String { "\(Self.scratchCollection)/\(Self.fileName(name, suffix: ""))" }

    /// Scratch tables recorded and not yet forgotten, with the endpoint each was asked for on.
    public func scratchTables() -> [(name: String, endpoint: String)] {
        let names = (try? store.names(in: Self.scratchCollection)) ?? []
        return names.compactMap { document in
            guard let stored = try? store.read("\(Self.scratchCollection)/\(document)") else { return nil }
            let lines = String(decoding: stored.data, as: UTF8.self).split(separator: "\n").map {
                $0.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            guard let endpoint = lines.first else { return (document, "") }
            return (lines.count > 1 ? lines[1] : document, endpoint)
        }
    }

    /// The newest record of `arn`.
    public func backup(arn: String) throws -> BackupRecord? {
        try backups().records.last { $0.backupArn == arn }
    }
}
