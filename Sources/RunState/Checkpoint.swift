import AWSAuth
import DynamoCore
import Foundation

/// Where a migration stands, durable across crashes: per source table and segment, the last
/// `LastEvaluatedKey` whose items are all written (acknowledged by the writer), plus counts.
public struct MigrationCheckpoint: Codable, Sendable, Equatable {
    /// Identifies the mapping this checkpoint belongs to (a hash of the resolved plan), so a resume with
    /// a different mapping is refused instead of mixing two migrations.
    public var planFingerprint: String
    public var startedAt: Date
    public var updatedAt: Date
    /// Keyed by "target/source".
    public var sources: [String: SourceProgress]
    public var finishedAt: Date?
    /// The endpoint migrated on; a resume against another endpoint is refused.
    public var endpoint: String?
    /// Where each side was read and written (`source T` / `target T` → region, endpoint, profile, role),
    /// for mappings whose sides have connections of their own; a resume from another place is refused.
    /// Nil in checkpoints written before sides had connections.
    public var connections: [String: String]?
    /// Target tables this migration asked to create, keyed by name, with the steps done so far.
    public var targetCreations: [String: TargetCreation]?
    /// The checkpoint's format (``StateRecord``); nil in checkpoints written before versions (format 1).
    public var formatVersion: Int? = MigrationCheckpoint.currentFormatVersion

    public init(planFingerprint: String, startedAt: Date = Date()) {
        self.planFingerprint = planFingerprint
        self.startedAt = startedAt
        self.updatedAt = startedAt
        self.sources = [:]
    }

    public static func sourceKey(target: String, source: String) -> String { "\(target)/\(source)" }
}

/// A target table this migration asked to create. Recorded in the checkpoint before CreateTable and
/// again after each step, so that a lost CreateTable answer or a kill between two steps leaves a
/// record saying the table is ours and what it still lacks; the next run adopts it and does the rest.
public struct TargetCreation: Codable, Sendable, Equatable {
    public var table: String
    /// Steps done so far, in the order they were done.
    public var done: [TargetCreationStep]

    public init(table: String, done: [TargetCreationStep] = []) {
        self.table = table; self.done = done
    }

    /// Steps not done yet, in the order they are done.
    public var remaining: [TargetCreationStep] { TargetCreationStep.allCases.filter { !done.contains($0) } }
}

/// One step of creating a target table.
public enum TargetCreationStep: String, Codable, Sendable, CaseIterable {
    /// CreateTable applied and the table ACTIVE: key, indexes, billing, stream, encryption, tags and
    /// deletion protection all come with CreateTable.
    case createTable
    /// UpdateTimeToLive, when the mapping (or the inherited source) has TTL.
    case timeToLive
    /// UpdateContinuousBackups, when point-in-time recovery is to be on.
    case pointInTimeRecovery
}

/// Progress of one source table into one target.
public struct SourceProgress: Codable, Sendable, Equatable {
    public var source: String
    public var target: String
    public var totalSegments: Int
    public var segments: [SegmentProgress]
    public var done: Bool { segments.allSatisfy(\.done) }

    public init(source: String, target: String, totalSegments: Int) {
        self.source = source
        self.target = target
        self.totalSegments = totalSegments
        self.segments = (0..<totalSegments).map { SegmentProgress(segment: $0) }
    }
}

/// Progress of one `Segment` of a parallel scan.
///
/// Its counters are encoded flat next to `segment` (`itemsRead`, ...), as checkpoints always held them.
@dynamicMemberLookup
public struct SegmentProgress: Codable, Sendable, Equatable {
    public var segment: Int
    /// DynamoDB JSON of the `LastEvaluatedKey` after which reading resumes; nil means from the start
    /// (or, when `done`, nothing left).
    public var resumeAfterKey: String?
    public var done = false
    /// Counts of everything acknowledged so far.
    public var counts = RunCounters()

    public init(segment: Int) { self.segment = segment }

    public subscript<T>(dynamicMember keyPath: WritableKeyPath<RunCounters, T>) -> T {
        get { counts[keyPath: keyPath] }
        set { counts[keyPath: keyPath] = newValue }
    }

