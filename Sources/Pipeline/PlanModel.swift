// The value a dry run produces: what `migrate` would do, table by table. Encodes to the `plan --json` format.
import DynamoClient
import DynamoCore
import Foundation
import RunState
import TableIO

/// What `migrate` would do with a mapping, read from the endpoint without writing anything.
///
/// Encodes (with sorted keys) to the stable `dynamo-migrate plan --json` format documented in
/// docs/plan.md. Optional fields are left out when they have no value.
public struct MigrationPlan: Encodable, Sendable, Equatable {
    /// The format's version; bumped on any incompatible change.
    public var formatVersion = 1
    public var endpoint: String
    public var mappingFile: String
    public var env: String?
    /// Items sampled per source (`--sample`).
    public var sampleSize: Int
    /// Targets in mapping order.
    public var targets: [PlannedTarget]
    /// Tables to delete once their target verifies, sorted.
    public var decommission: [PlannedDecommission]
    /// Tables matched by `ignore:`, sorted.
    public var ignored: [String]
    /// Tables the mapping does not mention, sorted.
    public var unaccounted: [String]
    /// Things to look at that do not stop a migration.
    public var warnings: [String]
    /// Problems that make `migrate` refuse or stop; the plan command exits 1 when there is any.
    public var problems: [PlanProblem]
    /// True when ``problems`` is not empty.
    public var blocked: Bool
    public var estimate: PlanEstimate
    /// What `migrate --follow` needs (`plan --follow` only; left out otherwise).
    public var follow: PlannedFollow?

    public init(
        endpoint: String, mappingFile: String, env: String?, sampleSize: Int, targets: [PlannedTarget],
        decommission: [PlannedDecommission], ignored: [String], unaccounted: [String], warnings: [String],
        problems: [PlanProblem], estimate: PlanEstimate
    ) {
        self.endpoint = endpoint
        self.mappingFile = mappingFile
        self.env = env
        self.sampleSize = sampleSize
        self.targets = targets
        self.decommission = decommission
        self.ignored = ignored
        self.unaccounted = unaccounted
        self.warnings = warnings
        self.problems = problems
        self.blocked = !problems.isEmpty
        self.estimate = estimate
    }
}

/// One target table: its settings, its sources in the order they are written, and what the samples showed.
public struct PlannedTarget: Encodable, Sendable, Equatable {
    public var name: String
    /// The table already exists at the endpoint.
    public var exists: Bool
    /// What DescribeTable says about the existing table (nil when it does not exist).
    public var existing: ExistingTarget?
    /// `overwrite`, `keep-existing` or `fail`.
    public var conflict: String
    /// The source unspecified settings are inherited from (nil with `inherit: false`).
    public var inheritsFrom: String?
    /// The settings it is created with (from ``TargetBlueprint``); an existing table keeps its own.
    public var settings: PlannedSettings
    /// What migrate does to the target table itself, in order.
    public var actions: [String]
    /// Settings of the sources the target will not have (``TargetBlueprint/lostSettings``).
    public var lostSettings: [String]
    public var sources: [PlannedSource]
    /// Target keys produced by more than one sampled item.
    public var collisions: [KeyCollision]
}

/// An existing target table as it is now.
public struct ExistingTarget: Encodable, Sendable, Equatable {
    public var status: String
    public var keySchema: KeySchema
    /// Its key schema equals the blueprint's; migrate refuses to write into it otherwise.
    public var keySchemaMatches: Bool
    /// DescribeTable's approximate count.
    public var itemCount: Int
    public var pointInTimeRecovery: Bool
    /// Where its settings differ from the mapping's (migrate leaves them as they are).
    public var differences: [String]
}

/// A table's settings in DynamoDB's vocabulary.
public struct PlannedSettings: Encodable, Sendable, Equatable {
    public var keySchema: KeySchema
    public var billing: PlannedBilling
    public var globalSecondaryIndexes: [PlannedIndex]
    public var localSecondaryIndexes: [PlannedIndex]
    /// A StreamViewType, or `OFF`.
    public var stream: String
    /// `AWS_OWNED` (DynamoDB's default) or `KMS`.
    public var sseType: String
    /// The KMS key of `KMS` encryption; nil for the AWS-managed key `alias/aws/dynamodb`.
    public var kmsKeyId: String?
    public var deletionProtection: Bool
    public var tags: [String: String]
    /// The TTL attribute when TTL is enabled.
    public var ttlAttribute: String?
    public var pointInTimeRecovery: Bool
}

