import DynamoClient
import DynamoCore
import Foundation
import Logging
import RunState
import S3Client
import TableIO

/// Why a native export or import cannot be started, did not complete, or does not check out.
public enum NativeTransferError: Error, Sendable, CustomStringConvertible {
    case pointInTimeRecoveryOff(table: String)
    case exportFailed(arn: String, code: String?, message: String?)
    case importFailed(arn: String, table: String, code: String?, message: String?)
    case noDataFiles(folder: S3Location, seen: [String])
    case manifestMismatch(folder: S3Location, reason: String)
    case contentMismatch(table: String, expected: ContentChecksum, actual: ContentChecksum)

    public var description: String {
        switch self {
        case .pointInTimeRecoveryOff(let table):
            "\(table) has point-in-time recovery off, and DynamoDB exports only from its PITR history: turn it on first "
                + "(aws dynamodb update-continuous-backups --table-name \(table) "
                + "--point-in-time-recovery-specification PointInTimeRecoveryEnabled=true) and export again"
        case .exportFailed(let arn, let code, let message):
            "the export \(arn) FAILED: \(code ?? "no code")\(message.map { ": \($0)" } ?? "")"
        case .importFailed(let arn, let table, let code, let message):
            "the import \(arn) into \(table) FAILED: \(code ?? "no code")\(message.map { ": \($0)" } ?? "")"
        case .noDataFiles(let folder, let seen):
            "\(folder) holds no data files (data/*.json.gz)"
                + (seen.isEmpty ? "" : "; objects seen: \(seen.prefix(5).joined(separator: ", "))\(seen.count > 5 ? ", …" : "")")
        case .manifestMismatch(let folder, let reason):
            "the export in \(folder) does not match its manifests: \(reason)"
        case .contentMismatch(let table, let expected, let actual):
            "\(table) does not hold what the export holds: export \(expected), table \(actual)"
        }
    }
}

/// What reading every data file of a native export found.
public struct NativeExportVerification: Sendable {
    /// `<prefix>/AWSDynamoDB/<export id>`.
    public var folder: S3Location
    /// Whether DynamoDB's manifests (manifest-summary.json, manifest-files.json) were there and were
    /// checked: AWS writes them, moto writes only the data files.
    public var manifestsChecked: Bool
    public var dataFiles: Int
    public var compressedBytes: Int
    /// The content checksum of every item in the data files (the same checksum `checksum` and `verify` compute).
    public var checksum: ContentChecksum
    /// What was and was not checked, in words for the operator.
    public var notes: [String]
}

/// DynamoDB's own export to S3 (ExportTableToPointInTime) and import from S3 (ImportTable): started,
/// waited for with progress, and then checked by reading what AWS wrote, so "COMPLETED" is never
/// taken on trust.
public struct NativeTransfers: Sendable {
    public let client: DynamoDBClient
    public let s3: S3Client
    public let waiter: Waiter
    public let logger: Logger
    /// Data files read at once while verifying.
    public var concurrency: Int

    public init(client: DynamoDBClient, s3: S3Client, waiter: Waiter, concurrency: Int = 4, logger: Logger? = nil) {
        self.client = client; self.s3 = s3; self.waiter = waiter
        self.concurrency = max(1, concurrency); self.logger = logger ?? client.logger
    }

    /// The folder DynamoDB writes an export into: `<destination>/AWSDynamoDB/<export id>`.
    public static func folder(of export: NativeExportDescription, under destination: S3Location) -> S3Location {
        destination.appending("AWSDynamoDB").appending(export.exportId)
    }