    enum CodingKeys: String, CodingKey { case segment, resumeAfterKey, done }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        segment = try container.decode(Int.self, forKey: .segment)
        resumeAfterKey = try container.decodeIfPresent(String.self, forKey: .resumeAfterKey)
        done = try container.decode(Bool.self, forKey: .done)
        counts = try RunCounters(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(segment, forKey: .segment)
        try container.encodeIfPresent(resumeAfterKey, forKey: .resumeAfterKey)
        try container.encode(done, forKey: .done)
        try counts.encode(to: encoder)
    }

    /// The resume key as an item.
    public func resumeKey() throws -> Item? {
        guard let text = resumeAfterKey else { return nil }
        var reader = JSONReader(Array(text.utf8))
        let item = try reader.readItem()
        try reader.finish()
        return item
    }

    public static func encodeKey(_ key: Item) -> String {
        var writer = JSONWriter()
        writer.item(key)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}

/// Where checkpoints are kept: a seam so tests can inspect or break it.
public protocol CheckpointStore: Sendable {
    func load() throws -> MigrationCheckpoint?
    func save(_ checkpoint: MigrationCheckpoint) throws
}

/// Why the state directory cannot be used.
public enum CheckpointError: Error, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case unwritable(path: String, reason: String)
    /// The file is there but is not a checkpoint (truncated, edited, another file): `problem` says where.
    case invalid(path: String, problem: String)
    /// Another process holds the state directory's lock.
    case stateDirectoryLocked(String)

    public var description: String {
        switch self {
        case .invalid(let path, let problem):
            "\(path): not a valid checkpoint (\(problem)); where the migration stood cannot be known from it. "
                + "Put back a good copy and rerun with --resume, or move it aside and rerun without --resume to start over."
        case .unreadable(let path, let reason): "cannot read the checkpoint \(path): \(reason)"
        case .unwritable(let path, let reason): "cannot write the checkpoint \(path): \(reason)"
        case .stateDirectoryLocked(let dir):
            "another dynamo-migrate process is using \(dir) (its lock is held); wait for it to finish, or use another --state-dir"
        }
    }
}

/// A checkpoint file in the state directory, replaced atomically (write to a temporary file, fsync,
/// rename, fsync the directory), so a crash at any moment leaves either the old or the new checkpoint.
public struct FileCheckpointStore: CheckpointStore {
    public let directory: URL
    public var path: URL { directory.appendingPathComponent("checkpoint.json") }

    public init(directory: URL) { self.directory = directory }

    public func load() throws -> MigrationCheckpoint? {
        try LocalDirectoryStateStore(directory: directory).loadCheckpoint()
    }

    public func save(_ checkpoint: MigrationCheckpoint) throws {
        try LocalDirectoryStateStore(directory: directory).saveCheckpoint(checkpoint)
    }
}

/// The reason inside a Foundation error, without its domain, code and user-info dump.
public func plainReason(_ error: any Error) -> String {
    let ns = error as NSError
    if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
        let code = POSIXErrorCode(rawValue: Int32(underlying.code))
    {
        return String(cString: strerror(code.rawValue))
    }
    if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
    if ns.domain == NSCocoaErrorDomain {
        switch ns.code {
        case NSFileReadNoSuchFileError, NSFileNoSuchFileError: return "no such file or directory"
        case NSFileReadNoPermissionError, NSFileWriteNoPermissionError: return "permission denied"
        case NSFileWriteFileExistsError: return "a file with that name is in the way"
        case NSFileWriteOutOfSpaceError: return "no space left on the device"
        case NSFileWriteVolumeReadOnlyError: return "the file system is read-only"
        case NSFileReadUnknownError
        where (try? FileManager.default.attributesOfItem(atPath: (ns.userInfo[NSFilePathErrorKey] as? String) ?? ""))?[.type] as? FileAttributeType
            == .typeDirectory:
            return "it is a directory, not a file"
        default: break
        }
    }
    if error is DecodingError { return decodingProblem(error, in: nil) }
    if ns.domain == NSCocoaErrorDomain, let path = ns.userInfo[NSFilePathErrorKey] as? String {
        // Foundation often gives only "error 512": find out what stands in the way.
        var ancestor = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        while !FileManager.default.fileExists(atPath: ancestor.path, isDirectory: &isDirectory), ancestor.path != "/" {
            ancestor.deleteLastPathComponent()
        }
        if !isDirectory.boolValue { return "\(ancestor.path) is a file, not a folder" }
        if !FileManager.default.isWritableFile(atPath: ancestor.path) { return "permission denied in \(ancestor.path)" }
        return "cannot create or write \(path)"
    }
    return ns.localizedDescription
}
