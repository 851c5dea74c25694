// Decommission: deletes tables only with proof: verified data, a verified backup, no deletion protection, and a confirmation.
import AWSAuth
import DynamoClient
import Foundation
import Mappings
import RunState
import Synchronization
import TableIO

/// Everything the checks know about one table up for decommissioning.
public struct DecommissionCandidate: Sendable {
    public var table: TableDescription
    /// Targets this table is a source of (empty when it is not migrated).
    public var targets: [String]
    /// The mapping as given to this run: what each target should hold now.
    public var mapping: ResolvedMapping
    /// The current mapping's fingerprint per target; a verification recorded under another one proves
    /// nothing about this mapping.
    public var fingerprints: MappingFingerprints
    /// The mapping says its data is not worth keeping (`discard-data:`).
    public var discardsData: Bool
    /// The migration's checkpoint from the state directory, if any.
    public var migration: MigrationCheckpoint?
    /// The last `verify` record from the state directory, if any.
    public var verification: VerificationRecord?
    /// Tables an earlier decommission deleted (per the audit log).
    public var previouslyDeleted: Set<String>
    public var mappingPath: String
    public var stateDirectory: URL
    /// The endpoint this run talks to; proofs recorded against another endpoint do not count.
    public var endpoint: String
    /// Content checksums of tables as they are now, computed once per run.
    public var live: LiveChecksums
}

/// Content checksums of tables as they are now (one scan per table per run), so each proof is checked
/// against the present, not only against what was recorded.
public final class LiveChecksums: Sendable {
    /// The source side's client: the one decommissioned tables are read (and deleted) with.
    let client: DynamoDBClient
    /// The client of each source and target (targets may be in another account or region).
    let clients: TableClients
    private let cache = Mutex<[String: ContentChecksum]>([:])
    private let targetCache = Mutex<[String: ContentChecksum]>([:])
    private let verifications = Mutex<[String: TargetVerification]>([:])

    public convenience init(client: DynamoDBClient) { self.init(clients: TableClients(client)) }

    public init(clients: TableClients) {
        self.client = clients.source
        self.clients = clients
    }

    /// The checksum of a source (decommission candidate) table.
    public func checksum(of table: TableDescription) async throws -> ContentChecksum {
        if let known = cache.withLock({ $0[table.name] }) { return known }
        let value = try await Self.scan(table, client: clients.source(table.name))
        cache.withLock { $0[table.name] = value }
        return value
    }

    public func checksum(ofTable name: String) async throws -> ContentChecksum? {
        guard let table = try await clients.source(name).describeTableIfExists(name) else { return nil }
        return try await checksum(of: table)
    }

    /// The checksum of a target table, read through the target's client.
    public func checksum(ofTarget name: String) async throws -> ContentChecksum? {
        if let known = targetCache.withLock({ $0[name] }) { return known }
        let client = clients.target(name)
        guard let table = try await client.describeTableIfExists(name) else { return nil }
        let value = try await Self.scan(table, client: client)
        targetCache.withLock { $0[name] = value }
        return value
    }

    /// A new scan, bypassing the cache: what the table holds at this moment.
    public func rescan(_ table: TableDescription) async throws -> ContentChecksum {
        try await Self.scan(table, client: clients.source(table.name))
    }

    static func scan(_ table: TableDescription, client: DynamoDBClient) async throws -> ContentChecksum {
        try await MultisetContentChecksummer().checksum(
            table: table.name, client: client,
            segments: ParallelScan.defaultSegments(for: table))
    }

    /// The target verified now, through the mapping given to this run, with the code `verify` uses:
    /// what its sources should produce (transforms, filters, merge) against what it holds. Once per
    /// target per run.
    public func verification(of target: ResolvedTarget, in mapping: ResolvedMapping) async throws -> TargetVerification {
        if let known = verifications.withLock({ $0[target.name] }) { return known }
        let value = try await TargetExpectation(checksummer: Checksummer(clients: clients)).verify(target)
        verifications.withLock { $0[target.name] = value }
        return value
    }
}

