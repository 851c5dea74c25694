// Target table settings as declared in a mapping file's `settings:`.

/// A key attribute's scalar type.
public enum KeyAttributeType: String, Sendable, Hashable, CaseIterable {
    case s = "S"
    case n = "N"
    case b = "B"
}

/// A key attribute: name and type.
public struct KeyAttributeSpec: Sendable, Hashable {
    public var name: String
    public var type: KeyAttributeType

    public init(name: String, type: KeyAttributeType) {
        self.name = name
        self.type = type
    }
}

/// A table's or index's key schema.
public struct KeySchemaSpec: Sendable, Hashable {
    public var partition: KeyAttributeSpec
    public var sort: KeyAttributeSpec?

    public init(partition: KeyAttributeSpec, sort: KeyAttributeSpec? = nil) {
        self.partition = partition
        self.sort = sort
    }
}

/// Billing mode.
public enum BillingSpec: Sendable, Hashable {
    /// PAY_PER_REQUEST.
    case onDemand
    /// PROVISIONED with read and write capacity units.
    case provisioned(read: Int, write: Int)
}

/// Which attributes an index projects.
public enum ProjectionSpec: Sendable, Hashable {
    case all
    case keysOnly
    /// INCLUDE: the keys plus these attributes.
    case include([String])
}

/// A global or local secondary index.
public struct SecondaryIndexSpec: Sendable, Hashable {
    public var name: String
    /// For a local index: the table's partition key.
    public var partition: KeyAttributeSpec?
    public var sort: KeyAttributeSpec?
    public var projection: ProjectionSpec
    /// Provisioned capacity of a global index (nil under on-demand billing).
    public var read: Int?
    public var write: Int?

    public init(
        name: String, partition: KeyAttributeSpec?, sort: KeyAttributeSpec?,
        projection: ProjectionSpec, read: Int? = nil, write: Int? = nil
    ) {
        self.name = name
        self.partition = partition
        self.sort = sort
        self.projection = projection
        self.read = read
        self.write = write
    }
}

/// Server-side encryption.
public enum SSESpec: Sendable, Hashable {
    /// `sse: false`: DynamoDB's default, an AWS-owned key.
    case awsOwned
    /// `sse: true`: the AWS-managed KMS key (`alias/aws/dynamodb`).
    case awsManagedKMS
    /// `sse: { kms-key: "arn:..." }`: a customer-managed KMS key.
    case customerKMS(keyID: String)
}

/// DynamoDB Streams view type.
public enum StreamSpec: String, Sendable, Hashable, CaseIterable {
    case off
    case newImage = "new-image"
    case oldImage = "old-image"
    case newAndOldImages = "new-and-old-images"
    case keysOnly = "keys-only"
}

/// A target table's `settings:`. A nil field was not given: it is inherited from the first source
/// table when ``inherit`` is true, else it takes the documented default.
public struct TargetSettingsSpec: Sendable, Hashable {
    /// Take what is not given from the first source table (default true).
    public var inherit: Bool = true
    public var key: KeySchemaSpec?
    public var billing: BillingSpec?
    public var globalSecondaryIndexes: [SecondaryIndexSpec]?
    public var localSecondaryIndexes: [SecondaryIndexSpec]?
    /// The TTL attribute name.
    public var ttl: String?
    /// Point-in-time recovery; see ``effectivePointInTimeRecovery``.
    public var pointInTimeRecovery: Bool?
    public var deletionProtection: Bool?
    public var sse: SSESpec?
    public var stream: StreamSpec?
    /// Tags, in file order.
    public var tags: [TagSpec]?

    public init() {}

    /// PITR for the target: as given, else true. Targets get PITR by default whatever the source had,
    /// because a consolidated table is the one to protect.
    public var effectivePointInTimeRecovery: Bool { pointInTimeRecovery ?? true }
}

/// One table tag.
public struct TagSpec: Sendable, Hashable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}
