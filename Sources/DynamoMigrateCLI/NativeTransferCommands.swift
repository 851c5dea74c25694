import ArgumentParser
import Backup
import DynamoClient
import Foundation
import RunState
import S3Client
import Synchronization
import TableIO

/// `export TABLE --native --to s3://…`: DynamoDB's own ExportTableToPointInTime instead of our Scan.
struct NativeExportOptions: ParsableArguments {
    @Flag(
        help: ArgumentHelp(
            "Let DynamoDB export the table to S3 (ExportTableToPointInTime: no read capacity used, needs PITR on), then verify what it wrote.",
            discussion: "Only with --to s3://bucket/prefix."))
    var native = false

    @Option(name: .customLong("export-time"), help: "With --native: the point in time to export (ISO 8601; default: now).")
    var exportTime: String?

    @Option(name: .customLong("incremental-from"), help: "With --native: an incremental export of the changes since this time (ISO 8601).")
    var incrementalFrom: String?

    @Option(name: .customLong("incremental-to"), help: "With --incremental-from: the end of the changes (ISO 8601; default: now).")
    var incrementalTo: String?

    @Flag(name: .customLong("old-images"), help: "With --incremental-from: include each changed item's old image too.")
    var oldImages = false

    @Option(name: .customLong("wait-timeout"), help: "With --native: how long to wait for DynamoDB to finish, e.g. 2h (default 6h).")
    var waitTimeout: String = "6h"

    func kind(now: Date) throws -> NativeExportKind {
        func date(_ text: String, _ flag: String) throws -> Date {
            guard let date = parsePointInTime(text) else {
                throw CLIError.usage("\(flag) \(text) is not an ISO 8601 time such as 2026-11-30T08:00:00Z")
            }
            return date
        }
        if let from = incrementalFrom {
            if exportTime != nil { throw CLIError.usage("--export-time is for full exports; an incremental one takes --incremental-from/--incremental-to") }
            let start = try date(from, "--incremental-from")
            let end = try incrementalTo.map { try date($0, "--incremental-to") } ?? now
            // DynamoDB's rules for an incremental window: at least 15 minutes, at most 24 hours.
            let length = end.timeIntervalSince(start)
            guard length >= 15 * 60, length <= 24 * 3600 else {
                throw CLIError.usage(
                    "--incremental-from/--incremental-to span \(formatSeconds(length)); DynamoDB takes 15 minutes to 24 hours")
            }
            return .incremental(from: start, to: end, newAndOldImages: oldImages)
        }
        if incrementalTo != nil || oldImages { throw CLIError.usage("--incremental-to and --old-images need --incremental-from") }
        return .full(at: try exportTime.map { try date($0, "--export-time") })
    }

    func timeout() throws -> Duration {
        guard let seconds = parseDurationSeconds(waitTimeout) else {
            throw CLIError.usage("--wait-timeout \(waitTimeout) is not a duration such as 90m or 6h")
        }
        return .seconds(seconds)
    }
}

/// `import s3://…/AWSDynamoDB/<id> --table T --native --key pk:S`: DynamoDB's own ImportTable.
struct NativeImportOptions: ParsableArguments {
    @Flag(
        help: ArgumentHelp(
            "Let DynamoDB create the table from the export's files (ImportTable: no write capacity used), then compare checksums.",
            discussion: "Only from s3://; the table must not exist; --key gives its key schema; no transforms."))
    var native = false

    @Option(name: .customLong("import-wait-timeout"), help: "With --native: how long to wait for DynamoDB to finish, e.g. 2h (default 6h).")
    var waitTimeout: String = "6h"
}

/// A status line on stderr (polls of a long DynamoDB job), one per change of status.
func printStatusLine(_ line: String) {
    FileHandle.standardError.write(Data("\(line)\n".utf8))
}


extension ExportTableCommand {
    /// The `--native` path: ExportTableToPointInTime into `destination`, wait, verify the files.
    func runNative(destination: S3Location) async throws {
        let client = try ConnectionClients(global: global).sourceClient(side)
        let kind = try native.kind(now: Date())
        let upload = try s3.uploadOptions()
        let encryption: NativeExportEncryption? = upload.encryption.map {
            $0.algorithm == "AES256" ? .s3Managed : .kms(keyId: $0.kmsKeyId)
        }
        let s3Client = makeS3Client(sharing: client)
        let transfers = NativeTransfers(
            client: client, s3: s3Client,
            waiter: Waiter(clock: client.clock, timeout: try native.timeout(), pollInterval: .seconds(2), maxPollInterval: .seconds(30)))
        // A missing or forbidden bucket is said before anything starts.
        try await S3ExportTransfer(client: s3Client).checkBucket(destination)
        let started = Date()
        let seen = StatusLines()
        let result: (export: NativeExportDescription, verification: NativeExportVerification)
        do {
            result = try await transfers.export(table: table, to: destination, kind: kind, encryption: encryption) { d in
                if !outputFormat.json { seen.report("export \(d.exportId): \(d.status)") }
            }
        } catch let error as NativeTransferError {
            throw CLIError.failed(error.description)
        }
        let v = result.verification
        if outputFormat.json {
            struct Output: Encodable {
                var exportArn: String, status: String, folder: String, itemCount: Int, dataFiles: Int, compressedBytes: Int
                var contentChecksum: String, manifestsChecked: Bool, notes: [String], durationSeconds: Double
            }
            print(
                try jsonText(
                    Output(
                        exportArn: result.export.exportArn, status: result.export.status, folder: v.folder.description,
                        itemCount: v.checksum.itemCount, dataFiles: v.dataFiles, compressedBytes: v.compressedBytes,
                        contentChecksum: v.checksum.description, manifestsChecked: v.manifestsChecked, notes: v.notes,
                        durationSeconds: Date().timeIntervalSince(started))))
            return
        }
        print("DynamoDB exported \(formatCount(v.checksum.itemCount)) items of \(table) into \(v.folder) (\(result.export.exportArn))")
        print(
            "\(v.dataFiles) data file\(v.dataFiles == 1 ? "" : "s"), \(formatBytes(v.compressedBytes)) compressed, \(formatSeconds(Date().timeIntervalSince(started)))"
        )
        print("content checksum \(v.checksum)")
        print(v.manifestsChecked ? "verified: DynamoDB's manifests, every data file's MD5 and item count" : "verified: every data file read")
        for note in v.notes { print("note: \(note)") }
        print("compare it with the table: dynamo-migrate checksum \(table)  (equal while nothing wrote after the export time)")
    }
}

