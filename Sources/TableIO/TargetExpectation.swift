import DynamoClient
import DynamoCore
import Foundation
import Mappings
import RunState

/// What a target should hold under its mapping entry, computed from its sources, against what it holds.
///
/// Sources are projected as the migrator does (transforms, key prefix, key check; filtered and failing
/// items excluded and counted). Merges follow the conflict policy in mapping order: `overwrite` keeps
/// the later source's item, `keep-existing` the earlier one, and `fail` reports keys that two sources
/// produce with different content. Items the target held before the migration are not modelled: they
/// show up as a mismatch.
///
/// One computation for `verify` (through `MappingVerifier`) and for `decommission`, which recomputes
/// each proof now instead of trusting a recorded one.
public struct TargetExpectation: Sendable {
    public let checksummer: Checksummer
    /// Conflicting keys listed per target (all are counted).
    public var maxListedConflicts = 20

    public init(checksummer: Checksummer) { self.checksummer = checksummer }

    /// The target's key schema: the existing table's, or the one the migrator would create it with.
    public func targetKeySchema(
        _ target: ResolvedTarget, sources: [TableDescription]
    ) async throws
        -> (schema: KeySchema, existing: TableDescription?)
    {
        let existing: TableDescription?
        do { existing = try await checksummer.forTarget(target.name).client.describeTableIfExists(target.name) } catch { throw VerificationError.client(error) }
        if let existing { return (existing.keySchema, existing) }
        let blueprint = TargetBlueprint.make(for: target, sources: sources, sourceTTL: nil, sourceTags: [:])
        return (blueprint.keySchema, nil)
    }

    /// Verifies one target: what its sources should produce against what it holds. `fingerprint` is
    /// recorded with it (``MappingFingerprints``).
    public func verify(_ target: ResolvedTarget, fingerprint: String? = nil) async throws -> TargetVerification {
        var descriptions: [TableDescription] = []
        var exports: [String: ExportSource] = [:]
        for source in target.sources {
            if let spec = source.export {
                // The export is the source's content: its items are what the target should hold.
                let export = try await ExportSource.open(spec, client: checksummer.forSource(source.table).client)
                exports[source.table] = export
                descriptions.append(export.tableDescription)
            } else {
                descriptions.append(try await checksummer.forSource(source.table).describe(source.table))
            }
        }
        let (keySchema, existing) = try await targetKeySchema(target, sources: descriptions)
        let projections = zip(target.sources, descriptions).map { source, description in
            SourceProjection(
                sourceKey: description.keySchema, targetKey: keySchema,
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
            let (checksum, exclusions) = try await checksummer.forSource(descriptions[0].name).expectedChecksum(of: descriptions[0], projection: projections[0], export: exports[descriptions[0].name])
            expected = checksum
            sources.append(SourceVerification(table: descriptions[0].name, exclusions: exclusions))
        } else {
            var merged: [[UInt8]: ItemDigest] = [:]
            for (description, projection) in zip(descriptions, projections) {
                let part = try await checksummer.forSource(description.name).expectedDigests(of: description, projection: projection, export: exports[description.name])
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
            reason =
                "expected \(expected.itemCount) items (\(expected.canonicalBytes) canonical bytes), the target holds \(actual.itemCount) (\(actual.canonicalBytes)); \(differing.count) of 256 buckets differ"
        } else {
            status = .match
            reason = "\(actual.itemCount) items match"
        }
        return TargetVerification(
            target: target.name, status: status, keySchema: keySchema.description,
            conflictPolicy: target.conflict, targetExists: existing != nil, sources: sources,
            expected: expected, actual: actual, differingBuckets: differing.map(TableChecksum.bucketName),
            duplicateKeys: duplicates, conflictCount: conflictCount, conflicts: conflicts, reason: reason,
            mappingFingerprint: fingerprint)
    }

    func targetChecksum(_ existing: TableDescription?, keySchema: KeySchema) async throws -> TableChecksum {
        guard let existing else { return TableChecksum() }
        return try await checksummer.forTarget(existing.name).checksum(of: existing, keySchema: keySchema)
    }

    func keyText(_ keyBytes: [UInt8], _ schema: KeySchema) -> String {
        guard let key = try? CanonicalEncoding.decodeItem(keyBytes) else { return "(undecodable key)" }
        return describeKey(key, schema: schema)
    }
}
