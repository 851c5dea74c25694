import AWSAuth
import DynamoClient
import Foundation
import Mappings
import RunState
import TableIO

/// Settings of a decommission run.
public struct DecommissionOptions: Sendable {
    /// Without it, nothing is deleted (the default is a dry run).
    public var execute = false
    public var disableDeletionProtection = false
    /// Folders holding local exports that count as backups.
    public var exportDirectories: [URL] = []
    /// Where `backup create` recorded content checksums (default `.dynamo-migrate/backups`).
    public var backupStateDirectory = URL(fileURLWithPath: ".dynamo-migrate/backups")
    public var stateDirectory: URL
    public var mappingPath: String
    public init(stateDirectory: URL, mappingPath: String) {
        self.stateDirectory = stateDirectory
        self.mappingPath = mappingPath
    }
}

/// Why a decommission run cannot start or go on, for the operator.
public enum DecommissionError: Error, Sendable, CustomStringConvertible {
    /// The audit log's path is a symbolic link (or another non-file): writing through it could append
    /// to, or create, some other file.
    case auditLogNotAFile(path: String, what: String)
    case auditLogUnwritable(path: String, reason: String)

    public var description: String {
        switch self {
        case .auditLogNotAFile(let path, let what):
            "the audit log \(path) is \(what), not a regular file; decommission does not write through it (remove it, or pass another --state-dir)"
        case .auditLogUnwritable(let path, let reason):
            "cannot write the audit log \(path): \(reason)"
        }
    }
}

/// Deletes the mapping's `decommission:` tables, each only when every check passes and the operator
/// confirmed, and appends every decision with its evidence to `decommission-audit.jsonl`.
///
/// Every table is proven before any is deleted (a target's sources must all be readable to recompute
/// what it should hold). Right before each DeleteTable the table is scanned again and must still hold
/// what was proven; writers must nevertheless be stopped first, because an item written between that
/// scan and DeleteTable is lost with the table (DynamoDB has no conditional DeleteTable).
public struct Decommissioner: Sendable {
    public let client: DynamoDBClient
    public let mapping: ResolvedMapping
    /// The fingerprints of `mapping`'s targets (``MappingFingerprints/init(document:resolved:)``).
    public let fingerprints: MappingFingerprints
    public let options: DecommissionOptions
    public let checks: [any DecommissionCheck]
    /// Asks the operator to confirm deleting one table.
    public let confirm: @Sendable (String) async -> Bool

    public static let auditLogName = TableDecision.auditLogName

    public init(
        client: DynamoDBClient, mapping: ResolvedMapping, fingerprints: MappingFingerprints, options: DecommissionOptions,
        checks: [any DecommissionCheck]? = nil, confirm: @escaping @Sendable (String) async -> Bool
    ) {
        self.client = client
        self.mapping = mapping
        self.fingerprints = fingerprints
        self.options = options
        self.checks =
            checks ?? [
                DataAccountedForCheck(),
                VerifiedBackupCheck(
                    client: client, exportDirectories: options.exportDirectories,
                    backupRecords: BackupStateStore(directory: options.backupStateDirectory)),
                DeletionProtectionCheck(allowDisabling: options.disableDeletionProtection),
                FollowDrainedCheck(),
            ]
        self.confirm = confirm
    }

