import DynamoClient
import DynamoCore
import Foundation
import Mappings
import RunState
import TableIO

/// The outcome for one target.
public enum VerificationStatus: String, Sendable, Codable {
    case match = "MATCH"
    case mismatch = "MISMATCH"
}

/// One source's part in a target's expected content.
public struct SourceVerification: Sendable, Codable, Equatable {
    public var table: String
    public var exclusions: ExclusionCounts
}

/// A target's expected checksum (from its sources) against its own.
public struct TargetVerification: Sendable, Codable {
    public var target: String
    public var status: VerificationStatus
    /// Key schema the items were bucketed by, e.g. `pk(S) + sk(N)`.
    public var keySchema: String
    /// Recorded with the policy's mapping-file spelling (`overwrite`, `keep-existing`, `fail`).
    public var conflictPolicy: ConflictPolicy
    public var targetExists: Bool
    public var sources: [SourceVerification]
    /// What the sources should produce after transforms and merging.
    public var expected: TableChecksum
    /// What the target holds.
    public var actual: TableChecksum
    /// Buckets whose totals differ ("00"..."ff").
    public var differingBuckets: [String]
    /// Target keys produced more than once (within a source, or by several sources of a merge).
    public var duplicateKeys: Int
    /// Keys produced by two sources with different content under the `fail` policy.
    public var conflictCount: Int
    /// The first of those keys.
    public var conflicts: [String]
    /// Why the status is what it is, in a sentence.
    public var reason: String
    /// The fingerprint of the mapping's entry for this target when it was verified
    /// (``MappingFingerprints``); nil in records written before fingerprints or without a mapping document.
    public var mappingFingerprint: String?

    /// What the recorded figures themselves say, whatever `status` claims: the target existed, held
    /// exactly the expected checksum (every bucket), and no merge conflicted. A record is a file anyone
    /// can edit, so decisions are taken from this, never from `status`.
    public var figuresMatch: Bool {
        targetExists && conflictCount == 0 && expected == actual
    }
}

/// What `verification.json` holds.
public struct VerificationRecord: Sendable, Codable {
    public var verifiedAt: Date
    /// The endpoint the tables were read from: proof from one endpoint says nothing about another.
    public var endpoint: String?
    public var mapping: String
    public var env: String?
    public var format: String
    public var matched: Bool
    public var targets: [TargetVerification]

    public static let fileName = "verification.json"

    /// Writes `verification.json` into `directory` atomically.
    public func write(to directory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let url = directory.appendingPathComponent(Self.fileName)
        do {
            try writeAtomically(try encoder.encode(self), to: url)
        } catch {
            throw VerificationError.unwritable(path: url.path, reason: "\(error)")
        }
    }
}

/// Verifies a resolved mapping: for every target, the checksum of what its sources should produce
/// against the target's own checksum.
///
/// Sources are projected as the migrator does (transforms, key prefix, key check; filtered and failing
/// items excluded and counted). Merges follow the conflict policy in mapping order: `overwrite` keeps
/// the later source's item, `keep-existing` the earlier one, and `fail` reports keys that two sources
/// produce with different content. Items the target held before the migration are not modelled: they
/// show up as a mismatch.
public struct MappingVerifier: Sendable {
    public let checksummer: Checksummer
    public let mapping: ResolvedMapping
    /// Conflicting keys listed per target (all are counted).
    public var maxListedConflicts = 20
    /// Recorded with each target, so a later mapping edit invalidates the verification of the targets
    /// it touches (`decommission` compares them).
    public var fingerprints: MappingFingerprints?
    /// Where the record's `verifiedAt` comes from; tests pass a clock they control.
    public var clock: any RunClock = SystemClock()

    public init(checksummer: Checksummer, mapping: ResolvedMapping, fingerprints: MappingFingerprints? = nil) {
        self.checksummer = checksummer
        self.mapping = mapping
        self.fingerprints = fingerprints
    }

    /// Verifies every target in mapping order.
    public func verify(mappingPath: String, env: String?) async throws -> VerificationRecord {
        var targets: [TargetVerification] = []
        for target in mapping.targets { targets.append(try await verify(target)) }
        return VerificationRecord(verifiedAt: clock.date, endpoint: checksummer.client.configuration.endpoint,
                                  mapping: mappingPath, env: env, format: CanonicalEncoding.format,
                                  matched: targets.allSatisfy { $0.status == .match }, targets: targets)
    }