/// One proof required before a table may be deleted. Each is separate, so new kinds of evidence
/// (a local export, say) slot in without touching the others.
public protocol DecommissionCheck: Sendable {
    var name: String { get }
    func evaluate(_ candidate: DecommissionCandidate) async throws -> CheckResult
}

/// 1. The table's data is accounted for: every target it feeds was verified, after the migration's last
/// write, on this endpoint, under the mapping's current entry for that target (same fingerprint), with
/// recorded figures that match (the recorded verdict itself is never trusted) and none of its items
/// dead-lettered; the table and those targets are unchanged since; and, recomputed now through the
/// current mapping, each target holds exactly what its sources should produce. Or the mapping says
/// its data is not worth keeping.
public struct DataAccountedForCheck: DecommissionCheck {
    public let name = "data accounted for"
    public init() {}

    public func evaluate(_ c: DecommissionCandidate) async throws -> CheckResult {
        let table = c.table.name
        func refuse(_ evidence: String, _ remedy: String) -> CheckResult {
            CheckResult(name: name, passed: false, evidence: evidence, remedy: remedy)
        }
        let verifyAgain = "run `dynamo-migrate verify \(c.mappingPath)` against \(c.endpoint)"
        if c.targets.isEmpty {
            if c.discardsData {
                return CheckResult(name: name, passed: true, evidence: "the mapping lists \(table) under discard-data: its data is not worth keeping")
            }
            return refuse(
                "\(table) is not a source of any target and is not under discard-data",
                "migrate it (add it as a source in \(c.mappingPath)) or, if its data is not needed, add it to discard-data:")
        }
        guard let migration = c.migration else {
            return refuse(
                "no migration recorded in \(c.stateDirectory.path)",
                "run `dynamo-migrate migrate \(c.mappingPath)` (or pass the --state-dir it used)")
        }
        guard migration.endpoint == c.endpoint else {
            return refuse(
                "the migration in \(c.stateDirectory.path) ran against \(migration.endpoint ?? "an unrecorded endpoint"), not \(c.endpoint)",
                "decommission on the endpoint that was migrated, or migrate and verify this one")
        }
        let progress = migration.sources.values.filter { $0.source == table }
        guard let finished = migration.finishedAt, !progress.isEmpty, progress.allSatisfy(\.done) else {
            return refuse("the migration of \(table) has not finished", "finish it: `dynamo-migrate migrate \(c.mappingPath) --resume`")
        }
        let deadLettered = progress.flatMap(\.segments).reduce(0) { $0 + $1.itemsDeadLettered }
        if deadLettered > 0 {
            return refuse(
                "\(deadLettered) items of \(table) could not be migrated (see dead-letters.jsonl in \(c.stateDirectory.path)): they are in no target",
                "fix the mapping or the items and migrate them, or list \(table) under discard-data: if they are not needed")
        }
        guard let verification = c.verification else {
            return refuse("no verification recorded in \(c.stateDirectory.path)", verifyAgain)
        }
        guard verification.endpoint == c.endpoint else {
            return refuse("the last verification read \(verification.endpoint ?? "an unrecorded endpoint"), not \(c.endpoint)", verifyAgain)
        }
        guard verification.verifiedAt >= finished else {
            return refuse(
                "the last verification (\(verification.verifiedAt.ISO8601Format())) is older than the migration's last write (\(finished.ISO8601Format()))",
                verifyAgain)
        }
        guard let sourceNow = try await c.live.checksum(ofTable: table) else {
            return refuse("\(table) no longer exists", "nothing to delete")
        }
        var evidence: [String] = []
        for target in c.targets {
            guard let record = verification.targets.first(where: { $0.target == target }),
                let source = record.sources.first(where: { $0.table == table })
            else {
                return refuse("target \(target) (or its source \(table)) is not in the last verification", verifyAgain)
            }
            // The verification must be of the mapping as it is now: an edit (a filter dropped, a
            // transform changed) changes what the target should hold.
            guard let recordedFingerprint = record.mappingFingerprint else {
                return refuse(
                    "the verification of target \(target) records no mapping fingerprint, so it cannot show which mapping it checked: re-run verify",
                    verifyAgain)
            }
            guard recordedFingerprint == c.fingerprints[target] else {
                return refuse(
                    "the mapping's entry for target \(target) (its sources, transforms, filters, key prefixes, conflict policy or env) changed since it was verified: re-run verify",
                    "migrate what the edited mapping adds (`dynamo-migrate migrate \(c.mappingPath)`), then \(verifyAgain)")
            }
            // Decided from the recorded figures, never from the recorded verdict.
            guard record.figuresMatch else {
                let claimed =
                    record.status == .match
                    ? "its record says MATCH, but the recorded figures differ (expected \(record.expected.itemCount) items, hash \(record.expected.hash.hex); actual \(record.actual.itemCount) items, hash \(record.actual.hash.hex)\(record.targetExists ? "" : ", target missing")\(record.conflictCount > 0 ? ", \(record.conflictCount) conflicting keys" : ""))"
                    : record.reason
                return refuse(
                    "target \(target) did not verify: \(claimed)",
                    "find the differences with `dynamo-migrate diff \(table) \(target) --mapping \(c.mappingPath)`, fix them, then verify again")
            }
            if source.exclusions.itemsFailed > 0 {
                return refuse(
                    "\(source.exclusions.itemsFailed) items of \(table) fail the mapping's transforms, so they are in no target",
                    "fix the mapping or the items and migrate them, or list \(table) under discard-data: if they are not needed")
            }
            guard sourceNow.itemCount == source.exclusions.itemsRead, sourceNow.digest == source.exclusions.sourceHash.hex else {
                return refuse(
                    "\(table) changed since it was verified (\(source.exclusions.itemsRead) items then, \(sourceNow.itemCount) now)",
                    "migrate the changes (`dynamo-migrate migrate \(c.mappingPath)` with a new --state-dir), then \(verifyAgain)")
            }
            guard let resolved = c.mapping.targets.first(where: { $0.name == target }) else {
                return refuse("target \(target) is not in the mapping", verifyAgain)
            }
            // A record is a file: a consistently forged one would pass every check above. So the proof
            // is recomputed now from the tables themselves, through the current mapping.
            var missing: [String] = []
            for s in resolved.sources {
                if try await c.live.clients.source(s.table).describeTableIfExists(s.table) == nil { missing.append(s.table) }
            }
            if missing.isEmpty {
                let fresh = try await c.live.verification(of: resolved, in: c.mapping)
                guard fresh.figuresMatch else {
                    return refuse(
                        "recomputed now through the current mapping, target \(target) does not hold what its sources should produce: \(fresh.reason)",
                        "migrate what is missing (`dynamo-migrate migrate \(c.mappingPath)`), then \(verifyAgain)")
                }
                guard fresh.actual == record.actual else {
                    return refuse("target \(target) changed since it was verified", verifyAgain)
                }
                evidence.append(
                    "\(target) recomputed now: its sources through the current mapping produce exactly what it holds (\(fresh.actual.itemCount) items, hash \(fresh.actual.hash.hex)), unchanged since verified"
                )
            } else {
                // Sources an earlier decommission deleted cannot be read: what is left is the record's
                // figures and the target being unchanged since.
                let unexplained = missing.filter { !c.previouslyDeleted.contains($0) }
                guard unexplained.isEmpty else {
                    return refuse(
                        "source \(unexplained.joined(separator: ", ")) of target \(target) no longer exists, and no decommission deleted it",
                        "find out what happened to it; its data may be only in a backup")
                }
                guard let targetNow = try await c.live.checksum(ofTarget: target),
                    targetNow.itemCount == record.actual.itemCount, targetNow.digest == record.actual.hash.hex
                else {
                    return refuse("target \(target) changed since it was verified", verifyAgain)
                }
                evidence.append(
                    "\(target) MATCH by the recorded figures (\(record.actual.itemCount) items, hash \(record.actual.hash.hex)), unchanged since; not recomputed: \(missing.joined(separator: ", ")) deleted by an earlier decommission"
                )
            }
        }
        return CheckResult(
            name: name, passed: true,
            evidence: evidence.joined(separator: "; ")
                + "; \(table) unchanged since verified \(verification.verifiedAt.ISO8601Format()), after the migration finished \(finished.ISO8601Format()), on \(c.endpoint)"
        )
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
    /// Where `backup create` recorded each backup's content checksum.
    let backupRecords: BackupStateStore?
    public init(client: DynamoDBClient, exportDirectories: [URL] = [], backupRecords: BackupStateStore? = nil) {
        self.client = client
        self.exportDirectories = exportDirectories
        self.backupRecords = backupRecords
    }

    public func evaluate(_ c: DecommissionCandidate) async throws -> CheckResult {
        let lastRead = c.targets.isEmpty ? nil : c.migration?.finishedAt
        let onDemand = try await onDemandBackup(c, lastRead: lastRead)
        if onDemand.passed || exportDirectories.isEmpty { return onDemand }
        let export = try await localExport(c, lastRead: lastRead)
        if export.passed { return export }
        return CheckResult(
            name: name, passed: false, evidence: "\(onDemand.evidence); \(export.evidence)",
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
            return CheckResult(
                name: name, passed: false,
                evidence:
                    "the newest backup (\(newest.name), \(created.ISO8601Format())) is older than the migration's last read (\(lastRead.ISO8601Format()))",
                remedy: remedy)
        }
        let described = try await client.describeBackup(arn: newest.arn)
        // DynamoDB's ItemCount and TableSizeBytes (of the table and of the backup) are approximate and
        // refreshed about every six hours: where a content checksum was recorded at backup, it alone
        // decides; the approximate figures are only the fallback for a backup taken outside this tool.
        if let record = try? backupRecords?.backup(arn: newest.arn) {
            let now = try await c.live.checksum(of: c.table)
            guard record.contentChecksum.matches(now) else {
                return CheckResult(
                    name: name, passed: false,
                    evidence: "the table changed after backup \(newest.name): \(record.contentChecksum) then, \(now) now",
                    remedy: remedy)
            }
            return CheckResult(
                name: name, passed: true,
                evidence:
                    "backup \(newest.name) (\(newest.arn)) AVAILABLE, taken \(created.ISO8601Format()); content checksum recorded at backup equals the table's now (\(now))\(described.sourceItemCount.map { "; DynamoDB's approximate ItemCount \($0) not used" } ?? "")"
            )
        }
        if let count = described.sourceItemCount, count != c.table.itemCount {
            return CheckResult(
                name: name, passed: false,
                evidence: "backup \(newest.name) holds \(count) items but the table reports \(c.table.itemCount)",
                remedy: "the table changed after the backup: \(remedy)")
        }
        if let size = described.sourceTableSizeBytes, c.table.sizeBytes > 0, size != c.table.sizeBytes {
            return CheckResult(
                name: name, passed: false,
                evidence: "backup \(newest.name) is \(size) bytes but the table reports \(c.table.sizeBytes)",
                remedy: "the table changed after the backup: \(remedy)")
        }
        let checksumEvidence =
            "no content checksum recorded for it (taken outside `dynamo-migrate backup create`): only DynamoDB's approximate item count was compared"
        return CheckResult(
            name: name, passed: true,
            evidence:
                "backup \(newest.name) (\(newest.arn)) AVAILABLE, taken \(created.ISO8601Format()), \(described.sourceItemCount.map { "\($0) items" } ?? "item count not reported"); \(checksumEvidence)"
        )
    }

    func localExport(_ c: DecommissionCandidate, lastRead: Date?) async throws -> CheckResult {
        let table = c.table.name
        var found: [(ExportLocation, ExportReader)] = []
        for directory in exportDirectories {
            for location in (try? ExportLocation.find(in: directory)) ?? [] {
                if let reader = try? ExportReader(location: location),
                    reader.summary.dynamoMigrate?.tableName == table || (c.table.arn != nil && reader.summary.tableArn == c.table.arn)
                {
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
            return CheckResult(
                name: name, passed: false,
                evidence:
                    "the newest export (\(location.directory.path), \(exported.ISO8601Format())) is older than the migration's last read (\(lastRead.ISO8601Format()))"
            )
        }
        let checksummer = MultisetContentChecksummer()
        let verification = await ExportVerifier(checksummer: checksummer).verify(location)
        guard verification.ok else {
            return CheckResult(
                name: name, passed: false,
                evidence: "export \(location.directory.path) does not verify: \(verification.problems.map(\.description).joined(separator: "; "))")
        }
        guard let exportChecksum = verification.contentChecksum else {
            return CheckResult(name: name, passed: false, evidence: "export \(location.directory.path) has no content checksum to compare with the table")
        }
        let current = try await c.live.checksum(of: c.table)
        guard current.matches(exportChecksum) else {
            return CheckResult(
                name: name, passed: false,
                evidence: "export \(location.directory.path) holds \(exportChecksum) but the table now holds \(current)")
        }
        return CheckResult(
            name: name, passed: true,
            evidence:
                "export \(location.directory.path) (\(exported.ISO8601Format())) re-verified: \(verification.dataFiles) data files, \(verification.itemCount) items, content checksum equal to the table's"
        )
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
        return CheckResult(
            name: name, passed: false, evidence: "on",
            remedy: "pass --disable-deletion-protection to turn it off as part of the decommission")
    }
}

/// The identity that would delete a table is the one `verify` read it with: same account (STS
/// `GetCallerIdentity`), region and endpoint. Proof taken in one account or region says nothing about a
/// table of the same name in another. Records both identities as evidence.
public struct VerifiedIdentityCheck: DecommissionCheck {
    public let name = "same identity as verify"
    /// Who this run would delete `table` as.
    public let deletingIdentity: @Sendable (_ table: String) async -> ConnectionIdentity

    public init(deletingIdentity: @escaping @Sendable (_ table: String) async -> ConnectionIdentity) {
        self.deletingIdentity = deletingIdentity
    }

    public func evaluate(_ c: DecommissionCandidate) async throws -> CheckResult {
        let table = c.table.name
        let now = await deletingIdentity(table)
        let recorded = (c.verification?.targets ?? []).filter { c.targets.contains($0.target) }
            .flatMap { t in t.sources.filter { $0.table == table }.map { (target: t.target, source: $0.identity, targetIdentity: t.identity) } }
        let proved = recorded.compactMap { r in r.source.map { (r.target, $0, r.targetIdentity) } }
        guard !proved.isEmpty else {
            return CheckResult(
                name: name, passed: true,
                evidence: "deleting as \(now); no identity recorded by verify for \(table) (a record from before identities, or a table not migrated)")
        }
        for (target, identity, targetIdentity) in proved where !identity.isSamePlace(as: now) {
            return CheckResult(
                name: name, passed: false,
                evidence: "verify read \(table) (for \(target)) as \(identity), but this run would delete it as \(now)",
                remedy: "run decommission with the connection verify used (same profile, role, region and endpoint), or verify again with this one"
                    + (targetIdentity.map { "; the target was read as \($0)" } ?? ""))
        }
        let targets = proved.compactMap { r in r.2.map { "\(r.0) as \($0)" } }
        return CheckResult(
            name: name, passed: true,
            evidence: "deleting as \(now), as verify read it" + (targets.isEmpty ? "" : "; targets verified \(targets.joined(separator: "; "))"))
    }
}
