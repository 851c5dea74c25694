import Foundation
import Logging
import RunState
import S3Client
import Synchronization

/// Where an export is kept: a local folder, or an S3 bucket and prefix. The one place that tells the
/// two apart: commands parse their path argument with ``init(parsing:)``.
public enum ExportStorage: Sendable, Equatable, CustomStringConvertible {
    case local(URL)
    case s3(S3Location)

    /// `s3://bucket/prefix` is S3; anything else is a local path.
    public init(parsing text: String) throws(S3Error) {
        if S3Location.isS3URL(text) {
            self = .s3(try S3Location(parsing: text))
        } else {
            self = .local(URL(fileURLWithPath: text))
        }
    }

    public var description: String {
        switch self {
        case .local(let url): url.path
        case .s3(let location): location.description
        }
    }
}

/// The S3 fields of an export's summary (`s3Bucket`, `s3Prefix`, `s3SseAlgorithm`, `s3SseKmsKeyId`),
/// as DynamoDB fills them for its own exports.
public struct ExportS3Fields: Sendable, Equatable {
    public var bucket: String
    public var prefix: String
    public var sseAlgorithm: String?
    public var kmsKeyId: String?

    public init(bucket: String, prefix: String, sseAlgorithm: String?, kmsKeyId: String?) {
        self.bucket = bucket; self.prefix = prefix; self.sseAlgorithm = sseAlgorithm; self.kmsKeyId = kmsKeyId
    }
}

/// Moves exports between S3 and a local staging folder, so the exporter, importer and verifier work on
/// local files wherever the export is kept.
///
/// - Publishing uploads an export folder written locally: `_started` first, then the data files (multipart
///   when large, parts in parallel), then the manifests, `manifest-summary.json` last, so an export in S3
///   without its summary is visibly incomplete. A failed publish deletes what it uploaded (and the upload
///   aborts its multipart uploads), so no half export stays behind.
/// - Fetching downloads one export folder, every object streamed to disk in ranges and checked against
///   its size and (single-part) ETag; the verifier then checks every file against the manifests.
public struct S3ExportTransfer: Sendable {
    public let client: S3Client
    public var upload: S3UploadOptions
    /// Files uploaded or downloaded at once (each multipart upload has its own part concurrency).
    public var fileConcurrency: Int
    public let logger: Logger

    public init(client: S3Client, upload: S3UploadOptions = S3UploadOptions(), fileConcurrency: Int = 2, logger: Logger? = nil) {
        self.client = client; self.upload = upload; self.fileConcurrency = max(1, fileConcurrency)
        self.logger = logger ?? client.logger
    }

    /// The S3 folder an export with `exportId` gets under `destination`: `<prefix>/AWSDynamoDB/<id>`.
    public static func folder(for exportId: String, under destination: S3Location) -> S3Location {
        destination.appending("AWSDynamoDB").appending(exportId)
    }

    /// Fails early, before any table is scanned, when the bucket is missing or not ours to use.
    public func checkBucket(_ location: S3Location) async throws(S3Error) {
        try await client.headBucket(location.bucket)
    }

    /// Uploads the export in `local` to `<destination>/AWSDynamoDB/<export id>/`; returns that folder.
    /// - Parameter progress: called with the bytes uploaded so far after each file.
    @discardableResult
    public func publish(
        _ local: ExportLocation, to destination: S3Location, progress: @escaping @Sendable (Int) -> Void = { _ in }
    ) async throws -> S3Location {
        let folder = Self.folder(for: local.exportId, under: destination)
        let dataNames = try Self.fileNames(in: local.dataDirectory)
        let uploaded = Uploaded()
        do {
            try await put(local.directory.appendingPathComponent("_started"), to: folder.appending("_started"), uploaded: uploaded)
            try await withThrowingTaskGroup(of: Void.self) { group in
                var pending = dataNames[...]
                func startNext() {
                    guard let name = pending.popFirst() else { return }
                    group.addTask {
                        try await put(local.dataDirectory.appendingPathComponent(name), to: folder.appending("data").appending(name), uploaded: uploaded)
                        progress(uploaded.bytes)
                    }
                }
                for _ in 0..<fileConcurrency { startNext() }
                while try await group.next() != nil { startNext() }
            }
            for name in ["manifest-files.json", "manifest-files.md5", "manifest-summary.md5", "manifest-summary.json"] {
                try await put(local.directory.appendingPathComponent(name), to: folder.appending(name), uploaded: uploaded)
            }
        } catch {
            let keys = uploaded.keys
            logger.warning("the upload of the export to \(folder) failed: deleting the \(keys.count) object\(keys.count == 1 ? "" : "s") it had uploaded")
            do {
                try await client.deleteObjects(bucket: folder.bucket, keys: keys)
            } catch let cleanup {
                logger.error("could not delete the partial export in \(folder) (\(cleanup)): delete it before using the prefix; it has no manifest-summary.json, so no import or verify accepts it")
            }
            throw error
        }
        return folder
    }

