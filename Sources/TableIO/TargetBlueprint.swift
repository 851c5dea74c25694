import DynamoClient
import DynamoCore
import Mappings
import RunState

/// What a target table will look like: the mapping's settings with the rest inherited from its first
/// source. Used by `plan` to show it and by `migrate` to create it.
public struct TargetBlueprint: Sendable {
    public var table: CreateTableInput
    public var pointInTimeRecovery: Bool
    /// TTL attribute, when TTL is to be enabled.
    public var ttlAttribute: String?
    /// Source settings the target will not have (e.g. a GSI or TTL of a merged source), for the plan.
    public var lostSettings: [String]

    public var keySchema: KeySchema { table.keySchema }

    /// Resolves a target's settings.
    /// - Parameters:
    ///   - sources: DescribeTable of every source of the target, in mapping order.
    ///   - sourceTTL: the first source's TTL setting.
    ///   - sourceTags: the first source's tags.
    public static func make(
        for target: ResolvedTarget, sources: [TableDescription],
        sourceTTL: TimeToLive?, sourceTags: [String: String]
    ) -> TargetBlueprint {
        let settings = target.settings
        let inherited = settings.inherit ? sources.first : nil
        let keySchema = settings.key.map(KeySchema.init) ?? inherited?.keySchema ?? sources.first!.keySchema

        let billing: BillingMode
        switch settings.billing {
        case .onDemand?: billing = .payPerRequest
        case .provisioned(let r, let w)?: billing = .provisioned(read: r, write: w)
        case nil: billing = inherited?.billingMode ?? .payPerRequest
        }
        let gsis =
            settings.globalSecondaryIndexes.map { $0.map { SecondaryIndex(spec: $0, tableKey: keySchema) } }
            ?? inherited?.globalSecondaryIndexes ?? []
        let lsis =
            settings.localSecondaryIndexes.map { $0.map { SecondaryIndex(spec: $0, tableKey: keySchema) } }
            ?? inherited?.localSecondaryIndexes ?? []
        let stream: StreamViewType?
        switch settings.stream {
        case .off?: stream = nil
        case .newImage?: stream = .newImage
        case .oldImage?: stream = .oldImage
        case .newAndOldImages?: stream = .newAndOldImages
        case .keysOnly?: stream = .keysOnly
        case nil: stream = inherited?.stream
        }
        let sse: SSESpecification?
        switch settings.sse {
        case .awsOwned?: sse = nil
        case .awsManagedKMS?: sse = SSESpecification(enabled: true)
        case .customerKMS(let key)?: sse = SSESpecification(enabled: true, kmsKeyId: key)
        // An inherited AWS-managed key is asked for by naming no key: see SSESpecification.forNewTable.
        case nil: sse = inherited?.sse?.forNewTable
        }
        var tags = settings.inherit ? sourceTags : [:]
        for tag in settings.tags ?? [] { tags[tag.key] = tag.value }
        let ttl = settings.ttl ?? (settings.inherit && sourceTTL?.isEnabled == true ? sourceTTL?.attributeName : nil)

        var input = CreateTableInput(
            name: target.name, keySchema: keySchema, billingMode: billing,
            globalSecondaryIndexes: gsis, localSecondaryIndexes: lsis,
            stream: stream, sse: sse, tags: tags,
            deletionProtection: settings.deletionProtection ?? inherited?.deletionProtection ?? false)
        // LSIs must share the table's partition key; inherited ones from a source with another key cannot be kept.
        var lost: [String] = []
        input.localSecondaryIndexes = lsis.filter { index in
            let fits = index.keySchema.partitionKey == keySchema.partitionKey && keySchema.sortKey != nil
            if !fits { lost.append("local index \(index.name) (its partition key differs from the target's)") }
            return fits
        }
        if case .payPerRequest = billing {
            input.globalSecondaryIndexes = input.globalSecondaryIndexes.map {
                var i = $0; i.provisioned = nil; return i
            }
        }
        // What the sources had that the target will not. An index counts as kept only when the target
        // has one of the same name and key schema.
        func kept(_ index: SecondaryIndex, in indexes: [SecondaryIndex]) -> Bool {
            indexes.contains { $0.name == index.name && $0.keySchema == index.keySchema }
        }
        for (position, source) in sources.enumerated() {
            for index in source.globalSecondaryIndexes where !kept(index, in: input.globalSecondaryIndexes) {
                lost.append("global index \(index.name) of \(source.name)")
            }
            if position > 0 || !settings.inherit {
                for index in source.localSecondaryIndexes where !kept(index, in: input.localSecondaryIndexes) {
                    lost.append("local index \(index.name) of \(source.name)")
                }
            }
            if let stream = source.stream, input.stream == nil, position > 0 || !settings.inherit || settings.stream == .off {
                lost.append("stream (\(stream.rawValue)) of \(source.name)")
            }
            if let sourceSSE = source.sse, sourceSSE.enabled,
                input.sse?.enabled != true || (sourceSSE.customerManagedKeyId != nil && input.sse?.customerManagedKeyId != sourceSSE.customerManagedKeyId)
            {
                lost.append("encryption with \(sourceSSE.customerManagedKeyId.map { "KMS key \($0)" } ?? "a KMS key") of \(source.name)")
            }
        }
        if ttl == nil, sourceTTL?.isEnabled == true, let name = sourceTTL?.attributeName {
            lost.append("TTL on \(name) of \(sources.first!.name)")
        }
        if !settings.inherit, !sourceTags.isEmpty {
            lost.append("tags of \(sources.first!.name) (\(sourceTags.keys.sorted().joined(separator: ", ")))")
        }
        return TargetBlueprint(
            table: input, pointInTimeRecovery: settings.effectivePointInTimeRecovery,
            ttlAttribute: ttl, lostSettings: lost)
    }
}

extension KeySchema {
    /// The client's key schema for a mapping's key spec.
    public init(_ spec: KeySchemaSpec) {
        self.init(partitionKey: KeyAttribute(spec.partition), sortKey: spec.sort.map(KeyAttribute.init))
    }

    /// The mapping's key spec for a table's key schema.
    public var spec: KeySchemaSpec {
        KeySchemaSpec(partition: partitionKey.spec, sort: sortKey?.spec)
    }
}

extension KeyAttribute {
    init(_ spec: KeyAttributeSpec) {
        let type: ScalarAttributeType =
            switch spec.type {
            case .s: .string
            case .n: .number
            case .b: .binary
            }
        self.init(name: spec.name, type: type)
    }

    var spec: KeyAttributeSpec {
        let type: KeyAttributeType =
            switch self.type {
            case .string: .s
            case .number: .n
            case .binary: .b
            }
        return KeyAttributeSpec(name: name, type: type)
    }
}

extension SecondaryIndex {
    init(spec: SecondaryIndexSpec, tableKey: KeySchema) {
        let partition = spec.partition.map(KeyAttribute.init) ?? tableKey.partitionKey
        let projection: Projection =
            switch spec.projection {
            case .all: .all
            case .keysOnly: .keysOnly
            case .include(let names): .include(names)
            }
        var provisioned: (read: Int, write: Int)?
        if let r = spec.read, let w = spec.write { provisioned = (r, w) }
        self.init(
            name: spec.name, keySchema: KeySchema(partitionKey: partition, sortKey: spec.sort.map(KeyAttribute.init)),
            projection: projection, provisioned: provisioned)
    }
}