    /// Starts ExportTableToPointInTime of `table` into `destination`, waits until it ends and verifies
    /// the files. The client token is new for each call: a retry after a lost answer inside this call
    /// reuses it (DynamoDB returns the same export), a new run starts a new export.
    public func export(
        table: String, to destination: S3Location, kind: NativeExportKind, encryption: NativeExportEncryption?,
        clientToken: String = UUID().uuidString, progress: @Sendable (NativeExportDescription) -> Void = { _ in }
    ) async throws -> (export: NativeExportDescription, verification: NativeExportVerification) {
        let description = try await client.describeTable(table)
        let pitr = try await client.describeContinuousBackups(table: table)
        guard pitr.isPointInTimeRecoveryEnabled else { throw NativeTransferError.pointInTimeRecoveryOff(table: table) }
        guard let arn = description.arn else {
            throw DynamoDBError.invalidRequest(operation: "ExportTableToPointInTime", reason: "DescribeTable of \(table) names no TableArn")
        }
        // The export folders there now: DynamoDB names the new one after the export's id, moto after
        // another id, so the folder that appears is found by difference when the expected one is empty.
        let before = try await exportFolders(under: destination)
        let started = try await client.exportTableToPointInTime(
            NativeExportRequest(
                tableArn: arn, destination: S3BucketLocation(bucket: destination.bucket, prefix: Self.trimmed(destination.key)),
                kind: kind, encryption: encryption, clientToken: clientToken))
        logger.info("export \(started.exportArn) of \(table) started into \(destination)")
        let finished = try await client.waitForExport(started.exportArn, waiter: waiter, progress: progress)
        guard finished.status == "COMPLETED" else {
            throw NativeTransferError.exportFailed(arn: finished.exportArn, code: finished.failureCode, message: finished.failureMessage)
        }
        var folder = Self.folder(of: finished, under: destination)
        var note: String?
        let after = try await exportFolders(under: destination)
        if !after.contains(finished.exportId) {
            let appeared = after.subtracting(before)
            guard appeared.count == 1, let id = appeared.first else {
                throw NativeTransferError.noDataFiles(folder: folder, seen: appeared.sorted())
            }
            folder = destination.appending("AWSDynamoDB").appending(id)
            note = "the endpoint wrote the export into AWSDynamoDB/\(id), not AWSDynamoDB/\(finished.exportId) as DynamoDB does"
        }
        var verification = try await verify(folder: folder, expectedItemCount: finished.itemCount)
        if let note { verification.notes.insert(note, at: 0) }
        return (finished, verification)
    }

