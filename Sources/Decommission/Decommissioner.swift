import Backup
import DynamoClient
import Foundation
import Mappings
import Pipeline
import Verification

/// What happened to one table.
public enum DecommissionDecision: String, Codable, Sendable {
    /// Every check passed and the table was deleted.
    case deleted
    /// A check failed: the table was left alone.
    case refused
    /// Every check passed; a dry run deletes nothing.
    case wouldDelete = "would-delete"
    /// Every check passed but the operator did not confirm.
    case notConfirmed = "not-confirmed"
    /// An earlier run deleted it (per the audit log).
    case alreadyDeleted = "already-deleted"
}

/// One table's decision with its evidence, as written to the audit log.
public struct TableDecision: Codable, Sendable, Equatable {
    public var table: String
    public var decision: DecommissionDecision
    public var checks: [CheckResult]
    public var decidedAt: Date
    public var mapping: String
    public var dryRun: Bool
}

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

/// Deletes the mapping's `decommission:` tables, each only when every check passes and the operator
/// confirmed, and appends every decision with its evidence to `decommission-audit.jsonl`.
public struct Decommissioner: Sendable {
    public let client: DynamoDBClient
    public let mapping: ResolvedMapping
    public let options: DecommissionOptions
    public let checks: [any DecommissionCheck]
    /// Asks the operator to confirm deleting one table.
    public let confirm: @Sendable (String) async -> Bool

    public static let auditLogName = "decommission-audit.jsonl"

    public init(client: DynamoDBClient, mapping: ResolvedMapping, options: DecommissionOptions,
                checks: [any DecommissionCheck]? = nil, confirm: @escaping @Sendable (String) async -> Bool) {
        self.client = client
        self.mapping = mapping
        self.options = options
        self.checks = checks ?? [DataAccountedForCheck(), VerifiedBackupCheck(client: client, exportDirectories: options.exportDirectories,
                                                     backupRecords: BackupStateStore(directory: options.backupStateDirectory)),
                                 DeletionProtectionCheck(allowDisabling: options.disableDeletionProtection)]
        self.confirm = confirm
    }

    /// Decides every table (in name order) and deletes those that pass.
    public func run(onDecision: @Sendable (TableDecision) -> Void = { _ in }) async throws -> [TableDecision] {
        let migration = try FileCheckpointStore(directory: options.stateDirectory).load()
        let verification = try Self.loadVerification(options.stateDirectory)
        // The audit log must be writable before any table is considered.
        try openAuditLog().close()
        let previouslyDeleted = Set(Self.deletedTables(in: options.stateDirectory))
        let live = LiveChecksums(client: client)
        var decisions: [TableDecision] = []
        for name in mapping.decommission {
            let targets = mapping.targets.filter { $0.sources.contains { $0.table == name } }.map(\.name)
            var results: [CheckResult] = []
            guard let table = try await client.describeTableIfExists(name) else {
                let deletedBefore = previouslyDeleted.contains(name)
                results.append(CheckResult(name: deletedBefore ? "already deleted" : "table exists", passed: deletedBefore,
                                           evidence: deletedBefore ? "deleted by an earlier decommission (audit log)" : "\(name) no longer exists, and no decommission deleted it"))
                let decision = try record(name, deletedBefore ? .alreadyDeleted : .refused, results)
                decisions.append(decision)
                onDecision(decision)
                continue
            }
            let candidate = DecommissionCandidate(table: table, targets: targets, discardsData: mapping.discardData.contains(name),
                                                  migration: migration, verification: verification,
                                                  mappingPath: options.mappingPath, stateDirectory: options.stateDirectory,
                                                  endpoint: client.configuration.endpoint, live: live)
            for check in checks {
                do {
                    results.append(try await check.evaluate(candidate))
                } catch {
                    results.append(CheckResult(name: check.name, passed: false, evidence: "could not check: \(error)"))
                }
            }
            var outcome: DecommissionDecision
            if results.contains(where: { !$0.passed }) {
                outcome = .refused
            } else if !options.execute {
                outcome = .wouldDelete
            } else if await confirm(name) {
                results.append(CheckResult(name: "operator confirmed", passed: true, evidence: "confirmed deleting \(name)"))
                if table.deletionProtection {
                    try await client.updateTable(UpdateTableInput(name: name, deletionProtection: false))
                }
                try await client.deleteTable(name)
                try await client.waitUntilDeleted(name)
                outcome = .deleted
            } else {
                results.append(CheckResult(name: "operator confirmed", passed: false, evidence: "not confirmed",
                                           remedy: "type the table's name at the prompt, or pass --yes-delete \(name)"))
                outcome = .notConfirmed
            }
            let decision = try record(name, outcome, results)
            decisions.append(decision)
            onDecision(decision)
        }
        return decisions
    }

    func record(_ table: String, _ decision: DecommissionDecision, _ checks: [CheckResult]) throws -> TableDecision {
        let entry = TableDecision(table: table, decision: decision, checks: checks, decidedAt: Date(),
                                  mapping: options.mappingPath, dryRun: !options.execute)
        try appendToAuditLog(entry)
        return entry
    }

    /// Appends one decision; a decision that cannot be recorded stops the run (no unaudited deletions).
    func appendToAuditLog(_ entry: TableDecision) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        var line = try encoder.encode(entry)
        line.append(UInt8(ascii: "\n"))
        let handle = try openAuditLog()
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: line)
        try handle.synchronize()
    }

    func openAuditLog() throws -> FileHandle {
        let url = options.stateDirectory.appendingPathComponent(Self.auditLogName)
        do {
            try FileManager.default.createDirectory(at: options.stateDirectory, withIntermediateDirectories: true)
            if !FileManager.default.fileExists(atPath: url.path) {
                guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                    throw CheckpointError.unwritable(path: url.path, reason: "cannot create the audit log")
                }
            }
            return try FileHandle(forWritingTo: url)
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw CheckpointError.unwritable(path: url.path, reason: plainReason(error))
        }
    }

    /// Tables an earlier run deleted, from the audit log, so a mapping whose sources are gone still
    /// resolves (pass them to `resolve(existingTables:)` along with ListTables' answer).
    public static func deletedTables(in stateDirectory: URL) -> [String] {
        let url = stateDirectory.appendingPathComponent(auditLogName)
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return text.split(separator: "\n").compactMap { line in
            guard let entry = try? decoder.decode(TableDecision.self, from: Data(line.utf8)), entry.decision == .deleted else { return nil }
            return entry.table
        }
    }

    static func loadVerification(_ directory: URL) throws -> VerificationRecord? {
        try VerificationRecord.read(from: directory)
    }
}