/// Billing mode and provisioned capacity.
public struct PlannedBilling: Encodable, Sendable, Equatable {
    /// `PAY_PER_REQUEST` or `PROVISIONED`.
    public var mode: String
    public var readCapacityUnits: Int?
    public var writeCapacityUnits: Int?

    public init(_ billing: BillingMode) {
        mode = billing.name
        if case .provisioned(let r, let w) = billing {
            readCapacityUnits = r
            writeCapacityUnits = w
        }
    }
}

/// A global or local secondary index.
public struct PlannedIndex: Encodable, Sendable, Equatable {
    public var name: String
    public var keySchema: KeySchema
    /// `ALL`, `KEYS_ONLY` or `INCLUDE`.
    public var projection: String
    public var nonKeyAttributes: [String]?
    public var readCapacityUnits: Int?
    public var writeCapacityUnits: Int?

    public init(_ index: SecondaryIndex) {
        name = index.name
        keySchema = index.keySchema
        switch index.projection {
        case .all: projection = "ALL"
        case .keysOnly: projection = "KEYS_ONLY"
        case .include(let names):
            projection = "INCLUDE"
            nonKeyAttributes = names
        }
        readCapacityUnits = index.provisioned?.read
        writeCapacityUnits = index.provisioned?.write
    }
}

/// One source table of a target.
public struct PlannedSource: Encodable, Sendable, Equatable {
    public var table: String
    /// 1-based position among the target's sources: the order they are written in.
    public var order: Int
    public var keySchema: KeySchema
    public var billing: PlannedBilling
    /// DescribeTable's approximate count (refreshed by DynamoDB about every six hours).
    public var itemCount: Int
    /// DescribeTable's approximate size in bytes.
    public var sizeBytes: Int
    public var keyPrefix: String?
    /// The source has transforms (besides the key check every source gets).
    public var hasTransforms: Bool
    public var deletionProtection: Bool
    /// The table matches `decommission:`.
    public var decommission: Bool
    /// What migrate does with this source, in order.
    public var actions: [String]
    /// The sampled items, in Scan order.
    public var samples: [PlannedSample]
    /// The source glob that brought this table to a target another entry names (``ResolvedSource/matchedBy``);
    /// nil when the target's own entry lists the source.
    public var matchedBy: String? = nil
    /// Set when the source is an export (`source: { export: … }`): read from its data files, not scanned.
    public var export: PlannedExport? = nil
}

/// An export source as `plan` shows it.
public struct PlannedExport: Encodable, Sendable, Equatable {
    public var url: String
    public var dataFiles: Int
    /// From the export's manifests; nil when it has none (moto's native exports).
    public var items: Int?
    /// Compressed bytes of the data files.
    public var bytes: Int
    public var hasManifests: Bool
    /// The table the export was taken of, when the export records it.
    public var exportedTable: String?
}

/// One sampled item and what its source's transform makes of it.
public struct PlannedSample: Encodable, Sendable, Equatable {
    /// What the transform did with a sampled item.
    public enum Outcome: String, Encodable, Sendable {
        /// The item is written in its `after` form.
        case transformed
        /// A filter drops it; it is not written.
        case filtered
        /// The transform fails; migrate sends it to the dead letters.
        case failed
    }

    public var before: DynamoItem
    public var outcome: Outcome
    /// The item as it is written (transformed only).
    public var after: DynamoItem?
    /// Its key in the target (transformed only).
    public var targetKey: DynamoItem?
    /// The TransformError text (failed only).
    public var error: String?
}

/// A target key that more than one sampled item produces.
public struct KeyCollision: Encodable, Sendable, Equatable {
    public var key: DynamoItem
    /// The source of each item with this key, in the order migrate writes them.
    public var sources: [String]
    /// The target's conflict policy.
    public var conflict: String
    /// Every item with this key is the same after its transform.
    public var identical: Bool
    /// What migrate does with them.
    public var outcome: String
}

