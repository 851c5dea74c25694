import AWSAuth
import ArgumentParser
import Backup
import DynamoClient
import Foundation
import Mappings
import Pipeline
import RunState
import TableIO

/// `--to-region/--to-profile/--to-role-arn/--to-endpoint-url`: another region or account to write to
/// (`backup replicate`, `drill run`). Left-out flags take the global `--profile`/`--endpoint-url`.
struct DestinationOptions: ParsableArguments {
    @Option(name: .customLong("to-region"), help: "Region to replicate or restore into.")
    var toRegion: String?
    @Option(name: .customLong("to-profile"), help: "Profile for the destination (default: --profile).")
    var toProfile: String?
    @Option(name: .customLong("to-role-arn"), help: "Role assumed (STS AssumeRole) for the destination, with the destination profile's credentials.")
    var toRoleArn: String?
    @Option(name: .customLong("to-endpoint-url"), help: "DynamoDB endpoint of the destination (default: --endpoint-url).")
    var toEndpointURL: String?

    func validate() throws {
        try SideConnectionOptions.check(
            prefix: "--to-", profile: toProfile, region: toRegion, roleArn: toRoleArn, externalId: nil, endpoint: toEndpointURL)
    }

    var isGiven: Bool { toRegion != nil || toProfile != nil || toRoleArn != nil || toEndpointURL != nil }
    var connection: Connection { Connection(profile: toProfile, region: toRegion, roleArn: toRoleArn, endpoint: toEndpointURL) }
    var flagText: String { SideConnectionOptions.flagText(connection, prefix: "--to-") }
}

