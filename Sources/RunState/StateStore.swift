import Foundation
import Synchronization

/// A named document as a store holds it: its bytes and its generation.
public struct StoredDocument: Sendable, Equatable {
    public var data: Data
    /// Bumped by every replace; 0 for a document that has never been written through a store that
    /// counts generations (a file written by an older dynamo-migrate reads as generation 0).
    public var generation: UInt64

    public init(data: Data, generation: UInt64) { self.data = data; self.generation = generation }
}

/// A held lock on a state store; released when the value is released (or the process ends).
public protocol StateLock: AnyObject, Sendable {}

/// Where every record the tool keeps lives: checkpoints, verification records, dead letters, the
/// decommission audit log, backup and drill logs, pending backups, scratch tables and reports.
///
/// Two kinds of record:
/// - **documents**, replaced whole and atomically (a reader sees the old or the new content, never a
///   mix). Each carries a generation number, bumped by every replace. `replace(_:with:expectedGeneration:)`
///   is a conditional write: it refuses, with ``StateFileError/staleGeneration(path:expected:found:)``,
///   when the document is no longer at the generation the caller read. That is the fencing the next
///   stores need: an S3 store maps it to a conditional PUT (`If-Match` on the ETag it read), a DynamoDB
///   control-table store to a `ConditionExpression` on a `generation` attribute. The local store
///   implements it under its own lock.
/// - **logs**, append-only JSON lines, each line written whole and made durable before `append` returns.
///   An S3 store would keep one object per line (prefix listing in order); a control table one item per line.
///
/// Names are relative paths with `/` between parts (`pending-backups/orders.b1.json`); a *collection*
/// is the part before the last `/`.
///
/// Permission policy (one for every store): records may hold item data (dead letters hold whole
/// items, checkpoints hold keys, verification and audit records hold table names, keys and figures),
/// so they are readable by the owner only: the local store creates files 0600 and directories 0700,
/// never opens a file through a symbolic link, and refuses a path that is not a regular file.
public protocol StateStore: Sendable {
    /// Where `name` is, for messages: a file path for the local store, a URL for others.
    func location(of name: String) -> String

    /// The document `name`, or nil when there is none.
    func read(_ name: String) throws -> StoredDocument?

    /// Replaces document `name` with `data` atomically and returns its new generation.
    ///
    /// `expectedGeneration` makes the write conditional: nil writes whatever is there, 0 writes only
    /// when there is no document yet, n only when the document is at generation n. A stale
    /// generation throws ``StateFileError/staleGeneration(path:expected:found:)`` and writes nothing.
    @discardableResult
    func replace(_ name: String, with data: Data, expectedGeneration: UInt64?) throws -> UInt64

    /// Removes document `name`; removing one that is not there is not an error.
    func remove(_ name: String) throws

    /// Names of the documents in `collection`, sorted, without the collection prefix.
    func names(in collection: String) throws -> [String]

    /// Appends one line (a newline is added) to log `name`: one write, durable before returning.
    func append(line: Data, to name: String) throws

    /// Opens log `name` for many appends (the dead-letter log keeps it open for a run).
    func openLog(_ name: String) throws -> any StateLogAppender

    /// The lines of log `name` in order (empty when there is no log). A last line cut short by a crash
    /// is returned as it is; typed readers skip lines that do not parse.
    func lines(of name: String) throws -> [Data]

    /// Takes the store's exclusive lock, or throws when another process holds it.
    func lock() throws -> any StateLock
}

/// An open log: each `append` is one write of one whole line, made durable before it returns.
public protocol StateLogAppender: Sendable {
    func append(line: Data) throws
    func close()
}

extension StateStore {
    /// An unconditional replace.
    @discardableResult
    public func replace(_ name: String, with data: Data) throws -> UInt64 {
        try replace(name, with: data, expectedGeneration: nil)
    }
}

/// Why a state record cannot be read or written. Every message names the file and says what to do.
public enum StateFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file does not hold a valid record of this kind.
    case invalid(path: String, record: String, reason: String)
    /// The record was written by a newer dynamo-migrate, in a format this one does not know.
    case newerFormat(path: String, record: String, found: Int, supported: Int)
    case unreadable(path: String, reason: String)
    case unwritable(path: String, reason: String)
    /// The path is a symbolic link (or a directory, a FIFO...): nothing is read or written through it.
    case notAFile(path: String, what: String)
    /// A conditional replace found the document at another generation: someone else wrote it since.
    case staleGeneration(path: String, expected: UInt64, found: UInt64)

    public var description: String {
        switch self {
        case .invalid(let path, let record, let reason):
            "\(path): not a valid \(record) (\(reason)); move the file aside, or pass another --state-dir"
        case .newerFormat(let path, let record, let found, let supported):
            "\(path): not a valid \(record) (format version \(found); this dynamo-migrate reads up to version \(supported)): it was written by a newer dynamo-migrate; upgrade, or pass another --state-dir"
        case .unreadable(let path, let reason):
            "cannot read \(path): \(reason)"
        case .unwritable(let path, let reason):
            "cannot write \(path): \(reason)"
        case .notAFile(let path, let what):
            "\(path) is \(what), not a regular file; dynamo-migrate does not read or write state through it (remove it, or pass another --state-dir)"
        case .staleGeneration(let path, let expected, let found):
            "\(path) was changed by another run (generation \(found), this run read \(expected)); nothing was written: run again to start from what it holds"
        }
    }
}