    /// Decides every table (in name order) and deletes those that pass.
    ///
    /// Holds the state directory's lock for the whole run, so a second decommission (or a migrate) on
    /// the same state directory is refused while this one runs.
    public func run(onDecision: @Sendable (TableDecision) -> Void = { _ in }) async throws -> [TableDecision] {
        let lock = try store.lock()
        defer { withExtendedLifetime(lock) {} }
        let migration = try store.loadCheckpoint()
        let verification = try store.loadVerification()
        // The audit log must be writable before any table is considered.
        try checkAuditLog()
        let previouslyDeleted = Set(Self.deletedTables(in: options.stateDirectory))
        let live = LiveChecksums(client: client)

        // 1. Prove every table before deleting any.
        struct Proven { var name: String; var table: TableDescription?; var results: [CheckResult]; var baseline: ContentChecksum? }
        var proven: [Proven] = []
        for name in mapping.decommission {
            let targets = mapping.targets.filter { $0.sources.contains { $0.table == name } }.map(\.name)
            var results: [CheckResult] = []
            guard let table = try await client.describeTableIfExists(name) else {
                let deletedBefore = previouslyDeleted.contains(name)
                results.append(
                    CheckResult(
                        name: deletedBefore ? "already deleted" : "table exists", passed: deletedBefore,
                        evidence: deletedBefore ? "deleted by an earlier decommission (audit log)" : "\(name) no longer exists, and no decommission deleted it")
                )
                proven.append(Proven(name: name, table: nil, results: results, baseline: nil))
                continue
            }
            let candidate = DecommissionCandidate(
                table: table, targets: targets, mapping: mapping, fingerprints: fingerprints,
                discardsData: mapping.discardData.contains(name),
                migration: migration, verification: verification, previouslyDeleted: previouslyDeleted,
                mappingPath: options.mappingPath, stateDirectory: options.stateDirectory,
                endpoint: client.configuration.endpoint, live: live)
            for check in checks {
                do {
                    results.append(try await check.evaluate(candidate))
                } catch {
                    results.append(CheckResult(name: check.name, passed: false, evidence: "could not check: \(error)"))
                }
            }
            var baseline: ContentChecksum?
            if !results.contains(where: { !$0.passed }) {
                // What the table held when proven (usually already scanned by the checks): it must
                // still hold exactly this right before DeleteTable.
                do {
                    baseline = try await live.checksum(of: table)
                } catch {
                    results.append(CheckResult(name: "content checksum", passed: false, evidence: "could not scan \(name): \(error)"))
                }
            }
            proven.append(Proven(name: name, table: table, results: results, baseline: baseline))
        }

        // 2. Decide, and delete what passed and was confirmed.
        var decisions: [TableDecision] = []
        for item in proven {
            var results = item.results
            let name = item.name
            var outcome: DecommissionDecision
            if let table = item.table {
                if results.contains(where: { !$0.passed }) {
                    outcome = .refused
                } else if !options.execute {
                    outcome = .wouldDelete
                } else if await confirm(name) {
                    results.append(CheckResult(name: "operator confirmed", passed: true, evidence: "confirmed deleting \(name)"))
                    outcome = try await delete(table, baseline: item.baseline, live: live, results: &results)
                } else {
                    results.append(
                        CheckResult(
                            name: "operator confirmed", passed: false, evidence: "not confirmed",
                            remedy: "type the table's name at the prompt, or pass --yes-delete \(name)"))
                    outcome = .notConfirmed
                }
            } else {
                outcome = results.allSatisfy(\.passed) ? .alreadyDeleted : .refused
            }
            let decision = try record(name, outcome, results)
            decisions.append(decision)
            onDecision(decision)
        }
        return decisions
    }

