// An export read as a migration source: its data files, key schema and size, from S3 or a local folder.
import DynamoClient
import DynamoCore
import Foundation
import Mappings
import RunState
import S3Client

/// One data file of an export source.
public struct ExportSourceFile: Sendable, Equatable {
    /// `data/<name>.json.gz`, as messages name it.
    public var name: String
    /// The object key (S3) or absolute path (local).
    public var path: String
    public var bytes: Int
    /// From manifest-files.json, when there is one.
    public var itemCount: Int?
    /// The MD5 (base64) manifest-files.json gives, checked after reading.
    public var md5Checksum: String? = nil
}

/// An export source opened: where its files are and what it holds.
///
/// Our exports record the table's key schema in `manifest-summary.json`; DynamoDB's native exports do
/// not (and moto writes no manifests at all), so their key schema comes from the mapping's `key:`.
public struct ExportSource: Sendable {
    public enum Place: Sendable {
        case local(URL)
        case s3(S3Location, S3Client)
    }
    /// The mapping's spelling of the export (the source's name in checkpoints and reports).
    public var url: String
    public var place: Place
    /// Data files in name order (a file's index is its checkpoint segment).
    public var files: [ExportSourceFile]
    public var keySchema: KeySchema
    /// From the manifests, when the export has them.
    public var itemCount: Int?
    /// The table the export was taken of, when recorded (ours).
    public var tableName: String?
    /// Whether manifests were found (false for moto's native exports, which write only data files).
    public var hasManifests: Bool
    /// Our summary's content checksum, when recorded.
    public var recordedChecksum: ContentChecksum?

    public var bytes: Int { files.reduce(0) { $0 + $1.bytes } }

    /// A table description standing in for the export's table (key schema, indexes; billing on demand).
    public var tableDescription: TableDescription {
        .recorded(name: url, keySchema: keySchema, itemCount: itemCount ?? 0, sizeBytes: bytes)
    }

    /// Opens the export `spec` names; S3 is reached with `client`'s connection.
    public static func open(_ spec: ExportSourceSpec, client: DynamoDBClient) async throws(ExportSourceError) -> ExportSource {
        do {
            switch try ExportStorage(parsing: spec.url) {
            case .local(let url): return try openLocal(spec, url)
            case .s3(let location):
                let s3 = S3Client(configuration: client.configuration, clock: client.clock, logger: client.logger, credentials: client.credentials)
                return try await openS3(spec, location, s3)
            }
        } catch let error as ExportSourceError {
            throw error
        } catch {
            throw ExportSourceError(spec: spec, reason: "\(error)", isInputError: false)
        }
    }

    static func keySchema(_ spec: ExportSourceSpec, recorded: KeySchema?) throws(ExportSourceError) -> KeySchema {
        let written = spec.key.map(KeySchema.init)
        switch (written, recorded) {
        case (let w?, let r?) where w != r:
            throw ExportSourceError(spec: spec, reason: "'key' says \(w), the export's summary records \(r); remove 'key' or correct it")
        case (let w?, _): return w
        case (nil, let r?): return r
        case (nil, nil):
            throw ExportSourceError(
                spec: spec,
                reason:
                    "the export does not record its table's key schema (DynamoDB's native exports do not); add 'key: pk:S' or 'key: pk:S,sk:N' beside 'export'")
        }
    }

