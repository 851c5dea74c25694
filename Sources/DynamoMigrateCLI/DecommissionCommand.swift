import ArgumentParser
import Decommission
import DynamoClient
import Foundation
import Mappings
import Pipeline
import RunState
import TableIO
import Verification

/// `dynamo-migrate decommission`: deletes the mapping's leftover tables, only with proof.
struct DecommissionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decommission",
        abstract: "Delete the tables a mapping lists under decommission:, only when each is proven safe to delete.",
        discussion: """
            For every table under decommission: it checks that (1) its data is accounted for — every target it \
            feeds verified equal after the migration's last write (`verify`), or the mapping lists it under \
            discard-data; (2) an AVAILABLE on-demand backup of it exists, taken after the migration's last read, \
            whose item count matches the table (`backup create`), or a local export in an --export folder \
            re-verifies and holds the table's content checksum (`export`); (3) deletion protection is off, or \
            --disable-deletion-protection was given; (4) the operator confirmed. The verification must be of the \
            mapping as it is now (any edit to a target's sources, transforms, filters, key prefixes, conflict policy \
            or env means: re-run verify), its recorded figures must match (the recorded verdict is not trusted), \
            and each target is recomputed now from its sources through the mapping. Right before each DeleteTable \
            the table is scanned again and must be unchanged: stop every writer first. A dry run is the default. \
            Every decision and its evidence is appended to decommission-audit.jsonl in the state directory \
            (before and after each DeleteTable); one run per state directory at a time.
            """)

    @OptionGroup var global: GlobalOptions

    @OptionGroup var arguments: MappingArguments

    @OptionGroup var sides: SideConnectionOptions

    @Flag(help: "Really delete (after typing each table's name, or with --yes-delete). Without it, a dry run.")
    var execute = false

    @Option(name: .customLong("yes-delete"), help: "Confirm deleting this table without a prompt (repeat per table), for unattended runs.")
    var yesDelete: [String] = []

    @Option(name: .customLong("export"), help: "A folder of local exports (dynamo-migrate export) that count as backups; repeatable.")
    var exports: [String] = []

    @Option(name: .customLong("backup-state-dir"), help: "Where `backup create` recorded content checksums (default: .dynamo-migrate/backups).")
    var backupStateDir: String?

    @Flag(name: .customLong("disable-deletion-protection"), help: "Turn deletion protection off on tables that pass every other check.")
    var disableDeletionProtection = false

    @OptionGroup var outputFormat: OutputFormatOptions

    func run() async throws {
        try await runReportingErrors {
            let document = try? MappingLoader.load(path: arguments.mapping, env: arguments.env)
            let directory = arguments.stateDirectory(effectiveEnv: document?.env ?? arguments.env)
            let connections = ConnectionClients(global: global)
            let (loaded, clients) = try await LoadedMapping.load(
                path: arguments.mapping, env: arguments.env, connections: connections, sides: sides,
                alsoExisting: Decommissioner.deletedTables(in: directory))
            let client = clients.source
            var options = DecommissionOptions(stateDirectory: directory, mappingPath: arguments.mapping)
            options.execute = execute
            options.disableDeletionProtection = disableDeletionProtection
            options.exportDirectories = exports.map { URL(fileURLWithPath: $0) }
            if let backupStateDir { options.backupStateDirectory = URL(fileURLWithPath: backupStateDir) }
            let unknown = Set(yesDelete).subtracting(loaded.resolved.decommission)
            if !unknown.isEmpty {
                throw CLIError.usage("--yes-delete names tables the mapping does not decommission: \(unknown.sorted().joined(separator: ", "))")
            }
            let confirmed = Set(yesDelete)
            let interactive = isatty(STDIN_FILENO) == 1
            let fingerprints = MappingFingerprints(document: loaded.document, resolved: loaded.resolved)
            let identityCheck = VerifiedIdentityCheck { table in await connections.identity(of: clients.source(table)) }
            let decommissioner = Decommissioner(
                client: client, mapping: loaded.resolved, fingerprints: fingerprints, options: options,
                clients: clients, additionalChecks: [identityCheck]
            ) { table in
                if confirmed.contains(table) { return true }
                guard interactive else { return false }
                print("Type \(table) to delete it (anything else keeps it): ", terminator: "")
                return readLine(strippingNewline: true) == table
            }
            if loaded.resolved.decommission.isEmpty {
                print("The mapping lists no existing table under decommission:.")
                return
            }
            let quiet = outputFormat.json
            let decisions: [TableDecision]
            do {
                decisions = try await decommissioner.run { decision in
                    if !quiet { printDecision(decision) }
                }
            } catch let error as DecommissionError {
                throw CLIError.failed(error.description)
            } catch let error as MigratorError {
                throw CLIError.failed(error.description)
            }
            if outputFormat.json {
                print(try jsonText(decisions))
            } else {
                let counts = Dictionary(grouping: decisions, by: \.decision).mapValues(\.count)
                print(
                    "\n\(decisions.count) tables: \(counts[.deleted] ?? 0) deleted, \(counts[.wouldDelete] ?? 0) would be deleted, \(counts[.refused] ?? 0) refused, \(counts[.notConfirmed] ?? 0) not confirmed\((counts[.deleteFailed] ?? 0) > 0 ? ", \(counts[.deleteFailed] ?? 0) failed to delete" : "")"
                )
                if !execute, (counts[.wouldDelete] ?? 0) > 0 {
                    print("Dry run: nothing was deleted. Rerun with --execute to delete the tables that passed.")
                }
                print("Audit log: \(directory.appendingPathComponent(Decommissioner.auditLogName).path)")
            }
            if decisions.contains(where: { [.refused, .notConfirmed, .deleteFailed].contains($0.decision) }) {
                throw ExitCode(1)
            }
        }
    }
}

func printDecision(_ decision: TableDecision) {
    let verdict: String =
        switch decision.decision {
        case .deleted: "DELETED"
        case .wouldDelete: "would delete (dry run)"
        case .refused: "REFUSED"
        case .notConfirmed: "kept (not confirmed)"
        case .alreadyDeleted: "already deleted"
        case .deleteRequested: "deleting"
        case .deleteFailed: "DELETE FAILED"
        }
    print("\(decision.table): \(verdict)")
    for check in decision.checks {
        print("  \(check.passed ? "✔" : "✘") \(check.name): \(check.evidence)")
        if !check.passed, let remedy = check.remedy { print("      → \(remedy)") }
    }
}
