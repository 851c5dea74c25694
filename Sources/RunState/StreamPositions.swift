// The follow's run state: where each source's stream is read from, per shard, and how the follow ended.
import Foundation

/// The stream positions of a `migrate --follow` run: one entry per followed source table, each with its
/// shards' progress. Saved after every batch of applied records, so a killed run resumes at the last
/// applied record of every shard (applying a record twice is harmless: each is a put or a delete of a
/// whole item, and they are applied in order).
public struct StreamPositions: StateRecord, Equatable {
    public var formatVersion: Int?
    /// The mapping these positions belong to; positions of another mapping are refused.
    public var planFingerprint: String
    /// The endpoint the streams were read from.
    public var endpoint: String
    /// By source table name.
    public var sources: [String: SourceStreamPosition]

    public init(planFingerprint: String, endpoint: String, sources: [String: SourceStreamPosition] = [:]) {
        self.planFingerprint = planFingerprint
        self.endpoint = endpoint
        self.sources = sources
    }

    public static var recordKind: String { "stream positions record" }
    public static var dateStyle: RecordDateStyle { .fractional }
    public static let fileName = "stream-positions.json"
}

/// One source table's stream and how far each of its shards has been applied.
public struct SourceStreamPosition: Codable, Sendable, Equatable {
    public var table: String
    public var streamArn: String
    /// When the positions were taken: before the source's scan started.
    public var capturedAt: Date
    /// Records created before this are already in the scan and are skipped (see ``FollowPositionRule``).
    public var applyFrom: Date
    /// By shard id.
    public var shards: [String: ShardProgress]
    /// How the last follow of this source ended (for decommission), nil while it has not ended drained.
    public var outcome: FollowOutcome?
    /// When DescribeStream last listed the shards: a shard not listed then was created after it.
    public var listedAt: Date?

    public init(table: String, streamArn: String, capturedAt: Date, applyFrom: Date, shards: [String: ShardProgress] = [:]) {
        self.table = table; self.streamArn = streamArn; self.capturedAt = capturedAt; self.applyFrom = applyFrom
        self.shards = shards
    }
}

/// One shard's progress.
public struct ShardProgress: Codable, Sendable, Equatable {
    public var shardId: String
    public var parentShardId: String?
    /// The last record applied to the target (reading resumes after it); nil: nothing applied yet, read from
    /// the shard's trim horizon.
    public var lastSequenceNumber: String?
    /// The shard is closed and every record of it is applied: its children may start.
    public var finished: Bool
    /// Records applied from this shard, over every run.
    public var recordsApplied: Int
    /// When the last applied record was made (its ApproximateCreationDateTime).
    public var lastRecordAt: Date?
    /// For a shard with nothing applied yet: every record of it made before this is known to be read
    /// (it was read to its end then, or it did not exist yet). Nil: since the source's `applyFrom`. A
    /// shard with nothing applied loses records once this is more than 24 hours old.
    public var readSince: Date?

    public init(
        shardId: String, parentShardId: String?, lastSequenceNumber: String? = nil, finished: Bool = false, recordsApplied: Int = 0,
        lastRecordAt: Date? = nil, readSince: Date? = nil
    ) {
        self.shardId = shardId; self.parentShardId = parentShardId; self.lastSequenceNumber = lastSequenceNumber
        self.finished = finished; self.recordsApplied = recordsApplied; self.lastRecordAt = lastRecordAt; self.readSince = readSince
    }
}

/// How a follow ended for one source: the evidence decommission asks for.
public struct FollowOutcome: Codable, Sendable, Equatable {
    /// When every shard was caught up and nothing had arrived for the idle period.
    public var drainedAt: Date
    /// The newest record applied from the source (nil when none was).
    public var lastRecordAt: Date?
    /// Records applied over every run.
    public var recordsApplied: Int

    public init(drainedAt: Date, lastRecordAt: Date?, recordsApplied: Int) {
        self.drainedAt = drainedAt; self.lastRecordAt = lastRecordAt; self.recordsApplied = recordsApplied
    }
}

/// Margin taken before the position capture: a record older than `capturedAt - margin` is certainly in the
/// scan (DynamoDB's eventually consistent reads converge within a second; the margin also absorbs clock
/// skew between this machine and DynamoDB). Records newer than that are applied even when the scan saw
/// them already: applying a change again is harmless.
public enum FollowPositionRule {
    public static let margin: TimeInterval = 15 * 60
}

extension StateStore {
    /// The stream positions of the run in this store, or nil when it never followed.
    public func loadStreamPositions() throws -> StreamPositions? {
        try load(StreamPositions.self, from: StreamPositions.fileName)?.record
    }

    public func saveStreamPositions(_ positions: StreamPositions) throws {
        try save(positions, to: StreamPositions.fileName)
    }
}