    /// Re-checks that the table is unchanged since it was proven, records the intent, sends DeleteTable
    /// and waits until the table is gone. Appends the evidence to `results`; returns the outcome.
    func delete(
        _ table: TableDescription, baseline: ContentChecksum?, live: LiveChecksums,
        results: inout [CheckResult]
    ) async throws -> DecommissionDecision {
        let name = table.name
        let recheck = "unchanged right before delete"
        do {
            let now = try await live.rescan(table)
            guard let baseline, now.matches(baseline) else {
                results.append(
                    CheckResult(
                        name: recheck, passed: false,
                        evidence:
                            "\(name) changed after it was proven (\(baseline.map { "\($0.itemCount)" } ?? "?") items then, \(now.itemCount) now): something still writes to it",
                        remedy: "stop every writer of \(name), migrate the changes, verify, then decommission again"))
                return .refused
            }
            results.append(CheckResult(name: recheck, passed: true, evidence: "rescanned just before DeleteTable: \(now)"))
        } catch {
            results.append(CheckResult(name: recheck, passed: false, evidence: "could not check: \(error)"))
            return .refused
        }
        // The intent is on disk before the request leaves, so a run that dies mid-delete leaves a trace.
        _ = try record(name, .deleteRequested, results)
        do {
            if table.deletionProtection {
                // Waits until the table is ACTIVE again: DeleteTable on an UPDATING table is refused.
                try await client.updateTableWhenReady(UpdateTableInput(name: name, deletionProtection: false))
            }
            try await client.deleteTableWhenReady(name)
        } catch {
            // The request may have been applied though its answer was lost: then a retry, or a look,
            // finds no table. After a DeleteTable was sent, "not found" means deleted.
            let after: TableDescription?
            if error.isResourceNotFound {
                after = nil
            } else {
                do { after = try await client.describeTableIfExists(name) } catch let lookError {
                    results.append(
                        CheckResult(
                            name: "DeleteTable", passed: false,
                            evidence: "DeleteTable failed (\(error)), and then so did DescribeTable (\(lookError)): the table may or may not be deleted",
                            remedy: "run `dynamo-migrate decommission` again (without --execute) to see where it stands"))
                    return .deleteFailed
                }
            }
            if let after, after.status != "DELETING" {
                results.append(CheckResult(name: "DeleteTable", passed: false, evidence: "DeleteTable failed: \(error); \(name) is still \(after.status)"))
                return .deleteFailed
            }
            results.append(
                CheckResult(
                    name: "DeleteTable", passed: true,
                    evidence: "the answer to DeleteTable was lost (\(error)), but \(name) is \(after == nil ? "gone" : "being deleted")"))
        }
        do {
            try await client.waitUntilDeleted(name)
        } catch {
            results.append(
                CheckResult(
                    name: "DeleteTable", passed: false, evidence: "DeleteTable was accepted but \(name) did not disappear: \(error)",
                    remedy: "check the table in the console; run decommission again to record the outcome"))
            return .deleteFailed
        }
        return .deleted
    }

    func record(_ table: String, _ decision: DecommissionDecision, _ checks: [CheckResult]) throws -> TableDecision {
        let entry = TableDecision(
            table: table, decision: decision, checks: checks, decidedAt: Date(),
            mapping: options.mappingPath, dryRun: !options.execute)
        try appendToAuditLog(entry)
        return entry
    }

    /// Appends one decision; a decision that cannot be recorded stops the run (no unaudited deletions).
    func appendToAuditLog(_ entry: TableDecision) throws {
        do {
            try store.appendAuditEntry(entry)
        } catch let error as StateFileError {
            throw DecommissionError(auditLogError: error, path: auditLogURL.path)
        }
    }

    var store: LocalDirectoryStateStore { LocalDirectoryStateStore(directory: options.stateDirectory) }

    var auditLogURL: URL { store.url(of: Self.auditLogName) }

    /// Checks that the audit log can be appended to: created owner-only (0600), never through a
    /// symbolic link, and only if it is a regular file (the store's permission policy).
    func checkAuditLog() throws {
        do {
            try store.openLog(Self.auditLogName).close()
        } catch let error as StateFileError {
            throw DecommissionError(auditLogError: error, path: auditLogURL.path)
        }
    }

    /// Tables an earlier run deleted (or sent DeleteTable for), from the audit log, so a mapping whose sources are gone still
    /// resolves (pass them to `resolve(existingTables:)` along with ListTables' answer).
    public static func deletedTables(in stateDirectory: URL) -> [String] {
        let entries = (try? LocalDirectoryStateStore(directory: stateDirectory).auditEntries()) ?? []
        // An intent without an outcome counts: the run stopped after sending DeleteTable.
        return entries.filter { $0.decision == .deleted || $0.decision == .deleteRequested }.map(\.table)
    }
}

extension DecommissionError {
    /// The audit log's own messages for the store's errors.
    init(auditLogError error: StateFileError, path: String) {
        switch error {
        case .notAFile(_, let what): self = .auditLogNotAFile(path: path, what: what)
        case .unwritable(_, let reason), .unreadable(_, let reason): self = .auditLogUnwritable(path: path, reason: reason)
        default: self = .auditLogUnwritable(path: path, reason: error.description)
        }
    }
}