/// The owner-only permission policy of local state: see ``StateStore``.
public enum StatePermissions {
    /// Record files: read and write by the owner only.
    public static let file: mode_t = 0o600
    /// State directories: the owner only.
    public static let directory: mode_t = 0o700

    /// Creates `directory` (and its parents) owner-only. An existing directory is left as it is: it
    /// may be the operator's own (`--state-dir .`).
    public static func createDirectory(_ directory: URL) throws {
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true,
                attributes: [.posixPermissions: Int(Self.directory)])
        } catch {
            throw StateFileError.unwritable(path: directory.path, reason: "cannot create the directory (\(plainReason(error)))")
        }
    }

    /// Opens `path` with `flags` (O_CREAT creates it 0600), never through a symbolic link, only when it
    /// is a regular file; a file an older version created group- or world-readable is narrowed to 0600.
    public static func open(_ path: String, flags: Int32) throws -> Int32 {
        let fd = Glibc_open(path, flags | O_NOFOLLOW | O_CLOEXEC, Self.file)
        guard fd >= 0 else {
            let code = errno
            if code == ELOOP { throw StateFileError.notAFile(path: path, what: "a symbolic link") }
            if flags & O_ACCMODE == O_RDONLY { throw StateFileError.unreadable(path: path, reason: String(cString: strerror(code))) }
            throw StateFileError.unwritable(path: path, reason: String(cString: strerror(code)))
        }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & 0o170000 == 0o100000 else {
            close(fd)
            throw StateFileError.notAFile(path: path, what: "not a regular file")
        }
        if info.st_mode & 0o077 != 0, info.st_uid == geteuid(), flags & O_ACCMODE != O_RDONLY { fchmod(fd, Self.file) }
        return fd
    }

    /// Reads the whole regular file at `path` (not through a symbolic link), or nil when there is none.
    public static func read(_ path: String) throws -> Data? {
        let fd: Int32
        do { fd = try open(path, flags: O_RDONLY) } catch StateFileError.unreadable(_, let reason) where reason == String(cString: strerror(ENOENT)) {
            return nil
        }
        defer { close(fd) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc_read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw StateFileError.unreadable(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        return data
    }

    /// Writes all of `data` to `fd` in as few writes as the kernel takes (one for a line of a log).
    static func writeAll(_ fd: Int32, _ data: Data) -> Bool {
        data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0, errno == EINTR { continue }
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
    }
}

// The C calls under the names the policy's own `open`/`read` shadow.
@inline(__always) private func Glibc_open(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }
@inline(__always) private func Glibc_read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int { read(fd, buffer, count) }

/// Replaces `url` with `data` so that a crash leaves either the old or the new content: a temporary file
/// (created with exactly `permissions`; without them 0644 less the umask, for files that are not
/// state, such as exports), fsync, rename over `url`, fsync of the directory.
public func writeAtomically(_ data: Data, to url: URL, permissions: mode_t? = nil) throws {
    let directory = url.deletingLastPathComponent()
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
    unlink(temporary.path)  // a leftover of a killed run (or a planted link): never written through
    let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, permissions ?? 0o644)
    guard fd >= 0 else { throw CheckpointError.unwritable(path: temporary.path, reason: String(cString: strerror(errno))) }
    // O_CREAT applies the umask; the state policy's mode is exact.
    if let permissions { fchmod(fd, permissions) }
    var ok = StatePermissions.writeAll(fd, data)
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
public final class StateDirectoryLock: StateLock {
    let descriptor: Int32

    /// Creates the directory if needed and takes the lock, or throws when another process holds it
    /// or the directory cannot be written.
    public init(directory: URL) throws {
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true,
                attributes: [.posixPermissions: Int(StatePermissions.directory)])
        } catch {
            throw CheckpointError.unwritable(path: directory.path, reason: "cannot create the state directory (\(plainReason(error)))")
        }
        let path = directory.appendingPathComponent("lock").path
        let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, StatePermissions.file)
        guard fd >= 0 else {
            throw CheckpointError.unwritable(path: path, reason: errno == ELOOP ? "it is a symbolic link" : String(cString: strerror(errno)))
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

/// The first store: a directory on a local disk (the `--state-dir`).
///
/// Documents are files replaced with ``writeAtomically(_:to:permissions:)``; a document's generation
/// is kept next to it in `.<name>.generation`, bumped *before* the document is replaced (so a crash in
/// between can only make a conditional writer refuse, never let a stale one through). Conditional
/// replaces run under `flock` on `.replace.lock`, separate from the run lock (``lock()``), which a
/// run holds for its whole length. Logs are appended with `O_APPEND`, one `write` per line, then fsync.
public struct LocalDirectoryStateStore: StateStore {
    public let directory: URL

    public init(directory: URL) { self.directory = directory }

    public func url(of name: String) -> URL { directory.appendingPathComponent(name) }

    public func location(of name: String) -> String { url(of: name).path }

    func generationURL(of name: String) -> URL {
        let url = url(of: name)
        return url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).generation")
    }

    func ensureParent(of name: String) throws {
        try StatePermissions.createDirectory(url(of: name).deletingLastPathComponent())
    }

    public func read(_ name: String) throws -> StoredDocument? {
        guard let data = try StatePermissions.read(location(of: name)) else { return nil }
        return StoredDocument(data: data, generation: try generation(of: name))
    }

    func generation(of name: String) throws -> UInt64 {
        let path = generationURL(of: name).path
        guard let data = try StatePermissions.read(path) else { return 0 }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let value = UInt64(text) else {
            throw StateFileError.invalid(path: path, record: "generation number", reason: "'\(text.prefix(40))' is not a number")
        }
        return value
    }

    @discardableResult
    public func replace(_ name: String, with data: Data, expectedGeneration: UInt64?) throws -> UInt64 {
        try ensureParent(of: name)
        let guardFD = try StatePermissions.open(directory.appendingPathComponent(".replace.lock").path, flags: O_RDWR | O_CREAT)
        defer { flock(guardFD, LOCK_UN); close(guardFD) }
        guard flock(guardFD, LOCK_EX) == 0 else {
            throw StateFileError.unwritable(path: location(of: name), reason: String(cString: strerror(errno)))
        }
        // Refuse a symbolic link or a directory in the document's place before writing anything.
        var info = stat()
        if lstat(location(of: name), &info) == 0, info.st_mode & 0o170000 != 0o100000 {
            throw StateFileError.notAFile(path: location(of: name), what: info.st_mode & 0o170000 == 0o120000 ? "a symbolic link" : "not a regular file")
        }
        let current = try generation(of: name)
        if let expectedGeneration, expectedGeneration != current {
            throw StateFileError.staleGeneration(path: location(of: name), expected: expectedGeneration, found: current)
        }
        let next = current + 1
        try writeAtomically(Data("\(next)\n".utf8), to: generationURL(of: name), permissions: StatePermissions.file)
        do {
            try writeAtomically(data, to: url(of: name), permissions: StatePermissions.file)
        } catch let error as CheckpointError {
            throw StateFileError.unwritable(path: location(of: name), reason: error.reason)
        }
        return next
    }

    public func remove(_ name: String) throws {
        for path in [location(of: name), generationURL(of: name).path] where unlink(path) != 0 && errno != ENOENT {
            throw StateFileError.unwritable(path: path, reason: String(cString: strerror(errno)))
        }
    }

    public func names(in collection: String) throws -> [String] {
        let path = url(of: collection).path
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: path) } catch {
            if !FileManager.default.fileExists(atPath: path) { return [] }
            throw StateFileError.unreadable(path: path, reason: plainReason(error))
        }
        return names.filter { !$0.hasPrefix(".") }.sorted()
    }

    public func append(line: Data, to name: String) throws {
        let log = try openLog(name)
        defer { log.close() }
        try log.append(line: line)
    }

    public func openLog(_ name: String) throws -> any StateLogAppender {
        try ensureParent(of: name)
        let path = location(of: name)
        return LocalLogAppender(path: path, descriptor: try StatePermissions.open(path, flags: O_WRONLY | O_APPEND | O_CREAT))
    }

    public func lines(of name: String) throws -> [Data] {
        guard let data = try StatePermissions.read(location(of: name)) else { return [] }
        return data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { Data($0) }
    }

    public func lock() throws -> any StateLock { try StateDirectoryLock(directory: directory) }
}

