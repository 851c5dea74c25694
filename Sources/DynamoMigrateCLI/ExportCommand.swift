import ArgumentParser
import Backup
import DynamoClient
import Foundation
import RunState
import S3Client
import Synchronization
import TableIO

/// `dynamo-migrate export`: a table to files in DynamoDB's S3 export layout, and `export verify`.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a table to local files or S3 in DynamoDB's S3 export layout, or verify such an export.",
        subcommands: [ExportTableCommand.self, ExportVerifyCommand.self],
        defaultSubcommand: ExportTableCommand.self)
}

struct ExportTableCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "table",
        abstract: "Export a table: dynamo-migrate export TABLE --to DIR|s3://bucket/prefix.",
        discussion: """
            Writes DIR/AWSDynamoDB/<export id>/ with manifest-summary.json, manifest-files.json, their .md5 files and \
            data/*.json.gz (one {"Item":{...}} per line), as DynamoDB's export to S3 does, so tools that read those \
            exports read these. The summary also records the key schema, indexes and a content checksum. \
            With --to s3://bucket/prefix the same folder goes to S3 (written locally in a temporary folder, then \
            uploaded: large data files as multipart uploads, the summary last; a failed upload is deleted). \
            The export is a parallel scan, not a point-in-time snapshot: items written while it runs may or may not be in it.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var side: SourceConnectionOptions

    @Argument(help: "The table to export.")
    var table: String

    @Option(help: "The folder to write the export into (created if missing), or s3://bucket/prefix.")
    var to: String

    @OptionGroup var s3: S3WriteOptions

    @OptionGroup var native: NativeExportOptions

    @OptionGroup var scan: ScanOptions

    @Option(name: .customLong("gzip-level"), help: "gzip level: 0 (store) to 9 (smallest).")
    var gzipLevel: Int = 6

    @Option(name: .customLong("max-file-mb"), help: "Start a new data file after this many megabytes of JSON (before compression).")
    var maxFileMB: Int = 1024

    @OptionGroup var outputFormat: OutputFormatOptions

    func validate() throws {
        try validateTableNames([table])
        if !(0...9).contains(gzipLevel) { throw ValidationError("--gzip-level must be 0 to 9") }
        if maxFileMB < 1 { throw ValidationError("--max-file-mb must be at least 1") }
    }

    struct Output: Encodable {
        var exportDirectory: String
        var table: String
        var itemCount: Int
        var dataFiles: Int
        var compressedBytes: Int
        var uncompressedBytes: Int
        var contentChecksum: String
        var durationSeconds: Double
        var itemsPerSecond: Double
    }

    func run() async throws {
        try await runReportingErrors {
            let storage = try parseExportStorage(to)
            if native.native {
                guard case .s3(let destination) = storage else {
                    throw CLIError.usage("--native exports go to S3: --to s3://bucket/prefix (DynamoDB cannot write to \(to))")
                }
                return try await runNative(destination: destination)
            }
            let client = try ConnectionClients(global: global).sourceClient(side)
            let progress = LiveCounter(label: "exported")
            var options = ExportOptions(segments: scan.segments(default: 4), gzipLevel: gzipLevel, maxFileBytes: maxFileMB << 20)
            let result: ExportResult
            let exportDirectory: String
            switch storage {
            case .local(let url):
                result = try await TableExporter(client: client, logger: client.logger).export(
                    table: table, to: url, options: options, progress: { progress.update($0) })
                exportDirectory = result.location.directory.path
            case .s3(let destination):
                let upload = try s3.uploadOptions()
                let transfer = S3ExportTransfer(client: makeS3Client(sharing: client), upload: upload)
                // A missing or forbidden bucket is said before the table is scanned.
                try await transfer.checkBucket(destination)
                let leftovers = try await transfer.leftovers(under: destination)
                for folder in leftovers.incompleteExports {
                    printWarning(
                        "\(folder) has no manifest-summary.json: an export that was interrupted (or is running now); delete it once nothing writes there")
                }
                for upload in leftovers.pendingUploads {
                    printWarning(
                        "multipart upload \(upload.uploadId) of s3://\(destination.bucket)/\(upload.key) was never completed (an interrupted export, or one running now); abort it once nothing writes there, or let a lifecycle rule do it"
                    )
                }
                options.s3 = ExportS3Fields(
                    bucket: destination.bucket, prefix: destination.key,
                    sseAlgorithm: upload.encryption?.algorithm, kmsKeyId: upload.encryption?.kmsKeyId)
                let published = try await withStagingDirectory { staging in
                    let result = try await TableExporter(client: client, logger: client.logger).export(
                        table: table, to: staging, options: options, progress: { progress.update($0) })
                    let folder = try await transfer.publish(result.location, to: destination)
                    return (result, folder.description)
                }
                result = published.0
                exportDirectory = published.1
            }
            progress.finish()
            let extras = result.summary.dynamoMigrate
            let output = Output(
                exportDirectory: exportDirectory, table: table, itemCount: result.summary.itemCount,
                dataFiles: result.files.count, compressedBytes: result.compressedBytes,
                uncompressedBytes: extras?.uncompressedBytes ?? 0, contentChecksum: extras?.contentChecksum.description ?? "",
                durationSeconds: result.durationSeconds,
                itemsPerSecond: result.durationSeconds > 0 ? Double(result.summary.itemCount) / result.durationSeconds : 0)
            if outputFormat.json { print(try jsonText(output)); return }
            print("exported \(formatCount(output.itemCount)) items of \(table) into \(output.exportDirectory)")
            print(
                String(
                    format: "%d data file%@, %@ compressed (%@ of JSON), %.1f s, %.0f items/s",
                    output.dataFiles, output.dataFiles == 1 ? "" : "s", formatBytes(output.compressedBytes),
                    formatBytes(output.uncompressedBytes), output.durationSeconds, output.itemsPerSecond))
            print("content checksum \(output.contentChecksum)")
            print("check it any time with: dynamo-migrate export verify \(output.exportDirectory)")
        }
    }
}

struct ExportVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Reread an export: manifests against their .md5 files, every data file's MD5, item counts and the content checksum.",
        discussion: "Exit status 1 when anything does not match; every problem names its file.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The export folder (AWSDynamoDB/<id>/, or a folder holding AWSDynamoDB/), or s3://bucket/prefix.")
    var directory: String

    @OptionGroup var outputFormat: OutputFormatOptions

    func run() async throws {
        try await runReportingErrors {
            var results: [ExportVerification] = []
            switch try parseExportStorage(directory) {
            case .local(let url):
                let locations: [ExportLocation]
                do { locations = try ExportLocation.find(in: url) } catch { throw CLIError.usage("\(error)") }
                for location in locations { results.append(await ExportVerifier().verify(location)) }
            case .s3(let location):
                // Each export is downloaded (streamed, each object checked against its size and ETag), then
                // verified like a local one.
                let client = try global.makeClient()
                let transfer = S3ExportTransfer(client: makeS3Client(sharing: client))
                let folders: [S3Location]
                do { folders = try await transfer.find(in: location) } catch let error as ExportFormatError { throw CLIError.usage(error.description) }
                for folder in folders {
                    var result = try await withStagingDirectory { staging in
                        let local = try await transfer.fetch(folder, into: staging)
                        return await ExportVerifier().verify(local)
                    }
                    result.exportDirectory = folder.description
                    results.append(result)
                }
            }
            if outputFormat.json {
                print(try jsonText(results))
            } else {
                for result in results {
                    print("\(result.exportDirectory)\(result.tableName.map { " (table \($0))" } ?? "")")
                    print(
                        "  \(result.dataFiles) data file\(result.dataFiles == 1 ? "" : "s"), \(formatCount(result.itemCount)) items"
                            + (result.contentChecked ? ", content checksum \(result.contentChecksum?.description ?? "")" : ""))
                    for note in result.notes { print("  note: \(note)") }
                    if result.ok {
                        print("  OK")
                    } else {
                        for problem in result.problems { print("  FAILED \(problem.file): \(problem.message)") }
                    }
                }
            }
            let failed = results.filter { !$0.ok }
            if !failed.isEmpty {
                throw CLIError.failed(
                    "\(failed.count) of \(results.count) export\(results.count == 1 ? "" : "s") failed verification; do not restore from \(failed.count == 1 ? "it" : "them") without checking the named files"
                )
            }
        }
    }
}

/// A count on standard error while work runs: a live line on a terminal, nothing otherwise.
final class LiveCounter: Sendable {
    let label: String
    let interactive = isatty(STDERR_FILENO) == 1
    let last = Mutex<ContinuousClock.Instant?>(nil)

    init(label: String) { self.label = label }

    func update(_ count: Int) {
        guard interactive else { return }
        let now = ContinuousClock.now
        let due = last.withLock { last -> Bool in
            if let l = last, now - l < .milliseconds(250) { return false }
            last = now
            return true
        }
        if due { FileHandle.standardError.write(Data("\r\(label) \(formatCount(count)) items".utf8)) }
    }

    func finish() {
        if interactive && last.withLock({ $0 }) != nil { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
