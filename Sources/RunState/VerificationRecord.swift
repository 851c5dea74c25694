import AWSAuth
import Foundation
import Mappings

/// The outcome for one target.
public enum VerificationStatus: String, Sendable, Codable {
    case match = "MATCH"
    case mismatch = "MISMATCH"
}

/// One source's part in a target's expected content.
public struct SourceVerification: Sendable, Codable, Equatable {
    public var table: String
    public var exclusions: ExclusionCounts
    /// Who read the source, where (account, ARN, region, endpoint); nil in records written before.
    public var identity: ConnectionIdentity?

    public init(table: String, exclusions: ExclusionCounts) { self.table = table; self.exclusions = exclusions }
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
    /// Who read the target, where (account, ARN, region, endpoint): `decommission` deletes only with the
    /// identities verify proved against. Nil in records written before.
    public var identity: ConnectionIdentity?

    public init(
        target: String, status: VerificationStatus, keySchema: String, conflictPolicy: ConflictPolicy, targetExists: Bool,
        sources: [SourceVerification], expected: TableChecksum, actual: TableChecksum, differingBuckets: [String],
        duplicateKeys: Int, conflictCount: Int, conflicts: [String], reason: String, mappingFingerprint: String?
    ) {
        self.target = target; self.status = status; self.keySchema = keySchema; self.conflictPolicy = conflictPolicy
        self.targetExists = targetExists; self.sources = sources; self.expected = expected; self.actual = actual
        self.differingBuckets = differingBuckets; self.duplicateKeys = duplicateKeys; self.conflictCount = conflictCount
        self.conflicts = conflicts; self.reason = reason; self.mappingFingerprint = mappingFingerprint
    }

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

    /// The record's format (``StateRecord``); nil in records written before versions (format 1).
    public var formatVersion: Int? = VerificationRecord.currentFormatVersion

    public static let fileName = "verification.json"

    public init(
        verifiedAt: Date, endpoint: String?, mapping: String, env: String?, format: String, matched: Bool,
        targets: [TargetVerification]
    ) {
        self.verifiedAt = verifiedAt; self.endpoint = endpoint; self.mapping = mapping; self.env = env
        self.format = format; self.matched = matched; self.targets = targets
    }

    /// Writes `verification.json` into the local state directory `directory` atomically (owner-only).
    public func write(to directory: URL) throws {
        try LocalDirectoryStateStore(directory: directory).save(self, to: Self.fileName)
    }
}

extension VerificationRecord: StateRecord {
    public static var recordKind: String { "verification record" }
}

extension StateStore {
    /// The last `verify` record, or nil when there is none.
    public func loadVerification() throws -> VerificationRecord? {
        guard var record = try load(VerificationRecord.self, from: VerificationRecord.fileName)?.record else { return nil }
        // Older records kept the endpoint as typed; compare in the one form clients use.
        record.endpoint = record.endpoint.map(AWSConfiguration.normalizedEndpoint)
        return record
    }
}