    /// Reads every data file under `folder` (`…/AWSDynamoDB/<export id>`): MD5 against S3's ETag and
    /// against manifest-files.json when DynamoDB wrote one, items parsed and counted against the
    /// manifests and `expectedItemCount`, and the content checksum of all items.
    public func verify(folder: S3Location, expectedItemCount: Int? = nil) async throws -> NativeExportVerification {
        let objects = try await s3.listAllObjects(bucket: folder.bucket, prefix: folder.key.hasSuffix("/") ? folder.key : folder.key + "/")
        let byKey = Dictionary(objects.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let summaryKey = folder.appending("manifest-summary.json").key
        let filesKey = folder.appending("manifest-files.json").key
        var notes: [String] = []
        var manifestEntries: [String: ManifestFileEntry]?
        var summaryCount: Int?
        if byKey[summaryKey] != nil, byKey[filesKey] != nil {
            let summary = try ExportSummary.decode(try await s3.getObject(bucket: folder.bucket, key: summaryKey), file: "manifest-summary.json")
            let entries = try ManifestFileEntry.decodeLines(try await s3.getObject(bucket: folder.bucket, key: filesKey), file: "manifest-files.json")
            summaryCount = summary.itemCount
            // manifest-files.json names data files by their full key (with the export's prefix).
            manifestEntries = Dictionary(entries.map { ($0.dataFileS3Key, $0) }, uniquingKeysWith: { a, _ in a })
            let listed = entries.reduce(0) { $0 + $1.itemCount }
            guard listed == summary.itemCount else {
                throw NativeTransferError.manifestMismatch(
                    folder: folder, reason: "manifest-files.json lists \(listed) items, manifest-summary.json says \(summary.itemCount)")
            }
        } else {
            notes.append(
                "no manifest-summary.json/manifest-files.json in \(folder): DynamoDB writes them, this endpoint did not "
                    + "(moto writes only data files); checked by reading every data file")
        }
        let dataPrefix = folder.appending("data").key + "/"
        let dataFiles = objects.filter { $0.key.hasPrefix(dataPrefix) && $0.key.hasSuffix(".gz") }.sorted { $0.key < $1.key }
        guard !dataFiles.isEmpty || (summaryCount ?? 0) == 0 && manifestEntries != nil else {
            throw NativeTransferError.noDataFiles(folder: folder, seen: objects.map(\.key))
        }
        if let manifestEntries {
            let missing = manifestEntries.keys.filter { byKey[$0] == nil }.sorted()
            guard missing.isEmpty else {
                throw NativeTransferError.manifestMismatch(folder: folder, reason: "data files listed but missing: \(missing.joined(separator: ", "))")
            }
        }
        let checksummer = MultisetContentChecksummer()
        let results = try await withStagingFolder { staging in
            try await withThrowingTaskGroup(of: (String, Int, ContentChecksum, [UInt8]).self) { group in
                var pending = dataFiles[...]
                var results: [(String, Int, ContentChecksum, [UInt8])] = []
                func startNext() {
                    guard let object = pending.popFirst() else { return }
                    group.addTask {
                        let local = staging.appendingPathComponent(UUID().uuidString + ".gz")
                        defer { try? FileManager.default.removeItem(at: local) }
                        let (_, md5) = try await s3.downloadObject(bucket: folder.bucket, key: object.key, to: local)
                        var sum = checksummer.empty
                        let name = "data/" + (object.key as NSString).lastPathComponent
                        let (count, _) = try await DataFileReader.forEachItem(at: local, name: name, batchSize: 500) { batch in
                            sum = checksummer.combine(sum, checksummer.checksum(items: batch))
                        }
                        return (object.key, count, sum, md5)
                    }
                }
                for _ in 0..<concurrency { startNext() }
                while let result = try await group.next() {
                    results.append(result)
                    startNext()
                }
                return results
            }
        }
        var total = checksummer.empty
        for (key, count, sum, md5) in results {
            total = checksummer.combine(total, sum)
            if let entry = manifestEntries?[key] {
                guard entry.itemCount == count else {
                    throw NativeTransferError.manifestMismatch(
                        folder: folder, reason: "\(key) holds \(count) items, manifest-files.json says \(entry.itemCount)")
                }
                guard entry.md5Checksum == Data(md5).base64EncodedString() else {
                    throw NativeTransferError.manifestMismatch(folder: folder, reason: "\(key) does not have the MD5 manifest-files.json gives")
                }
            }
        }
        for (name, expected) in [("manifest-summary.json", summaryCount), ("DescribeExport's ItemCount", expectedItemCount)] {
            if let expected, expected != total.itemCount {
                throw NativeTransferError.manifestMismatch(folder: folder, reason: "the data files hold \(total.itemCount) items, \(name) says \(expected)")
            }
        }
        if expectedItemCount == nil && summaryCount == nil { notes.append("no item count to compare with: counted \(total.itemCount) items") }
        return NativeExportVerification(
            folder: folder, manifestsChecked: manifestEntries != nil, dataFiles: dataFiles.count,
            compressedBytes: dataFiles.reduce(0) { $0 + $1.size }, checksum: total, notes: notes)
    }

    /// ImportTable of the export in `folder` into a new table `table`, waits until it ends, then compares
    /// the table's content checksum with the export's (computed by reading the export's data files first).
    public func importTable(
        from folder: S3Location, into table: CreateTableInput, clientToken: String = UUID().uuidString,
        checksumSegments: Int = 4, progress: @Sendable (NativeImportDescription) -> Void = { _ in }
    ) async throws -> (import: NativeImportDescription, export: NativeExportVerification, table: ContentChecksum) {
        let expected = try await verify(folder: folder)
        let started = try await client.importTable(
            NativeImportRequest(
                source: S3BucketLocation(bucket: folder.bucket, prefix: folder.appending("data").key + "/"), table: table,
                clientToken: clientToken))
        logger.info("import \(started.importArn) into \(table.name) started from \(folder)")
        let finished = try await client.waitForImport(started.importArn, waiter: waiter, progress: progress)
        guard finished.status == "COMPLETED" else {
            throw NativeTransferError.importFailed(arn: finished.importArn, table: table.name, code: finished.failureCode, message: finished.failureMessage)
        }
        try await client.waitUntilActive(table.name, timeout: waiter.timeout)
        let actual = try await MultisetContentChecksummer().scanChecksum(table: table.name, client: client, segments: checksumSegments)
        guard actual == expected.checksum else {
            throw NativeTransferError.contentMismatch(table: table.name, expected: expected.checksum, actual: actual)
        }
        return (finished, expected, actual)
    }

    /// The export ids under `<destination>/AWSDynamoDB/`.
    func exportFolders(under destination: S3Location) async throws -> Set<String> {
        let root = destination.appending("AWSDynamoDB").key + "/"
        let page = try await s3.listAllObjects(bucket: destination.bucket, prefix: root)
        return Set(page.compactMap { $0.key.dropFirst(root.count).split(separator: "/").first.map(String.init) })
    }

    static func trimmed(_ prefix: String) -> String {
        var prefix = prefix
        while prefix.hasSuffix("/") { prefix.removeLast() }
        return prefix
    }

    func withStagingFolder<T>(_ body: (URL) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dynamo-migrate-native-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try await body(directory)
    }
}
