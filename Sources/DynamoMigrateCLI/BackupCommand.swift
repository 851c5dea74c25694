import ArgumentParser
import Backup
import DynamoClient
import Foundation
import Mappings
import Pipeline
import RunState
import TableIO

/// `dynamo-migrate backup`: on-demand backups with recorded content checksums, and backup policies.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Take and list on-demand backups; verify and enforce a backup policy.",
        subcommands: [
            BackupCreateCommand.self, BackupListCommand.self, BackupVerifyCommand.self, BackupEnforceCommand.self, BackupReplicateCommand.self,
        ])
}

/// `--state-dir`, shared by backup and drill commands.
struct StateDirectoryOption: ParsableArguments {
    @Option(name: .customLong("state-dir"), help: "Where backups.jsonl and drills.jsonl are kept.")
    var stateDir: String = BackupStateStore.defaultDirectory

    var store: BackupStateStore { BackupStateStore(directory: URL(fileURLWithPath: stateDir)) }
}

struct BackupCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Take an on-demand backup of each table, wait until AVAILABLE, and record its content checksum.",
        discussion: """
            The content checksum and item count are taken by a scan just before CreateBackup and appended to \
            backups.jsonl in the state directory; `drill` compares a restore against them. Name placeholders: \
            {table}, {timestamp} (yyyyMMdd-HHmmss, UTC), {date} (yyyyMMdd).
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var state: StateDirectoryOption

    @Argument(help: "Tables to back up.")
    var tables: [String]

    @Option(help: "Backup name template.")
    var name: String = BackupManager.defaultNameTemplate

    @OptionGroup var scan: ScanOptions

    @OptionGroup var outputFormat: OutputFormatOptions

    func validate() throws {
        if tables.isEmpty { throw ValidationError("name at least one table") }
        try validateTableNames(tables)
        if tables.count > 1 && !name.contains("{table}") { throw ValidationError("--name needs {table} when backing up several tables") }
    }

    func run() async throws {
        try await runReportingErrors {
            let client = try global.makeClient()
            let manager = BackupManager(client: client, store: state.store, segments: scan.segments(default: 4))
            var records: [BackupRecord] = []
            var failures: [String] = []
            for table in tables {
                do {
                    let record = try await manager.create(table: table, nameTemplate: name)
                    records.append(record)
                    if !outputFormat.json {
                        print("\(table): backup \(record.backupName) AVAILABLE, \(formatCount(record.itemCount)) items, checksum \(record.contentChecksum)")
                        print("  \(record.backupArn)")
                    }
                } catch {
                    failures.append("\(table): \(error)")
                    printError("\(table): \(error)")
                }
            }
            if outputFormat.json { print(try jsonText(records)) }
            if !failures.isEmpty { throw CLIError.failed("\(failures.count) of \(tables.count) backups failed") }
            if !outputFormat.json { print("recorded in \(state.store.backupsFile.path)") }
        }
    }
}

struct BackupListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List on-demand backups, with the item counts and checksums recorded by `backup create`.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var state: StateDirectoryOption

    @Option(help: "Only backups of tables matching this glob (* any run of characters, ? one character).")
    var match: String?

    @OptionGroup var outputFormat: OutputFormatOptions

    func run() async throws {
        try await runReportingErrors {
            let glob = try matchGlob(match)
            let client = try global.makeClient()
            let (records, skipped) = try state.store.backups()
            if !skipped.isEmpty {
                printWarning("\(state.store.backupsFile.path): skipped unreadable lines \(skipped.map(String.init).joined(separator: ", "))")
            }
            let byArn = Dictionary(records.map { ($0.backupArn, $0) }, uniquingKeysWith: { _, b in b })
            var listed = try await client.listBackups().map { ListedBackup($0, record: byArn[$0.arn]) }
            if let glob { listed = listed.filter { glob.matches($0.table ?? "") } }
            listed.sort { ($0.table ?? "", $0.createdAt ?? .distantPast) < ($1.table ?? "", $1.createdAt ?? .distantPast) }
            if outputFormat.json { print(try jsonText(listed)); return }
            if listed.isEmpty { print("no backups\(match.map { " of tables matching \($0)" } ?? "")"); return }
            var table = TextTable(["TABLE", "BACKUP", "STATUS", "TYPE", "CREATED (UTC)", "SIZE", "ITEMS", "CHECKSUM"], rightAligned: [5, 6])
            for b in listed {
                table.add([
                    b.table ?? "?", b.backupName, b.status, b.type ?? "-", b.createdAt.map { String(isoDate($0).prefix(19)) } ?? "-",
                    b.sizeBytes.map(formatBytes) ?? "-", b.itemCount.map(formatCount) ?? "-", b.contentChecksum?.digest ?? "not recorded",
                ])
            }
            print(table.render())
        }
    }
}

func isoDate(_ date: Date) -> String {
    let f = ISO8601DateFormatter()
    f.timeZone = TimeZone(identifier: "UTC")
    return f.string(from: date)
}

/// Loads a policy and audits the endpoint's tables against it.
func auditPolicy(path: String, client: DynamoDBClient, now: Date) async throws -> [AuditedTable] {
    let policy: BackupPolicy
    do { policy = try BackupPolicy.load(path: path) } catch { throw CLIError.usage(error.description) }
    return try await BackupPolicyAuditor(client: client).audit(policy, now: now)
}

struct BackupVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every table a backup policy covers: PITR, recovery period, RPO, retention gaps.",
        discussion: "Exit status 1 when any table violates its rule. --metrics writes Prometheus textfile metrics (atomically).")

    @OptionGroup var global: GlobalOptions

    @Option(help: "The policy file (see docs/backup-policy.md).")
    var policy: String = "mappings/backup-policy.yaml"

    @Option(help: "Write Prometheus textfile-collector metrics to this file.")
    var metrics: String?

    @OptionGroup var state: StateDirectoryOption

    @OptionGroup var outputFormat: OutputFormatOptions

    func run() async throws {
        try await runReportingErrors {
            let client = try global.makeClient()
            let now = Date()
            let audited = try await auditPolicy(path: policy, client: client, now: now)
            // `replicate-to:`: the newest replica (backup replicate) of each table, in its region.
            let replicas = try await replicaViolations(audited, store: state.store, connections: ConnectionClients(global: global), now: now)
            let verdicts = audited.map { t in
                var verdict = t.verdict
                verdict.violations += replicas[t.name] ?? []
                return verdict
            }
            if let metrics {
                do { try writeAtomically(Data(PolicyMetrics.text(verdicts, now: now).utf8), to: URL(fileURLWithPath: metrics)) } catch {
                    throw CLIError.failed("cannot write metrics to \(metrics): \(error)")
                }
            }
            if outputFormat.json {
                print(try jsonText(verdicts))
            } else if verdicts.isEmpty {
                print("no table at \(client.configuration.endpoint) matches a rule of \(policy)")
            } else {
                var table = TextTable(["TABLE", "RULE", "PITR", "BACKUPS", "NEWEST", "VERDICT"], rightAligned: [3])
                for v in verdicts {
                    table.add([
                        v.table, v.rule, v.pitrEnabled ? "on" : "OFF", "\(v.backupCount)",
                        v.newestBackupAgeSeconds.map { formatSeconds($0) + " ago" } ?? "-", v.compliant ? "OK" : "VIOLATION",
                    ])
                }
                print(table.render())
                for v in verdicts where !v.compliant {
                    for violation in v.violations { print("  \(v.table): \(violation)") }
                }
            }
            let failing = verdicts.filter { !$0.compliant }
            if !failing.isEmpty {
                throw CLIError.failed(
                    "\(failing.count) of \(verdicts.count) tables violate the backup policy; `dynamo-migrate backup enforce --policy \(policy)` shows what it would fix"
                )
            }
        }
    }
}

struct BackupEnforceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enforce",
        abstract: "Bring tables in line with a backup policy: PITR on, missing backups taken, expired backups deleted.",
        discussion: """
            Without --apply, prints what it would do. Deletes only AVAILABLE on-demand (USER) backups that \
            grandfather-father-son retention no longer keeps, never a table's newest backup, never SYSTEM or AWS Backup ones.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var state: StateDirectoryOption

    @Option(help: "The policy file (see docs/backup-policy.md).")
    var policy: String = "mappings/backup-policy.yaml"

    @Flag(help: "Make the changes (default: only print them).")
    var apply = false

    func run() async throws {
        try await runReportingErrors {
            let client = try global.makeClient()
            let now = Date()
            let audited = try await auditPolicy(path: policy, client: client, now: now)
            let manager = BackupManager(client: client, store: state.store)
            var actions = 0
            var failures = 0
            let verb = apply ? "" : "would "
            for t in audited {
                var backups = t.backups
                for violation in t.verdict.violations {
                    switch violation {
                    case .pitrDisabled, .recoveryPeriodTooShort:
                        actions += 1
                        print("\(t.name): \(verb)turn on point-in-time recovery\(t.rule.pitrRecoveryPeriodDays.map { " (\($0) days)" } ?? "")")
                        if apply {
                            do {
                                try await client.enablePointInTimeRecovery(
                                    table: t.name,
                                    recoveryPeriodInDays: t.rule.pitrRecoveryPeriodDays)
                            } catch { failures += 1; printError("\(t.name): \(error)") }
                        }
                    case .noBackups, .rpoExceeded:
                        actions += 1
                        print("\(t.name): \(verb)take an on-demand backup (\(violation))")
                        if apply {
                            do {
                                let record = try await manager.create(table: t.name)
                                print("  \(record.backupName) AVAILABLE, \(formatCount(record.itemCount)) items")
                                backups.append(PolicyBackup(arn: record.backupArn, name: record.backupName, creationDate: record.createdAt))
                            } catch { failures += 1; printError("\(t.name): \(error)") }
                        }
                    case .noReplica, .replicaRPOExceeded, .replicaUnusable:
                        print("\(t.name): \(violation) (run `dynamo-migrate backup replicate`)")
                    case .retentionGap:
                        // Past periods cannot be backed up after the fact: report only.
                        print("\(t.name): \(violation) (cannot be filled now; check the schedule of `backup create`)")
                    }
                }
                for backup in PolicyEngine.prunable(backups, retention: t.rule.retention, now: now) {
                    actions += 1
                    print("\(t.name): \(verb)delete \(backup.name) from \(String(isoDate(backup.creationDate).prefix(10))), no longer kept by retention")
                    if apply {
                        do {
                            // Already gone is done: it is how the retry of a DeleteBackup whose answer was lost ends.
                            if try await !client.deleteBackupIfPresent(arn: backup.arn) {
                                print("  \(backup.name) was already gone (deleted by an earlier attempt whose answer was lost, or by someone else)")
                            }
                        } catch { failures += 1; printError("\(t.name): \(error)") }
                    }
                }
            }
            if actions == 0 {
                print("nothing to do: every table meets \(policy)")
            } else if !apply {
                print("\n\(actions) change\(actions == 1 ? "" : "s"); rerun with --apply to make them")
            }
            if failures > 0 { throw CLIError.failed("\(failures) change\(failures == 1 ? "" : "s") failed") }
        }
    }
}