    private func put(_ file: URL, to location: S3Location, uploaded: Uploaded) async throws {
        let result = try await client.uploadFile(file, bucket: location.bucket, key: location.key, options: upload)
        uploaded.add(location.key, bytes: result.size)
    }

    static func fileNames(in directory: URL) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw ExportFormatError.unreadable(file: directory.path, reason: plainReason(error))
        }
    }

    /// The export folders under `source`: `source` itself when it holds `manifest-summary.json`, else
    /// each `AWSDynamoDB/<id>/` (or `<id>/`) below it, oldest first.
    public func find(in source: S3Location) async throws -> [S3Location] {
        if try await client.headObject(bucket: source.bucket, key: source.appending("manifest-summary.json").key) != nil {
            return [source]
        }
        let prefix = source.key.isEmpty || source.key.hasSuffix("/") ? source.key : source.key + "/"
        let objects = try await client.listAllObjects(bucket: source.bucket, prefix: prefix)
        for parent in [prefix + "AWSDynamoDB/", prefix] {
            let folders = objects.compactMap { object -> String? in
                guard object.key.hasPrefix(parent), object.key.hasSuffix("/manifest-summary.json") else { return nil }
                let middle = object.key.dropFirst(parent.count).dropLast("/manifest-summary.json".count)
                return middle.isEmpty || middle.contains("/") ? nil : parent + middle
            }.sorted()
            if !folders.isEmpty { return folders.map { S3Location(bucket: source.bucket, key: $0) } }
        }
        throw ExportFormatError.noExport(source.description)
    }

    /// The single export under `source`, or an error naming the several there are.
    public func findOne(in source: S3Location) async throws -> S3Location {
        let found = try await find(in: source)
        guard found.count == 1 else {
            throw ExportFormatError.severalExports(source.description, ids: found.map { ($0.key as NSString).lastPathComponent })
        }
        return found[0]
    }

    /// Downloads the export folder `folder` into `staging/<export id>/` and returns it.
    public func fetch(_ folder: S3Location, into staging: URL) async throws -> ExportLocation {
        let exportId = (folder.key as NSString).lastPathComponent
        let local = ExportLocation(directory: staging.appendingPathComponent(exportId.isEmpty ? "export" : exportId))
        do {
            try FileManager.default.createDirectory(at: local.dataDirectory, withIntermediateDirectories: true)
        } catch {
            throw ExportFormatError.unreadable(file: local.directory.path, reason: plainReason(error))
        }
        let prefix = folder.key.isEmpty ? "" : folder.key + "/"
        // Only the export's own files: its manifests and checksums, and data/ one level down.
        let objects = try await client.listAllObjects(bucket: folder.bucket, prefix: prefix).filter { object in
            let relative = object.key.dropFirst(prefix.count)
            return relative.hasPrefix("manifest-") ? !relative.contains("/") : relative.hasPrefix("data/") && relative.dropFirst(5).contains("/") == false
        }
        let client = self.client
        try await withThrowingTaskGroup(of: Void.self) { group in
            var pending = objects[...]
            func startNext() {
                guard let object = pending.popFirst() else { return }
                group.addTask {
                    let relative = String(object.key.dropFirst(prefix.count))
                    let file = local.directory.appendingPathComponent(relative)
                    let (info, _) = try await client.downloadObject(bucket: folder.bucket, key: object.key, to: file)
                    if info.size != object.size {
                        throw S3Error.integrity(
                            bucket: folder.bucket, key: object.key, reason: "the listing says \(object.size) bytes, the object has \(info.size)")
                    }
                }
            }
            for _ in 0..<fileConcurrency { startNext() }
            while try await group.next() != nil { startNext() }
        }
        return local
    }
}

/// The keys a publish has stored so far, for cleaning up after a failure.
private final class Uploaded: Sendable {
    private let state = Mutex<(keys: [String], bytes: Int)>(([], 0))
    func add(_ key: String, bytes: Int) { state.withLock { $0.keys.append(key); $0.bytes += bytes } }
    var keys: [String] { state.withLock { $0.keys } }
    var bytes: Int { state.withLock { $0.bytes } }
}