    /// The target's key schema: the existing table's, or the one the migrator would create it with.
    public func targetKeySchema(_ target: ResolvedTarget, sources: [TableDescription]) async throws
        -> (schema: KeySchema, existing: TableDescription?) {
        let existing: TableDescription?
        do { existing = try await checksummer.client.describeTableIfExists(target.name) } catch { throw VerificationError.client(error) }
        if let existing { return (existing.keySchema, existing) }
        let blueprint = TargetBlueprint.make(for: target, sources: sources, sourceTTL: nil, sourceTags: [:])
        return (blueprint.keySchema, nil)
    }

    /// Verifies one target.
    public func verify(_ target: ResolvedTarget) async throws -> TargetVerification {
        var descriptions: [TableDescription] = []
        for source in target.sources { descriptions.append(try await checksummer.describe(source.table)) }
        let (keySchema, existing) = try await targetKeySchema(target, sources: descriptions)
        let projections = zip(target.sources, descriptions).map { source, description in
            SourceProjection(sourceKey: description.keySchema, targetKey: keySchema,
                             transform: source.itemTransform(targetKey: keySchema.spec))
        }

        // The target is scanned while the sources are.
        async let actualScan = targetChecksum(existing, keySchema: keySchema)
        var expected = TableChecksum()
        var sources: [SourceVerification] = []
        var duplicates = 0
        var conflictCount = 0
        var conflicts: [String] = []
        if descriptions.count == 1 {
            let (checksum, exclusions) = try await checksummer.expectedChecksum(of: descriptions[0], projection: projections[0])
            expected = checksum
            sources.append(SourceVerification(table: descriptions[0].name, exclusions: exclusions))
        } else {
            var merged: [[UInt8]: ItemDigest] = [:]
            for (description, projection) in zip(descriptions, projections) {
                let part = try await checksummer.expectedDigests(of: description, projection: projection)
                sources.append(SourceVerification(table: description.name, exclusions: part.exclusions))
                duplicates += part.duplicates
                if merged.isEmpty { merged = part.digests; continue }
                for (key, digest) in part.digests {
                    let earlier = merged[key]
                    if earlier != nil { duplicates += 1 }
                    // The writer's rule, on content hashes: the same decisions the migration took.
                    switch target.conflict.merge(existing: earlier?.hash, incoming: digest.hash) {
                    case .takeIncoming:
                        merged[key] = digest
                    case .keepExisting:
                        break
                    case .conflict:
                        conflictCount += 1
                        if conflicts.count < maxListedConflicts { conflicts.append(keyText(key, keySchema)) }
                    }
                }
            }
            for digest in merged.values { expected.add(digest) }
        }
        let actual = try await actualScan
        conflicts.sort()

        let differing = expected.differingBuckets(from: actual)
        let status: VerificationStatus
        let reason: String
        if existing == nil {
            status = .mismatch
            reason = "target table \(target.name) does not exist"
        } else if conflictCount > 0 {
            status = .mismatch
            reason = "\(conflictCount) keys come from two sources with different content, and the conflict policy is 'fail'"
        } else if expected != actual {
            status = .mismatch
            reason = "expected \(expected.itemCount) items (\(expected.canonicalBytes) canonical bytes), the target holds \(actual.itemCount) (\(actual.canonicalBytes)); \(differing.count) of 256 buckets differ"
        } else {
            status = .match
            reason = "\(actual.itemCount) items match"
        }
        return TargetVerification(
            target: target.name, status: status, keySchema: keySchema.description,
            conflictPolicy: target.conflict, targetExists: existing != nil, sources: sources,
            expected: expected, actual: actual, differingBuckets: differing.map(TableChecksum.bucketName),
            duplicateKeys: duplicates, conflictCount: conflictCount, conflicts: conflicts, reason: reason,
            mappingFingerprint: fingerprints?[target.name])
    }

    func targetChecksum(_ existing: TableDescription?, keySchema: KeySchema) async throws -> TableChecksum {
        guard let existing else { return TableChecksum() }
        return try await checksummer.checksum(of: existing, keySchema: keySchema)
    }

    func keyText(_ keyBytes: [UInt8], _ schema: KeySchema) -> String {
        guard let key = try? CanonicalEncoding.decodeItem(keyBytes) else { return "(undecodable key)" }
        return describeKey(key, schema: schema)
    }
}
