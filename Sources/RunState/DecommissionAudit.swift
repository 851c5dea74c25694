import Foundation

/// The outcome of one named check for one table, with the evidence an auditor can follow.
public struct CheckResult: Codable, Sendable, Equatable {
    public var name: String
    public var passed: Bool
    /// What was found (e.g. "backup arn:... AVAILABLE, taken 2026-11-27T08:40:00Z, 150 items").
    public var evidence: String
    /// What to do when the check failed, naming the command that produces the missing proof.
    public var remedy: String?

    public init(name: String, passed: Bool, evidence: String, remedy: String? = nil) {
        self.name = name; self.passed = passed; self.evidence = evidence; self.remedy = remedy
    }
}

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
    /// Written to the audit log just before DeleteTable is sent (the intent); the outcome follows it.
    /// A table with an intent and no outcome was being deleted when a run stopped.
    case deleteRequested = "delete-requested"
    /// DeleteTable was sent and failed; the table is still there.
    case deleteFailed = "delete-failed"
}

/// One table's decision with its evidence, as written to the audit log.
public struct TableDecision: Codable, Sendable, Equatable {
    public var table: String
    public var decision: DecommissionDecision
    public var checks: [CheckResult]
    public var decidedAt: Date
    public var mapping: String
    public var dryRun: Bool
    /// The entry's format (``StateRecord``); nil in entries written before versions (format 1).
    public var formatVersion: Int? = TableDecision.currentFormatVersion

    public init(table: String, decision: DecommissionDecision, checks: [CheckResult], decidedAt: Date, mapping: String, dryRun: Bool) {
        self.table = table; self.decision = decision; self.checks = checks; self.decidedAt = decidedAt
        self.mapping = mapping; self.dryRun = dryRun
    }
}

extension TableDecision: StateRecord {
    public static var recordKind: String { "decommission audit entry" }
    /// The audit log's name in the state directory.
    public static let auditLogName = "decommission-audit.jsonl"
}

extension StateStore {
    /// Appends one decision to the audit log (owner-only, never through a symbolic link).
    public func appendAuditEntry(_ entry: TableDecision) throws {
        try append(entry, to: TableDecision.auditLogName)
    }

    /// Every decision in the audit log, oldest first; lines cut short by a crash are skipped.
    public func auditEntries() throws -> [TableDecision] {
        try records(TableDecision.self, in: TableDecision.auditLogName).records
    }
}