    static func openLocal(_ spec: ExportSourceSpec, _ url: URL) throws -> ExportSource {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ExportSourceError(spec: spec, reason: "\(url.path) is not a folder")
        }
        if fm.fileExists(atPath: url.appendingPathComponent("manifest-summary.json").path) {
            let reader = try ExportReader(location: ExportLocation(directory: url))
            let files = reader.files.map { entry -> ExportSourceFile in
                let file = reader.location.dataFile(forKey: entry.dataFileS3Key)
                let size = (try? fm.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
                return ExportSourceFile(
                    name: "data/" + file.lastPathComponent, path: file.path, bytes: size, itemCount: entry.itemCount,
                    md5Checksum: entry.md5Checksum)
            }.sorted { $0.name < $1.name }
            return ExportSource(
                url: spec.url, place: .local(url), files: files,
                keySchema: try keySchema(spec, recorded: reader.summary.dynamoMigrate?.keySchema),
                itemCount: reader.summary.itemCount, tableName: reader.summary.dynamoMigrate?.tableName, hasManifests: true,
                recordedChecksum: reader.summary.dynamoMigrate?.contentChecksum)
        }
        let data = url.appendingPathComponent("data")
        let names = ((try? fm.contentsOfDirectory(atPath: data.path)) ?? []).filter { $0.hasSuffix(".gz") }.sorted()
        guard !names.isEmpty else {
            throw ExportSourceError(spec: spec, reason: "\(url.path) holds no manifest-summary.json and no data/*.gz files: it is not an export folder")
        }
        let files = names.map { name -> ExportSourceFile in
            let file = data.appendingPathComponent(name)
            let size = (try? fm.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
            return ExportSourceFile(name: "data/" + name, path: file.path, bytes: size, itemCount: nil)
        }
        return ExportSource(
            url: spec.url, place: .local(url), files: files, keySchema: try keySchema(spec, recorded: nil),
            itemCount: nil, tableName: nil, hasManifests: false, recordedChecksum: nil)
    }

    static func openS3(_ spec: ExportSourceSpec, _ given: S3Location, _ s3: S3Client) async throws -> ExportSource {
        var folder = given
        while folder.key.hasSuffix("/") { folder.key.removeLast() }
        let objects = try await s3.listAllObjects(bucket: folder.bucket, prefix: folder.key + "/")
        let byKey = Dictionary(objects.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let dataPrefix = folder.key + "/data/"
        let dataObjects = objects.filter { $0.key.hasPrefix(dataPrefix) && $0.key.hasSuffix(".gz") && !$0.key.dropFirst(dataPrefix.count).contains("/") }
        let summaryKey = folder.key + "/manifest-summary.json"
        let filesKey = folder.key + "/manifest-files.json"
        if byKey[summaryKey] != nil, byKey[filesKey] != nil {
            let summary = try ExportSummary.decode(try await s3.getObject(bucket: folder.bucket, key: summaryKey), file: "manifest-summary.json")
            let entries = try ManifestFileEntry.decodeLines(try await s3.getObject(bucket: folder.bucket, key: filesKey), file: "manifest-files.json")
            var files: [ExportSourceFile] = []
            for entry in entries {
                // DynamoDB's keys carry the export's prefix, ours do not: only the file name under data/ counts.
                let name = (entry.dataFileS3Key as NSString).lastPathComponent
                guard let object = byKey[dataPrefix + name] else {
                    throw ExportSourceError(spec: spec, reason: "manifest-files.json lists data/\(name), which is not in \(folder)")
                }
                files.append(
                    ExportSourceFile(name: "data/" + name, path: object.key, bytes: object.size, itemCount: entry.itemCount, md5Checksum: entry.md5Checksum))
            }
            return ExportSource(
                url: spec.url, place: .s3(folder, s3), files: files.sorted { $0.name < $1.name },
                keySchema: try keySchema(spec, recorded: summary.dynamoMigrate?.keySchema), itemCount: summary.itemCount,
                tableName: summary.dynamoMigrate?.tableName, hasManifests: true, recordedChecksum: summary.dynamoMigrate?.contentChecksum)
        }
        guard !dataObjects.isEmpty else {
            let reason =
                objects.isEmpty
                ? "nothing is stored under \(folder)/ (check the bucket, prefix and export id)"
                : "\(folder) holds no manifest-summary.json and no data/*.gz files: it is not an export folder (name the AWSDynamoDB/<export id> folder)"
            throw ExportSourceError(spec: spec, reason: reason)
        }
        let files = dataObjects.sorted { $0.key < $1.key }.map {
            ExportSourceFile(name: "data/" + ($0.key as NSString).lastPathComponent, path: $0.key, bytes: $0.size, itemCount: nil)
        }
        return ExportSource(
            url: spec.url, place: .s3(folder, s3), files: files, keySchema: try keySchema(spec, recorded: nil),
            itemCount: nil, tableName: nil, hasManifests: false, recordedChecksum: nil)
    }

    /// Reads data file `file` in batches (downloaded to `staging` first when in S3, removed afterwards),
    /// then checks its item count and MD5 against manifest-files.json when there is one.
    ///
    /// The items are handed on before the file's end is checked (a file is streamed), so a file that
    /// fails a check may have passed some items on: the caller treats the whole file as unread.
    public func forEachItem(
        in file: ExportSourceFile, staging: URL, batchSize: Int = 100, _ body: ([Item]) async throws -> Void
    ) async throws -> Int {
        let read: (items: Int, md5: [UInt8])
        switch place {
        case .local:
            read = try await DataFileReader.forEachItem(at: URL(fileURLWithPath: file.path), name: file.name, batchSize: batchSize, body)
        case .s3(let folder, let s3):
            let local = staging.appendingPathComponent(UUID().uuidString + ".json.gz")
            defer { try? FileManager.default.removeItem(at: local) }
            let (info, _) = try await s3.downloadObject(bucket: folder.bucket, key: file.path, to: local)
            if info.size != file.bytes {
                throw S3Error.integrity(bucket: folder.bucket, key: file.path, reason: "the listing says \(file.bytes) bytes, the object has \(info.size)")
            }
            read = try await DataFileReader.forEachItem(at: local, name: file.name, batchSize: batchSize, body)
        }
        if let expected = file.itemCount, expected != read.items {
            throw ExportFormatError.malformed(file: file.name, line: nil, reason: "holds \(read.items) items, manifest-files.json says \(expected)")
        }
        if let expected = file.md5Checksum, expected != Data(read.md5).base64EncodedString() {
            throw ExportFormatError.malformed(file: file.name, line: nil, reason: "its MD5 is not the one manifest-files.json gives (damaged or replaced)")
        }
        return read.items
    }
}

/// An export source that cannot be read, naming where the mapping gives it.
public struct ExportSourceError: Error, Sendable, CustomStringConvertible {
    public var spec: ExportSourceSpec
    public var reason: String
    /// The mapping is wrong (no key schema, not an export folder), rather than S3 failing to answer.
    public var isInputError: Bool

    public init(spec: ExportSourceSpec, reason: String, isInputError: Bool = true) {
        self.spec = spec
        self.reason = reason
        self.isInputError = isInputError
    }

    public var description: String { "\(spec.location): export source \(spec.url): \(reason)" }
}

extension ExportSource {
    /// Folds every item of the export, `concurrency` data files at a time, one partial per file (in
    /// file order): ``ParallelScan/run(makePartial:fold:)`` for an export, so checksums read it alike.
    public func run<Partial: Sendable>(
        concurrency: Int = 4,
        makePartial: @escaping @Sendable () -> Partial,
        fold: @escaping @Sendable (inout Partial, [Item]) throws -> Void
    ) async throws -> [Partial] {
        let staging = FileManager.default.temporaryDirectory.appendingPathComponent("dynamo-migrate-export-read-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: staging) }
        return try await withThrowingTaskGroup(of: (Int, Partial).self) { group in
            var results: [(Int, Partial)] = []
            for (index, file) in files.enumerated() {
                if index >= max(1, concurrency), let result = try await group.next() { results.append(result) }
                group.addTask {
                    var partial = makePartial()
                    _ = try await forEachItem(in: file, staging: staging, batchSize: 500) { items in try fold(&partial, items) }
                    return (index, partial)
                }
            }
            for try await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }
}
