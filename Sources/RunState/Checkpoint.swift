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
    /// Target tables this migration asked to create, keyed by name, with the steps done so far.
    public var targetCreations: [String: TargetCreation]?

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
    /// Another process holds the state directory's lock.
    case stateDirectoryLocked(String)

    public var description: String {
        switch self {
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
        guard FileManager.default.fileExists(atPath: path.path) else { return nil }
        do {
            let data = try Data(contentsOf: path)
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            var checkpoint = try decoder.decode(MigrationCheckpoint.self, from: data)
            // Older checkpoints kept the endpoint as typed; compare in the one form clients use.
            checkpoint.endpoint = checkpoint.endpoint.map(AWSConfiguration.normalizedEndpoint)
            return checkpoint
        } catch {
            throw CheckpointError.unreadable(path: path.path, reason: plainReason(error))
        }
    }

    public func save(_ checkpoint: MigrationCheckpoint) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        do {
            try writeAtomically(try encoder.encode(checkpoint), to: path)
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw CheckpointError.unwritable(path: path.path, reason: plainReason(error))
        }
    }
}

/// Replaces `url` with `data` so that a crash leaves either the old or the new content.
public func writeAtomically(_ data: Data, to url: URL) throws {
    let directory = url.deletingLastPathComponent()
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
    let fd = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { throw CheckpointError.unwritable(path: temporary.path, reason: String(cString: strerror(errno))) }
    var ok = data.withUnsafeBytes { buffer -> Bool in
        var offset = 0
        while offset < buffer.count {
            let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n <= 0 { return false }
            offset += n
        }
        return true
    }
    ok = ok && fsync(fd) == 0
    close(fd)
    guard ok, rename(temporary.path, url.path) == 0 else {
        unlink(temporary.path)
        throw CheckpointError.unwritable(path: url.path, reason: String(cString: strerror(errno)))
    }
    let dirfd = open(directory.path, O_RDONLY)
    if dirfd >= 0 { fsync(dirfd); close(dirfd) }
}

/// An exclusive lock on a state directory (`flock` on its `lock` file), so two runs cannot write one
/// checkpoint at once. Released when the process ends, however it ends.
public final class StateDirectoryLock: Sendable {
    let descriptor: Int32

    /// Creates the directory if needed and takes the lock, or throws when another process holds it
    /// or the directory cannot be written.
    public init(directory: URL) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError.unwritable(path: directory.path, reason: "cannot create the state directory (\(plainReason(error)))")
        }
        let path = directory.appendingPathComponent("lock").path
        let fd = open(path, O_RDWR | O_CREAT, 0o644)
        guard fd >= 0 else {
            throw CheckpointError.unwritable(path: path, reason: String(cString: strerror(errno)))
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw CheckpointError.stateDirectoryLocked(directory.path)
        }
        descriptor = fd
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}

/// The reason inside a Foundation error, without its domain, code and user-info dump.
public func plainReason(_ error: any Error) -> String {
    let ns = error as NSError
    if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
       let code = POSIXErrorCode(rawValue: Int32(underlying.code)) {
        return String(cString: strerror(code.rawValue))
    }
    if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
    if ns.domain == NSCocoaErrorDomain {
        switch ns.code {
        case NSFileReadNoSuchFileError, NSFileNoSuchFileError: return "no such file or directory"
        case NSFileReadNoPermissionError, NSFileWriteNoPermissionError: return "permission denied"
        case NSFileWriteFileExistsError: return "a file with that name is in the way"
        case NSFileReadUnknownError where (try? FileManager.default.attributesOfItem(atPath: (ns.userInfo[NSFilePathErrorKey] as? String) ?? ""))?[.type] as? FileAttributeType == .typeDirectory:
            return "it is a directory, not a file"
        default: break
        }
    }
    if let error = error as? DecodingError { return "not a valid checkpoint (\(error))" }
    return ns.localizedDescription
}