extension ImportCommand {
    /// The `--native` path: ImportTable from `folder` into a new table, then checksums compared.
    func runNative(from location: S3Location) async throws {
        guard let keyText = key else {
            throw CLIError.usage("import --native needs --key (e.g. --key pk:S,sk:N): DynamoDB's exports do not record the key schema")
        }
        if mapping != nil || source != nil { throw CLIError.usage("import --native cannot apply --mapping transforms: DynamoDB imports the files as they are") }
        guard let seconds = parseDurationSeconds(native.waitTimeout) else {
            throw CLIError.usage("--import-wait-timeout \(native.waitTimeout) is not a duration such as 90m or 6h")
        }
        let keySchema = try parseKeySchema(keyText)
        let client = try ConnectionClients(global: global).targetClient(side)
        if try await client.describeTableIfExists(table) != nil {
            throw CLIError.usage("\(table) already exists; ImportTable only creates new tables (drop --native to load into an existing one)")
        }
        let s3Client = makeS3Client(sharing: client)
        // The folder of one export: the location itself when it holds data/, else the one AWSDynamoDB/<id> below it.
        let folder: S3Location
        let direct = try await s3Client.listObjectsV2(bucket: location.bucket, prefix: location.appending("data").key + "/", maxKeys: 1)
        if !direct.objects.isEmpty {
            folder = location
        } else {
            let below = try await s3Client.listAllObjects(bucket: location.bucket, prefix: location.appending("AWSDynamoDB").key + "/")
            let ids = Set(
                below.compactMap { object -> String? in
                    let rest = object.key.dropFirst(location.appending("AWSDynamoDB").key.count + 1)
                    return rest.split(separator: "/").first.map(String.init)
                }
            ).sorted()
            guard ids.count == 1 else {
                throw CLIError.usage(
                    ids.isEmpty
                        ? "\(location) holds no export (no data/ folder, no AWSDynamoDB/<id>/ below it)"
                        : "\(location) holds \(ids.count) exports (\(ids.joined(separator: ", "))): name one, e.g. \(location.appending("AWSDynamoDB").appending(ids[0]))"
                )
            }
            folder = location.appending("AWSDynamoDB").appending(ids[0])
        }
        let transfers = NativeTransfers(
            client: client, s3: s3Client,
            waiter: Waiter(clock: client.clock, timeout: .seconds(seconds), pollInterval: .seconds(2), maxPollInterval: .seconds(30)))
        let started = Date()
        let seen = StatusLines()
        let result: (import: NativeImportDescription, export: NativeExportVerification, table: ContentChecksum)
        do {
            result = try await transfers.importTable(from: folder, into: CreateTableInput(name: table, keySchema: keySchema)) { d in
                if !outputFormat.json { seen.report("import into \(table): \(d.status), \(d.processedItemCount ?? 0) items processed") }
            }
        } catch let error as NativeTransferError {
            throw CLIError.failed(error.description)
        }
        if outputFormat.json {
            struct Output: Encodable {
                var importArn: String, table: String, folder: String, itemCount: Int, contentChecksum: String, durationSeconds: Double
            }
            print(
                try jsonText(
                    Output(
                        importArn: result.import.importArn, table: table, folder: folder.description, itemCount: result.table.itemCount,
                        contentChecksum: result.table.description, durationSeconds: Date().timeIntervalSince(started))))
            return
        }
        print("DynamoDB imported \(formatCount(result.table.itemCount)) items from \(folder) into \(table) (\(result.import.importArn))")
        print("content checksum \(result.table): equal to the export's")
        for note in result.export.notes { print("note: \(note)") }
    }
}

/// Prints a status line only when it differs from the one before (a poll every few seconds for hours
/// would otherwise flood the log).
final class StatusLines: Sendable {
    let last = Mutex<String?>(nil)
    func report(_ line: String) {
        let changed = last.withLock { last -> Bool in
            defer { last = line }
            return last != line
        }
        if changed { printStatusLine(line) }
    }
}
