// Decommission: deletes tables only with proof: verified data, a verified backup, no deletion protection, and a confirmation.
import Backup
import DynamoClient
import Foundation
import Mappings
import Pipeline
import Verification

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

/// Everything the checks know about one table up for decommissioning.
public struct DecommissionCandidate: Sendable {
    public var table: TableDescription
    /// Targets this table is a source of (empty when it is not migrated).
    public var targets: [String]
    /// The mapping says its data is not worth keeping (`discard-data:`).
    public var discardsData: Bool
    /// The migration's checkpoint from the state directory, if any.
    public var migration: MigrationCheckpoint?
    /// The last `verify` record from the state directory, if any.
    public var verification: VerificationRecord?
    public var mappingPath: String
    public var stateDirectory: URL
}

/// One proof required before a table may be deleted. Each is separate, so new kinds of evidence
/// (a local export, say) slot in without touching the others.
public protocol DecommissionCheck: Sendable {
    var name: String { get }
    func evaluate(_ candidate: DecommissionCandidate) async throws -> CheckResult
}

/// 1. The table's data is accounted for: every target it feeds verified equal to the transformed
/// sources, after the migration's last write; or the mapping says its data is not worth keeping.
public struct DataAccountedForCheck: DecommissionCheck {
    public let name = "data accounted for"
    public init() {}

    public func evaluate(_ c: DecommissionCandidate) async throws -> CheckResult {
        let table = c.table.name
        if c.targets.isEmpty {
            if c.discardsData {
                return CheckResult(name: name, passed: true, evidence: "the mapping lists \(table) under discard-data: its data is not worth keeping")
            }
            return CheckResult(name: name, passed: false,
                               evidence: "\(table) is not a source of any target and is not under discard-data",
                               remedy: "migrate it (add it as a source in \(c.mappingPath)) or, if its data is not needed, add it to discard-data:")
        }
        guard let migration = c.migration else {
            return CheckResult(name: name, passed: false, evidence: "no migration recorded in \(c.stateDirectory.path)",
                               remedy: "run `dynamo-migrate migrate \(c.mappingPath)` (or pass the --state-dir it used)")
        }
        let progress = migration.sources.values.filter { $0.source == table }
        guard let finished = migration.finishedAt, !progress.isEmpty, progress.allSatisfy(\.done) else {
            return CheckResult(name: name, passed: false, evidence: "the migration of \(table) has not finished",
                               remedy: "finish it: `dynamo-migrate migrate \(c.mappingPath) --resume`")
        }
        guard let verification = c.verification else {
            return CheckResult(name: name, passed: false, evidence: "no verification recorded in \(c.stateDirectory.path)",
                               remedy: "run `dynamo-migrate verify \(c.mappingPath)`")
        }
        guard verification.verifiedAt >= finished else {
            return CheckResult(name: name, passed: false,
                               evidence: "the last verification (\(verification.verifiedAt.ISO8601Format())) is older than the migration's last write (\(finished.ISO8601Format()))",
                               remedy: "run `dynamo-migrate verify \(c.mappingPath)` again")
        }
        var evidence: [String] = []
        for target in c.targets {
            guard let record = verification.targets.first(where: { $0.target == target }) else {
                return CheckResult(name: name, passed: false, evidence: "target \(target) is not in the last verification",
                                   remedy: "run `dynamo-migrate verify \(c.mappingPath)`")
            }
            guard record.status == .match else {
                return CheckResult(name: name, passed: false,
                                   evidence: "target \(target) did not verify: \(record.reason)",
                                   remedy: "find the differences with `dynamo-migrate diff \(table) \(target) --mapping \(c.mappingPath)`, fix them, then verify again")
            }
            evidence.append("\(target) MATCH (\(record.actual.itemCount) items, hash \(record.actual.hash.hex))")
        }
        return CheckResult(name: name, passed: true,
                           evidence: evidence.joined(separator: "; ") + ", verified \(verification.verifiedAt.ISO8601Format()) after the migration finished \(finished.ISO8601Format())")
    }
}

/// 2. A verified backup of the table exists, taken after the migration's last read of it: an on-demand
/// backup in state AVAILABLE whose item count and size match the table, or a local export (in one of
/// `exportDirectories`) whose manifests and data files re-verify and whose content checksum equals the
/// table's.
public struct VerifiedBackupCheck: DecommissionCheck {
    public let name = "verified backup"
    let client: DynamoDBClient
    let exportDirectories: [URL]
    public init(client: DynamoDBClient, exportDirectories: [URL] = []) {
        self.client = client
        self.exportDirectories = exportDirectories
    }

    public func evaluate(_ c: DecommissionCandidate) async throws -> CheckResult {
        let lastRead = c.targets.isEmpty ? nil : c.migration?.finishedAt
        let onDemand = try await onDemandBackup(c, lastRead: lastRead)
        if onDemand.passed || exportDirectories.isEmpty { return onDemand }
        let export = try await localExport(c, lastRead: lastRead)
        if export.passed { return export }
        return CheckResult(name: name, passed: false, evidence: "\(onDemand.evidence); \(export.evidence)",
                           remedy: "take one: `dynamo-migrate backup create \(c.table.name)` or `dynamo-migrate export \(c.table.name) --to DIR`")
    }

