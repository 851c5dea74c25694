import ArgumentParser
import Backup
import DynamoClient
import Foundation
import Mappings
import RunState
import S3Client
import TableIO

/// `dynamo-migrate drill`: restore into a scratch table, validate, time it; and `drill report`.
struct DrillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Rehearse a restore: restore into a scratch table, validate its content, measure the RTO.",
        subcommands: [DrillRunCommand.self, DrillReportCommand.self],
        defaultSubcommand: DrillRunCommand.self)
}

struct DrillRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "dynamo-migrate drill TABLE (--latest-backup | --backup ARN | --pitr TIME|latest | --from-export DIR).",
        discussion: """
            Restores into <table>-drill-<yyyyMMddHHmmss> (a long table name is cut, and followed by a hash of the whole \
            name, to keep within DynamoDB's 255 characters), waits until ACTIVE, compares item count and content checksum \
            with the ones recorded for the backup (backup create) or the export, times each phase, deletes the scratch \
            table unless --keep, and appends the result to drills.jsonl. For --pitr there is no recorded checksum: the \
            restore is compared with the source table as it is now, which differs when the source changed since; a TIME \
            outside the table's recovery window (DescribeContinuousBackups) is refused before anything is restored. \
            Exit status 1 when validation fails or the measured RTO exceeds --rto.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var state: StateDirectoryOption

    @Argument(help: "The table whose recovery to rehearse.")
    var table: String

    @Flag(name: .customLong("latest-backup"), help: "Restore the newest AVAILABLE on-demand backup.")
    var latestBackup = false

    @Option(help: "Restore this backup (ARN).")
    var backup: String?

    @Option(help: "Restore to a point in time: an ISO 8601 time (2026-11-27T08:00:00Z) or 'latest'.")
    var pitr: String?

    @Option(name: .customLong("from-export"), help: "Import this export folder (or s3://bucket/prefix) instead of restoring a backup.")
    var fromExport: String?

    @Option(help: "Recovery time objective, e.g. 4h, 30m, 1h30m: the drill fails when the measured RTO exceeds it.")
    var rto: String?

    @Flag(help: "Keep the scratch table for inspection (delete it yourself afterwards).")
    var keep = false

    @OptionGroup var destination: DestinationOptions

    @OptionGroup var outputFormat: OutputFormatOptions

    func validate() throws {
        try validateTableNames([table])
        let chosen = [latestBackup, backup != nil, pitr != nil, fromExport != nil].filter { $0 }.count
        if chosen != 1 { throw ValidationError("choose exactly one of --latest-backup, --backup ARN, --pitr TIME|latest, --from-export DIR") }
        if let rto, parseDurationSeconds(rto) == nil { throw ValidationError("--rto must be a duration such as 4h, 30m or 1h30m") }
        if pitr != nil, destination.isGiven {
            throw ValidationError(
                "--pitr restores within the table's own region and account; drill another region with --latest-backup (its newest replica) or --from-export")
        }
        if let pitr, pitr != "latest", parsePointInTime(pitr) == nil {
            throw ValidationError("--pitr must be 'latest' or an ISO 8601 time such as 2026-11-27T08:00:00Z")
        }
    }

    func run() async throws {
        try await runReportingErrors {
            let connections = ConnectionClients(global: global)
            let client = try connections.client(for: destination.connection, origin: destination.isGiven ? destination.flagText : nil)
            let source: DrillSource
            var staging: URL?
            defer { if let staging { try? FileManager.default.removeItem(at: staging) } }
            if let fromExport, case .s3(let location) = try parseExportStorage(fromExport) {
                // The export is downloaded (streamed, checked) first; the drill then imports it as a local one.
                let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dynamo-migrate-s3-\(UUID().uuidString)")
                staging = directory
                source = .export(try await fetchExport(location, client: client, into: directory).local.directory)
            } else if latestBackup, destination.isGiven {
                // Another region or account: the newest replica there (backup replicate) is what a lost region leaves.
                guard let replica = try state.store.newestReplica(of: table, region: client.configuration.region, endpoint: client.configuration.endpoint)
                else {
                    throw CLIError.failed(
                        "no replica of \(table) is recorded in \(client.configuration.region) (\(state.store.directory.path)); take one with `dynamo-migrate backup replicate \(table) \(destination.flagText)`"
                    )
                }
                source = .backup(arn: replica.backupArn)
            } else if latestBackup {
                source = .latestBackup
            } else if let backup {
                source = .backup(arn: backup)
            } else if let pitr {
                source = .pointInTime(pitr == "latest" ? .latest : .at(parsePointInTime(pitr)!))
            } else {
                source = .export(URL(fileURLWithPath: fromExport!))
            }
            let drill = RestoreDrill(client: client, store: state.store, logger: client.logger)
            var drillOptions = DrillOptions(rtoSeconds: rto.flatMap(parseDurationSeconds), keepScratchTable: keep)
            if destination.isGiven {
                drillOptions.notes.append("restored and measured in \(await connections.identity(of: client))")
            }
            let record = try await drill.run(table: table, from: source, options: drillOptions)
            if outputFormat.json {
                struct Output: Encodable { var drill: DrillRecord; var passed: Bool; var rtoMet: Bool? }
                print(try jsonText(Output(drill: record, passed: record.passed, rtoMet: record.rtoMet)))
            } else {
                print("drill of \(table) from \(record.sourceKind) \(record.sourceReference)")
                print("  scratch table \(record.scratchTable)\(record.kept ? " (kept)" : " (deleted)")")
                for phase in record.phases { print("  \(phase.name): \(formatSeconds(phase.seconds))") }
                print(
                    "  measured RTO: \(formatSeconds(record.measuredRTOSeconds))"
                        + (record.rtoTargetSeconds.map { " (target \(formatSeconds($0)): \(record.rtoMet == true ? "met" : "MISSED"))" } ?? ""))
                print("  expected: \(record.expectedChecksum?.description ?? "-") (\(record.expectedFrom))")
                print("  restored: \(record.actualChecksum?.description ?? "-")")
                print("  validation: \(record.validation)")
                for note in record.notes { print("  note: \(note)") }
                print(record.passed ? "PASSED" : "FAILED")
            }
            if let error = record.error { throw CLIError.failed("the drill failed: \(error)") }
            if record.validation == .failed {
                throw CLIError.failed("the restored table's content differs from what was recorded (\(record.expectedFrom))")
            }
            if record.validation != .passed { throw CLIError.failed("the restore could not be validated") }
            if record.rtoMet == false {
                throw CLIError.failed("measured RTO \(formatSeconds(record.measuredRTOSeconds)) exceeds the target \(rto ?? "")")
            }
        }
    }
}

func parsePointInTime(_ text: String) -> Date? {
    let f = ISO8601DateFormatter()
    if let d = f.date(from: text) { return d }
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return f.date(from: text)
}

struct DrillReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print the drill history (drills.jsonl) as a Markdown table with the RTO trend per table.")

    @OptionGroup var output: VerboseOption
    @OptionGroup var state: StateDirectoryOption

    @Option(help: "Only drills of tables matching this glob (* any run of characters, ? one character).")
    var match: String?

    func run() async throws {
        try await runReportingErrors {
            let glob = try matchGlob(match)
            var (records, skipped) = try state.store.drills()
            if !skipped.isEmpty { printWarning("\(state.store.drillsFile.path): skipped unreadable lines \(skipped.map(String.init).joined(separator: ", "))") }
            if let glob { records = records.filter { glob.matches($0.table) } }
            print(DrillReport.markdown(records), terminator: "")
        }
    }
}
