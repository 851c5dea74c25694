import AWSAuth
import Foundation

/// A copy of a table kept in another region or account (`backup replicate`): the table's content was
/// copied there, checksummed on both sides, and backed up there with an on-demand backup.
public struct ReplicaRecord: Sendable, Equatable, Codable {
    /// The table replicated, in the source connection.
    public var table: String
    /// Who read the source, where.
    public var source: ConnectionIdentity
    /// Who wrote the replica and took its backup, where.
    public var destination: ConnectionIdentity
    /// The table the content was copied into at the destination (deleted once backed up, unless kept).
    public var replicaTable: String
    public var backupArn: String
    public var backupName: String
    /// When the source's checksum was taken: the point the replica recovers to (its age is the RPO measure).
    public var checksumTakenAt: Date
    /// When the replica's backup was created.
    public var createdAt: Date
    public var itemCount: Int
    /// The source's content checksum and the replica's: a record is only written when they are equal,
    /// and `backup verify --policy` checks them again.
    public var sourceChecksum: ContentChecksum
    public var replicaChecksum: ContentChecksum
    /// Whether the replica table was kept at the destination.
    public var replicaTableKept: Bool
    /// The record's format (``StateRecord``).
    public var formatVersion: Int? = ReplicaRecord.currentFormatVersion

    public init(
        table: String, source: ConnectionIdentity, destination: ConnectionIdentity, replicaTable: String,
        backupArn: String, backupName: String, checksumTakenAt: Date, createdAt: Date, itemCount: Int,
        sourceChecksum: ContentChecksum, replicaChecksum: ContentChecksum, replicaTableKept: Bool
    ) {
        self.table = table; self.source = source; self.destination = destination; self.replicaTable = replicaTable
        self.backupArn = backupArn; self.backupName = backupName; self.checksumTakenAt = checksumTakenAt
        self.createdAt = createdAt; self.itemCount = itemCount; self.sourceChecksum = sourceChecksum
        self.replicaChecksum = replicaChecksum; self.replicaTableKept = replicaTableKept
    }
}

extension ReplicaRecord: StateRecord {
    public static var recordKind: String { "replica record" }
    public static var dateStyle: RecordDateStyle { .fractional }
}

extension BackupStateStore {
    static let replicasLog = "replicas.jsonl"

    /// Appends a replica record to `replicas.jsonl`.
    public func appendReplica(_ record: ReplicaRecord) throws { try store.append(record, to: Self.replicasLog) }

    /// Every replica record, oldest first; a line cut short by a crash is skipped and reported in `skipped`.
    public func replicas() throws -> (records: [ReplicaRecord], skipped: [Int]) { try store.records(ReplicaRecord.self, in: Self.replicasLog) }

    /// The newest replica of `table` in `region` (and `endpoint`, when given), or nil.
    public func newestReplica(of table: String, region: String, endpoint: String? = nil) throws -> ReplicaRecord? {
        try replicas().records.filter {
            $0.table == table && $0.destination.region == region
                && (endpoint == nil || $0.destination.endpoint == AWSConfiguration.normalizedEndpoint(endpoint!))
        }.max { $0.checksumTakenAt < $1.checksumTakenAt }
    }
}