    func onDemandBackup(_ c: DecommissionCandidate, lastRead: Date?) async throws -> CheckResult {
        let table = c.table.name
        let remedy = "take one: `dynamo-migrate backup create \(table)`"
        let backups = try await client.listBackups(table: table)
            .filter { $0.status == "AVAILABLE" }
            .sorted { ($0.creationDate ?? .distantPast) > ($1.creationDate ?? .distantPast) }
        guard let newest = backups.first else {
            return CheckResult(name: name, passed: false, evidence: "no AVAILABLE on-demand backup of \(table)", remedy: remedy)
        }
        let created = newest.creationDate ?? .distantPast
        if let lastRead, created < lastRead {
            return CheckResult(name: name, passed: false,
                               evidence: "the newest backup (\(newest.name), \(created.ISO8601Format())) is older than the migration's last read (\(lastRead.ISO8601Format()))",
                               remedy: remedy)
        }
        let described = try await client.describeBackup(arn: newest.arn)
        if let count = described.sourceItemCount, count != c.table.itemCount {
            return CheckResult(name: name, passed: false,
                               evidence: "backup \(newest.name) holds \(count) items but the table reports \(c.table.itemCount)",
                               remedy: "the table changed after the backup: \(remedy)")
        }
        if let size = described.sourceTableSizeBytes, c.table.sizeBytes > 0, size != c.table.sizeBytes {
            return CheckResult(name: name, passed: false,
                               evidence: "backup \(newest.name) is \(size) bytes but the table reports \(c.table.sizeBytes)",
                               remedy: "the table changed after the backup: \(remedy)")
        }
        return CheckResult(name: name, passed: true,
                           evidence: "backup \(newest.name) (\(newest.arn)) AVAILABLE, taken \(created.ISO8601Format()), \(described.sourceItemCount.map { "\($0) items" } ?? "item count not reported")")
    }

    func localExport(_ c: DecommissionCandidate, lastRead: Date?) async throws -> CheckResult {
        let table = c.table.name
        var found: [(ExportLocation, ExportReader)] = []
        for directory in exportDirectories {
            for location in (try? ExportLocation.find(in: directory)) ?? [] {
                if let reader = try? ExportReader(location: location),
                   reader.summary.dynamoMigrate?.tableName == table || (c.table.arn != nil && reader.summary.tableArn == c.table.arn) {
                    found.append((location, reader))
                }
            }
        }
        let newestFirst = found.sorted { ($0.1.summary.exportTime ?? .distantPast) > ($1.1.summary.exportTime ?? .distantPast) }
        guard let (location, reader) = newestFirst.first else {
            return CheckResult(name: name, passed: false, evidence: "no export of \(table) in \(exportDirectories.map(\.path).joined(separator: ", "))")
        }
        let exported = reader.summary.exportTime ?? reader.summary.startTime ?? .distantPast
        if let lastRead, exported < lastRead {
            return CheckResult(name: name, passed: false,
                               evidence: "the newest export (\(location.directory.path), \(exported.ISO8601Format())) is older than the migration's last read (\(lastRead.ISO8601Format()))")
        }
        let checksummer = MultisetContentChecksummer()
        let verification = await ExportVerifier(checksummer: checksummer).verify(location)
        guard verification.ok else {
            return CheckResult(name: name, passed: false,
                               evidence: "export \(location.directory.path) does not verify: \(verification.problems.map(\.description).joined(separator: "; "))")
        }
        guard let exportChecksum = verification.contentChecksum else {
            return CheckResult(name: name, passed: false, evidence: "export \(location.directory.path) has no content checksum to compare with the table")
        }
        let current = try await checksummer.checksum(table: table, client: client,
                                                     segments: ParallelScan.defaultSegments(for: c.table))
        guard current.matches(exportChecksum) else {
            return CheckResult(name: name, passed: false,
                               evidence: "export \(location.directory.path) holds \(exportChecksum) but the table now holds \(current)")
        }
        return CheckResult(name: name, passed: true,
                           evidence: "export \(location.directory.path) (\(exported.ISO8601Format())) re-verified: \(verification.dataFiles) data files, \(verification.itemCount) items, content checksum equal to the table's")
    }
}

/// 3. Deletion protection is off, or the operator allowed turning it off.
public struct DeletionProtectionCheck: DecommissionCheck {
    public let name = "deletion protection"
    let allowDisabling: Bool
    public init(allowDisabling: Bool) { self.allowDisabling = allowDisabling }

    public func evaluate(_ c: DecommissionCandidate) async throws -> CheckResult {
        guard c.table.deletionProtection else {
            return CheckResult(name: name, passed: true, evidence: "off")
        }
        if allowDisabling {
            return CheckResult(name: name, passed: true, evidence: "on; --disable-deletion-protection turns it off before deleting")
        }
        return CheckResult(name: name, passed: false, evidence: "on",
                           remedy: "pass --disable-deletion-protection to turn it off as part of the decommission")
    }
}