/// `dynamo-migrate backup replicate TABLE --to-region R`: a verified copy of a table in another region
/// or account, kept there as an on-demand backup.
struct BackupReplicateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replicate",
        abstract: "Copy a table into another region or account and back it up there (cross-region backup replication).",
        discussion: """
            Checksums TABLE, copies it with the migrator (parallel Scan, batched writes) into <table>-replica-<yyyyMMdd-HHmmss> \
            at the destination (created with the table's key, indexes and billing), takes an on-demand backup of that copy \
            named the same (recorded as pending before CreateBackup, like `backup create`), requires the copy's checksum to \
            equal the source's, deletes the copy unless --keep-table, and appends the replica to replicas.jsonl. \
            `backup verify --policy` checks the newest replica against `replicate-to:`; `drill run TABLE --latest-backup \
            --to-region R` restores it there and measures the RTO. A source written to during the copy makes the checksums \
            differ: the replica is then not recorded and the copy is kept for inspection.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var state: StateDirectoryOption
    @OptionGroup var destination: DestinationOptions

    @Argument(help: "The table to replicate.")
    var table: String

    @Flag(name: .customLong("keep-table"), help: "Keep the replica table at the destination (it is deleted once backed up by default).")
    var keepTable = false

    @OptionGroup var scan: ScanOptions
    @OptionGroup var outputFormat: OutputFormatOptions

    func validate() throws {
        try validateTableNames([table])
        if destination.toRegion == nil { throw ValidationError("--to-region is required: the region to replicate into") }
    }

    func run() async throws {
        try await runReportingErrors {
            let connections = ConnectionClients(global: global)
            let source = try connections.client(for: Connection(), origin: nil)
            let target = try connections.client(for: destination.connection, origin: destination.flagText)
            let sourceIdentity = await connections.identity(of: source)
            let targetIdentity = await connections.identity(of: target)
            if sourceIdentity.isSamePlace(as: targetIdentity) {
                throw CLIError.usage("\(destination.flagText) is where \(table) already is (\(sourceIdentity)); replicate to another region or account")
            }
            guard try await source.describeTableIfExists(table) != nil else {
                throw CLIError.failed("table \(table) does not exist in \(source.configuration.region) at \(source.configuration.endpoint)")
            }
            let now = Date()
            let segments = scan.segments(default: 4)
            let replicaName = BackupManager.backupName(template: "{table}-replica-{timestamp}", table: table, at: now)
            let checksumTakenAt = Date()
            let sourceChecksum = try await MultisetContentChecksummer().checksum(table: table, client: source, segments: segments)

            // The copy is a migration of TABLE into the replica table, with the target on the destination.
            let document: MappingDocument
            let resolved: ResolvedMapping
            do {
                document = try MappingLoader.parse(
                    yaml: "version: 1\ntables:\n  - source: \(table)\n    target: \(replicaName)\n", file: "backup replicate", env: nil, sidesApart: true)
                resolved = try document.resolve(existingTables: [table], targetTables: [])
            } catch {
                throw CLIError.usage("\(error)")
            }
            var options = MigrationOptions(
                stateDirectory: state.store.directory.appendingPathComponent("replicate").appendingPathComponent(replicaName),
                planFingerprint: replicaName)
            options.segments = scan.segments
            let migrator = Migrator(
                client: target, mapping: resolved, options: options, logger: target.logger,
                clients: TableClients(source: source, target: target))
            let report: MigrationReport
            do { report = try await migrator.run() } catch let error as PipelineError { throw CLIError.failed(error.description) }
            if report.itemsDeadLettered > 0 {
                throw CLIError.failed(
                    "\(report.itemsDeadLettered) items could not be copied into \(replicaName); see \(report.deadLetterFile ?? options.stateDirectory.path)")
            }

            // Backed up at the destination, recorded as pending first like every backup.
            let manager = BackupManager(client: target, store: state.store, segments: segments)
            let backup: BackupRecord
            do { backup = try await manager.create(table: replicaName, nameTemplate: replicaName, now: now) } catch let error as BackupError {
                throw CLIError.failed("the copy \(replicaName) is complete but its backup failed: \(error)")
            }
            guard backup.contentChecksum == sourceChecksum else {
                throw CLIError.failed(
                    "the replica \(replicaName) holds \(backup.contentChecksum), the source held \(sourceChecksum) (was \(table) written to during the copy?); "
                        + "the replica is not recorded, and the table and backup \(backup.backupArn) are kept for inspection")
            }
            var kept = keepTable
            if !keepTable {
                do { try await target.deleteTableWhenReady(replicaName) } catch {
                    printWarning("the replica table \(replicaName) could not be deleted (\(error)); its backup is recorded, delete the table yourself")
                    kept = true
                }
            }
            let record = ReplicaRecord(
                table: table, source: sourceIdentity, destination: targetIdentity, replicaTable: replicaName,
                backupArn: backup.backupArn, backupName: backup.backupName, checksumTakenAt: checksumTakenAt,
                createdAt: backup.createdAt, itemCount: backup.itemCount, sourceChecksum: sourceChecksum,
                replicaChecksum: backup.contentChecksum, replicaTableKept: kept)
            do { try state.store.appendReplica(record) } catch {
                throw CLIError.failed("the replica backup \(backup.backupArn) is AVAILABLE but could not be recorded: \(error)")
            }
            if outputFormat.json {
                print(try jsonText(record))
            } else {
                print("replicated \(table) (\(sourceIdentity)) to \(targetIdentity)")
                print("  backup \(backup.backupName) AVAILABLE: \(backup.backupArn)")
                print("  \(formatCount(record.itemCount)) items, checksum \(sourceChecksum) on both sides")
                print("  replica table \(replicaName) \(kept ? "kept" : "deleted")")
                print("recorded in \(state.store.directory.appendingPathComponent("replicas.jsonl").path)")
            }
        }
    }
}

/// The `replicate-to:` checks of `backup verify --policy`: each covered table's newest replica, looked
/// up in the replica records and, for its backup's status, at the destination.
func replicaViolations(
    _ audited: [AuditedTable], store: BackupStateStore, connections: ConnectionClients, now: Date
) async throws -> [String: [PolicyViolation]] {
    var result: [String: [PolicyViolation]] = [:]
    for t in audited {
        guard let rule = t.rule.replicateTo else { continue }
        let destination = try connections.client(for: rule.connection, origin: "replicate-to of policy '\(t.rule.name)'")
        let newest = try store.newestReplica(of: t.name, region: rule.region, endpoint: destination.configuration.endpoint)
        var status: String?
        if let newest {
            do { status = try await destination.describeBackup(arn: newest.backupArn).backup.status } catch let error as DynamoDBError {
                status = error.isResourceNotFound ? "missing" : nil
                if !error.isResourceNotFound { printWarning("\(t.name): cannot look up the replica backup \(newest.backupArn): \(error)") }
            }
        }
        result[t.name] = PolicyEngine.evaluateReplica(rule: rule, newest: newest, backupStatus: status, now: now)
    }
    return result
}
