import ArgumentParser
import Backup
import DynamoClient
import Foundation
import Mappings
import RunState
import S3Client
import TableIO

/// `dynamo-migrate import`: an export (ours, or one DynamoDB wrote to S3 and you downloaded) into a table.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Load an export into a new (--create) or existing table, optionally through a mapping source's transforms.",
        discussion: """
            Reads DynamoDB's export layout: ours (dynamo-migrate export) or DynamoDB's own export to S3 after \
            `aws s3 sync s3://bucket/prefix/AWSDynamoDB/<id> DIR`, or straight from s3://bucket/prefix (downloaded and \
            checked first). Items are written with BatchWriteItem; \
            unprocessed items are resent until written. Items already in an existing table with the same key are overwritten. \
            Run `dynamo-migrate export verify DIR` first.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var side: TargetConnectionOptions

    @Argument(help: "The export folder (AWSDynamoDB/<id>/, or a folder holding one AWSDynamoDB/<id>/).")
    var directory: String

    @Option(help: "The table to load into.")
    var table: String

    @Flag(help: "Create the table (it must not exist) with the export's key schema and indexes, or --key.")
    var create = false

    @Option(help: "Key schema, e.g. pk:S or pk:S,sk:N: required with --create for DynamoDB's own exports.")
    var key: String?

    @Option(help: "A mapping file whose source's transforms to apply (with --source).")
    var mapping: String?

    @Option(help: "The source table name in --mapping whose transforms apply.")
    var source: String?

    @Option(help: "Value of {env} in the mapping.")
    var env: String?

    @Option(help: "BatchWriteItem tasks.")
    var writers: Int = 4

    @OptionGroup var outputFormat: OutputFormatOptions

    func validate() throws {
        try validateTableNames([table] + (source.map { [$0] } ?? []))
        if (mapping == nil) != (source == nil) { throw ValidationError("--mapping and --source go together") }
        if writers < 1 { throw ValidationError("--writers must be at least 1") }
        if let key, (try? parseKeySchema(key)) == nil { throw ValidationError("--key must look like pk:S or pk:S,sk:N (types S, N, B)") }
    }

    @OptionGroup var native: NativeImportOptions

    @Flag(
        name: .customLong("skip-verify"), help: "Load without first checking the export's MD5s, counts and content checksum (for salvaging a damaged export).")
    var skipVerify = false

    func run() async throws {
        try await runReportingErrors {
            if native.native {
                guard case .s3(let location) = try parseExportStorage(directory) else {
                    throw CLIError.usage("--native imports read from S3: give s3://bucket/prefix (DynamoDB cannot read \(directory))")
                }
                return try await runNative(from: location)
            }
            let client = try ConnectionClients(global: global).targetClient(side)
            switch try parseExportStorage(directory) {
            case .local(let url):
                let reader: ExportReader
                do { reader = try ExportReader.open(url) } catch { throw CLIError.usage("\(error)") }
                try await load(reader, client: client, shownAs: reader.location.directory.path)
            case .s3(let location):
                // Downloaded first (streamed, each object checked against its size and ETag), then loaded as a
                // local export; the staging folder is removed afterwards.
                try await withStagingDirectory { staging in
                    let (local, folder) = try await fetchExport(location, client: client, into: staging)
                    let reader: ExportReader
                    do { reader = try ExportReader(location: local) } catch { throw CLIError.usage("\(folder): \(error)") }
                    try await load(reader, client: client, shownAs: folder.description)
                }
            }
        }
    }

    func load(_ reader: ExportReader, client: DynamoDBClient, shownAs exportName: String) async throws {
        do {
            var options = ImportOptions(createTable: create, keySchema: try key.map(parseKeySchema), writers: writers)
            if let mapping, let source {
                let document: MappingDocument
                do { document = try MappingLoader.load(path: mapping, env: env) } catch {
                    throw CLIError.usage("the mapping file has problems:\n\(error)")
                }
                guard document.importTransform(forSource: source, partitionKey: "pk") != nil else {
                    throw CLIError.usage("no source in \(mapping) matches '\(source)'")
                }
                options.transform = { key in document.importTransform(forSource: source, partitionKey: key.partitionKey.name) ?? .identity }
            }
            if !skipVerify {
                // Never load a damaged export: check its manifests, MD5s, counts and content checksum first.
                let verification = await ExportVerifier().verify(reader.location)
                guard verification.ok else {
                    throw CLIError.failed(
                        "the export in \(exportName) does not verify, so nothing was loaded:\n"
                            + verification.problems.map { "  \($0.description)" }.joined(separator: "\n")
                            + "\n(`--skip-verify` loads it anyway, for salvaging what is readable)")
                }
            }
            let progress = LiveCounter(label: "imported")
            let result: ImportResult
            do {
                result = try await TableImporter(client: client, logger: client.logger)
                    .importExport(reader, into: table, options: options, progress: { progress.update($0) })
            } catch let error as BackupError {
                progress.finish()
                if case .invalidOption(let message) = error { throw CLIError.usage(message) }
                throw CLIError.failed(error.description)
            }
            progress.finish()
            if outputFormat.json { print(try jsonText(result)); return }
            print(
                "\(result.createdTable ? "created \(table) and " : "")wrote \(formatCount(result.itemsWritten)) of \(formatCount(result.itemsRead)) items"
                    + (result.itemsFiltered > 0 ? " (\(formatCount(result.itemsFiltered)) filtered out by the mapping)" : "")
                    + String(format: " in %.1f s", result.durationSeconds))
            if reader.summary.itemCount != result.itemsRead {
                throw CLIError.failed(
                    "read \(result.itemsRead) items, but the export's summary says \(reader.summary.itemCount); run dynamo-migrate export verify \(directory)")
            }
        }
    }
}

/// `pk:S` or `pk:S,sk:N`.
func parseKeySchema(_ text: String) throws -> KeySchema {
    func attribute(_ part: Substring) throws -> KeyAttribute {
        let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
        guard pieces.count == 2, !pieces[0].isEmpty, let type = ScalarAttributeType(rawValue: pieces[1].uppercased()) else {
            throw CLIError.usage("--key must look like pk:S or pk:S,sk:N (types S, N, B), not \(text)")
        }
        return KeyAttribute(name: String(pieces[0]), type: type)
    }
    let parts = text.split(separator: ",")
    guard (1...2).contains(parts.count) else { throw CLIError.usage("--key must look like pk:S or pk:S,sk:N, not \(text)") }
    return KeySchema(partitionKey: try attribute(parts[0]), sortKey: parts.count == 2 ? try attribute(parts[1]) : nil)
}
