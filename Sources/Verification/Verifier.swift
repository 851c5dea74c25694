import AWSAuth
import DynamoClient
import DynamoCore
import Foundation
import Mappings
import RunState
import TableIO

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
        return VerificationRecord(
            verifiedAt: clock.date, endpoint: checksummer.client.configuration.endpoint,
            mapping: mappingPath, env: env, format: CanonicalEncoding.format,
            matched: targets.allSatisfy { $0.status == .match }, targets: targets)
    }

    /// The target's key schema: the existing table's, or the one the migrator would create it with.
    public func targetKeySchema(
        _ target: ResolvedTarget, sources: [TableDescription]
    ) async throws
        -> (schema: KeySchema, existing: TableDescription?)
    {
        try await expectation.targetKeySchema(target, sources: sources)
    }

    /// Verifies one target (``TargetExpectation/verify(_:fingerprint:)``, the code `decommission`
    /// recomputes proofs with).
    public func verify(_ target: ResolvedTarget) async throws -> TargetVerification {
        try await expectation.verify(target, fingerprint: fingerprints?[target.name])
    }

    var expectation: TargetExpectation {
        var expectation = TargetExpectation(checksummer: checksummer)
        expectation.maxListedConflicts = maxListedConflicts
        return expectation
    }
}