/// An open local log file.
final class LocalLogAppender: StateLogAppender {
    let path: String
    /// Appends from several tasks are serialized, each one whole line; -1 once closed.
    private let descriptor: Mutex<Int32>

    init(path: String, descriptor: Int32) { self.path = path; self.descriptor = Mutex(descriptor) }

    func append(line: Data) throws {
        var bytes = line
        bytes.append(UInt8(ascii: "\n"))
        let path = self.path
        try descriptor.withLock { (fd: inout Int32) throws(StateFileError) in
            guard fd >= 0 else { throw StateFileError.unwritable(path: path, reason: "the log is closed") }
            guard StatePermissions.writeAll(fd, bytes), fsync(fd) == 0 else {
                throw StateFileError.unwritable(path: path, reason: String(cString: strerror(errno)))
            }
        }
    }

    func close() {
        descriptor.withLock { fd in
            if fd >= 0 { Foundation.close(fd); fd = -1 }
        }
    }

    deinit { close() }
}

extension CheckpointError {
    /// The reason alone, without the path.
    var reason: String {
        switch self {
        case .unreadable(_, let reason), .unwritable(_, let reason): reason
        case .invalid(_, let problem): "not a valid checkpoint (\(problem))"
        case .stateDirectoryLocked(let dir): "another dynamo-migrate process is using \(dir)"
        }
    }
}