/// A table to decommission.
public struct PlannedDecommission: Encodable, Sendable, Equatable {
    public var table: String
    /// The target it is migrated into, when it is a source.
    public var migratedInto: String?
    /// DescribeTable's approximate count (nil when the table could not be described).
    public var itemCount: Int?
    /// Deletion protection is on: it must be turned off before the table can be deleted.
    public var deletionProtection: Bool?
}

/// Something that makes `migrate` refuse to start or certainly stop.
public struct PlanProblem: Encodable, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Encodable, Sendable {
        /// An existing target's key schema differs from the mapping's: migrate refuses to write into it.
        case keySchemaMismatch
        /// Sampled items of a `conflict: fail` target share a key with different content: migrate would stop there.
        case conflictWouldFail
        /// Every sampled item of a source fails its transform: migrate would dead-letter the whole table.
        case everySampleFails
        /// `plan --follow`: a source lacks a NEW_AND_OLD_IMAGES stream that migrate --follow may turn on.
        case streamNotReady
        /// `plan --follow`: a merged target's keys cannot be traced back to its sources' items.
        case followInexact
        /// `plan --follow`: the copy would outlive the streams' 24-hour window.
        case backfillOutlivesStream
    }

    public var kind: Kind
    public var target: String
    public var message: String

    public var description: String { message }
}

/// How long the copy may take.
public struct PlanEstimate: Encodable, Sendable, Equatable {
    /// Items of all sources, from DescribeTable.
    public var sourceItems: Int
    /// Bytes of all sources, from DescribeTable.
    public var sourceBytes: Int
    /// Items written per second assumed (`--write-rate`).
    public var writeRate: Double
    /// `sourceItems / writeRate`.
    public var seconds: Double
    public var note: String
}

/// An item that encodes as DynamoDB JSON (`{"name": {"S": "x"}}`).
public struct DynamoItem: Encodable, Sendable, Equatable {
    public var item: Item
    public init(_ item: Item) { self.item = item }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(TypedMap(item))
    }
}

/// An item or `M` value as a JSON object, one member per attribute name, in byte order of the names.
/// Known limit: Foundation's `JSONEncoder` keys objects by `String`, so of two canonically equivalent
/// names ("é" and "e\u{301}") only the last reaches the plan's JSON; the data path (migrate, verify,
/// export, dead letters) writes with ``JSONWriter`` and keeps both.
struct TypedMap: Encodable {
    let map: Item
    init(_ map: Item) { self.map = map }

    struct Name: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: Name.self)
        for (name, value) in map.sorted(by: { $0.key < $1.key }) {
            try container.encode(TypedValue(value), forKey: Name(stringValue: name.string))
        }
    }
}

/// One attribute value as DynamoDB JSON.
struct TypedValue: Encodable {
    let value: AttributeValue
    init(_ value: AttributeValue) { self.value = value }

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch value {
        case .s(let s): try container.encode(["S": s])
        case .n(let n): try container.encode(["N": n.text])
        case .b(let b): try container.encode(["B": Base64.encode(b)])
        case .bool(let b): try container.encode(["BOOL": b])
        case .null: try container.encode(["NULL": true])
        case .m(let m): try container.encode(["M": TypedMap(m)])
        case .l(let l): try container.encode(["L": l.map(TypedValue.init)])
        case .ss(let ss): try container.encode(["SS": ss])
        case .ns(let ns): try container.encode(["NS": ns.map(\.text)])
        case .bs(let bs): try container.encode(["BS": bs.map(Base64.encode)])
        }
    }
}

extension MigrationPlan {
    /// Number of items sampled across all sources, and how many failed or were filtered.
    public var sampleCounts: (sampled: Int, failed: Int, filtered: Int) {
        var counts = (0, 0, 0)
        for target in targets {
            for source in target.sources {
                for sample in source.samples {
                    counts.0 += 1
                    if sample.outcome == .failed { counts.1 += 1 }
                    if sample.outcome == .filtered { counts.2 += 1 }
                }
            }
        }
        return counts
    }
}

extension MigrationPlan {
    /// The `plan --json` text: pretty-printed, keys sorted, slashes unescaped.
    public func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
