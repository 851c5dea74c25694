import DynamoCore
import Foundation

/// A key attribute's type.
public enum ScalarAttributeType: String, Sendable, Hashable, Codable {
    case string = "S", number = "N", binary = "B"
}

/// One key attribute: name and type. Names compare by UTF-8 bytes, as DynamoDB compares them.
public struct KeyAttribute: Sendable, Hashable, Codable {
    public var name: String
    public var type: ScalarAttributeType
    public init(name: String, type: ScalarAttributeType) { self.name = name; self.type = type }

    /// The name as an item's key.
    public var attributeName: AttributeName { AttributeName(name) }

    public static func == (a: KeyAttribute, b: KeyAttribute) -> Bool {
        a.type == b.type && utf8Equal(a.name, b.name)
    }
    public func hash(into hasher: inout Hasher) { hashUTF8(name, into: &hasher); hasher.combine(type) }
}

/// A primary key (or index key): partition key and optional sort key.
public struct KeySchema: Sendable, Hashable, Codable, CustomStringConvertible {
    public var partitionKey: KeyAttribute
    public var sortKey: KeyAttribute?
    public init(partitionKey: KeyAttribute, sortKey: KeyAttribute? = nil) {
        self.partitionKey = partitionKey; self.sortKey = sortKey
    }
    /// `userId(S)` or `userId(S) + createdAt(N)`.
    public var description: String {
        var text = "\(partitionKey.name)(\(partitionKey.type.rawValue))"
        if let sortKey { text += " + \(sortKey.name)(\(sortKey.type.rawValue))" }
        return text
    }
    /// Names of the key attributes, partition key first.
    public var attributeNames: [String] { [partitionKey.name] + (sortKey.map { [$0.name] } ?? []) }
    /// The key of an item: just its key attributes (nil when one is missing).
    public func key(of item: Item) -> Item? {
        guard let p = item[partitionKey.attributeName] else { return nil }
        var key: Item = [partitionKey.attributeName: p]
        if let sortKey {
            guard let s = item[sortKey.attributeName] else { return nil }
            key[sortKey.attributeName] = s
        }
        return key
    }
}

/// On-demand or provisioned capacity.
public enum BillingMode: Sendable, Hashable {
    case payPerRequest
    case provisioned(read: Int, write: Int)

    public var name: String {
        switch self {
        case .payPerRequest: "PAY_PER_REQUEST"
        case .provisioned: "PROVISIONED"
        }
    }
}

/// Which attributes an index copies.
public enum Projection: Sendable, Hashable {
    case all, keysOnly
    case include([String])
}

/// A global or local secondary index.
public struct SecondaryIndex: Sendable, Hashable {
    public var name: String
    public var keySchema: KeySchema
    public var projection: Projection
    /// Provisioned capacity of a GSI on a provisioned table.
    public var provisioned: (read: Int, write: Int)? {
        get { provisionedRead.map { ($0, provisionedWrite ?? $0) } }
        set { provisionedRead = newValue?.read; provisionedWrite = newValue?.write }
    }
    var provisionedRead: Int?
    var provisionedWrite: Int?
    public init(name: String, keySchema: KeySchema, projection: Projection = .all, provisioned: (read: Int, write: Int)? = nil) {
        self.name = name; self.keySchema = keySchema; self.projection = projection
        self.provisionedRead = provisioned?.read; self.provisionedWrite = provisioned?.write
    }
}

/// DynamoDB Streams setting.
public enum StreamViewType: String, Sendable, Hashable {
    case newImage = "NEW_IMAGE", oldImage = "OLD_IMAGE", newAndOldImages = "NEW_AND_OLD_IMAGES", keysOnly = "KEYS_ONLY"
}

/// Server-side encryption setting: AWS-owned key (`enabled == false`), or KMS with an optional key.
public struct SSESpecification: Sendable, Hashable {
    public var enabled: Bool
    public var kmsKeyId: String?
    public init(enabled: Bool, kmsKeyId: String? = nil) { self.enabled = enabled; self.kmsKeyId = kmsKeyId }

    /// The KMS key to name when asking for this encryption elsewhere: only a customer-managed key.
    /// DynamoDB's AWS-managed key (`alias/aws/dynamodb`) is what KMS encryption without a key means,
    /// and it belongs to the source's account and region, so naming it would fail in another one.
    public var customerManagedKeyId: String? {
        guard enabled, let key = kmsKeyId, !key.isEmpty, !Self.isAWSManagedKey(key) else { return nil }
        return key
    }

    /// Whether `key` names DynamoDB's AWS-managed key: `alias/aws/dynamodb` as an alias name or alias ARN.
    /// A bare key ARN cannot be told apart without KMS's DescribeKey; it is taken as customer-managed.
    public static func isAWSManagedKey(_ key: String) -> Bool {
        key == "alias/aws/dynamodb" || key.hasSuffix(":alias/aws/dynamodb")
    }

    /// This encryption as a new table should ask for it: the AWS-managed key named by no key at all.
    public var forNewTable: SSESpecification {
        enabled ? SSESpecification(enabled: true, kmsKeyId: customerManagedKeyId) : self
    }
}

/// What DescribeTable says about a table.
public struct TableDescription: Sendable {
    public var name: String
    public var arn: String?
    public var status: String
    public var keySchema: KeySchema
    public var billingMode: BillingMode
    /// Approximate: DynamoDB refreshes it about every six hours.
    public var itemCount: Int
    /// Approximate: DynamoDB refreshes it about every six hours.
    public var sizeBytes: Int
    public var creationDate: Date?
    public var globalSecondaryIndexes: [SecondaryIndex]
    public var localSecondaryIndexes: [SecondaryIndex]
    public var stream: StreamViewType?
    public var sse: SSESpecification?
    public var deletionProtection: Bool
    public var tableClass: String?
    /// The whole answer, for fields not modelled here.
    public var raw: JSON
}

/// Everything CreateTable needs.
public struct CreateTableInput: Sendable {
    public var name: String
    public var keySchema: KeySchema
    public var billingMode: BillingMode
    public var globalSecondaryIndexes: [SecondaryIndex]
    public var localSecondaryIndexes: [SecondaryIndex]
    public var stream: StreamViewType?
    public var sse: SSESpecification?
    public var tags: [String: String]
    public var deletionProtection: Bool
    public var tableClass: String?

    public init(
        name: String, keySchema: KeySchema, billingMode: BillingMode = .payPerRequest,
        globalSecondaryIndexes: [SecondaryIndex] = [], localSecondaryIndexes: [SecondaryIndex] = [],
        stream: StreamViewType? = nil, sse: SSESpecification? = nil, tags: [String: String] = [:],
        deletionProtection: Bool = false, tableClass: String? = nil
    ) {
        self.name = name; self.keySchema = keySchema; self.billingMode = billingMode
        self.globalSecondaryIndexes = globalSecondaryIndexes; self.localSecondaryIndexes = localSecondaryIndexes
        self.stream = stream; self.sse = sse; self.tags = tags
        self.deletionProtection = deletionProtection; self.tableClass = tableClass
    }
}

/// Changes for UpdateTable; nil fields stay as they are.
public struct UpdateTableInput: Sendable {
    public var name: String
    public var billingMode: BillingMode?
    public var deletionProtection: Bool?
    /// `.some(nil)` turns the stream off.
    public var stream: StreamViewType??
    public init(name: String, billingMode: BillingMode? = nil, deletionProtection: Bool? = nil, stream: StreamViewType?? = nil) {
        self.name = name; self.billingMode = billingMode; self.deletionProtection = deletionProtection; self.stream = stream
    }
}

extension TableDescription {
    /// Decodes DescribeTable's `Table` (or CreateTable's `TableDescription`) object.
    static func decode(_ json: JSON) throws(DecodeError) -> TableDescription {
        guard let name = json["TableName"]?.stringValue else { throw DecodeError("no TableName") }
        let definitions = Dictionary(
            (json["AttributeDefinitions"]?.arrayValue ?? []).compactMap { d -> (String, ScalarAttributeType)? in
                guard let n = d["AttributeName"]?.stringValue, let t = d["AttributeType"]?.stringValue.flatMap(ScalarAttributeType.init) else { return nil }
                return (n, t)
            }, uniquingKeysWith: { a, _ in a })
        func keySchema(_ value: JSON?, what: String) throws(DecodeError) -> KeySchema {
            var partition: KeyAttribute?
            var sort: KeyAttribute?
            for element in value?.arrayValue ?? [] {
                guard let n = element["AttributeName"]?.stringValue, let kt = element["KeyType"]?.stringValue else { continue }
                let attribute = KeyAttribute(name: n, type: definitions[n] ?? .string)
                if kt == "HASH" { partition = attribute } else if kt == "RANGE" { sort = attribute }
            }
            guard let partition else { throw DecodeError("\(what) has no HASH key") }
            return KeySchema(partitionKey: partition, sortKey: sort)
        }
        func projection(_ value: JSON?) -> Projection {
            switch value?["ProjectionType"]?.stringValue {
            case "KEYS_ONLY": return .keysOnly
            case "INCLUDE": return .include((value?["NonKeyAttributes"]?.arrayValue ?? []).compactMap(\.stringValue))
            default: return .all
            }
        }
        func indexes(_ value: JSON?) throws(DecodeError) -> [SecondaryIndex] {
            var result: [SecondaryIndex] = []
            for index in value?.arrayValue ?? [] {
                guard let indexName = index["IndexName"]?.stringValue else { continue }
                var item = SecondaryIndex(
                    name: indexName, keySchema: try keySchema(index["KeySchema"], what: "index \(indexName)"),
                    projection: projection(index["Projection"]))
                if let r = index["ProvisionedThroughput"]?["ReadCapacityUnits"]?.intValue,
                    let w = index["ProvisionedThroughput"]?["WriteCapacityUnits"]?.intValue, r > 0 || w > 0
                {
                    item.provisioned = (r, w)
                }
                result.append(item)
            }
            return result
        }
        let billing: BillingMode
        let read = json["ProvisionedThroughput"]?["ReadCapacityUnits"]?.intValue ?? 0
        let write = json["ProvisionedThroughput"]?["WriteCapacityUnits"]?.intValue ?? 0
        if json["BillingModeSummary"]?["BillingMode"]?.stringValue == "PAY_PER_REQUEST" || (read == 0 && write == 0) {
            billing = .payPerRequest
        } else {
            billing = .provisioned(read: read, write: write)
        }
        var stream: StreamViewType?
        if json["StreamSpecification"]?["StreamEnabled"]?.boolValue == true {
            stream = json["StreamSpecification"]?["StreamViewType"]?.stringValue.flatMap(StreamViewType.init)
        }
        var sse: SSESpecification?
        if let status = json["SSEDescription"]?["Status"]?.stringValue, status == "ENABLED" || status == "ENABLING" {
            sse = SSESpecification(enabled: true, kmsKeyId: json["SSEDescription"]?["KMSMasterKeyArn"]?.stringValue)
        }
        return TableDescription(
            name: name,
            arn: json["TableArn"]?.stringValue,
            status: json["TableStatus"]?.stringValue ?? "UNKNOWN",
            keySchema: try keySchema(json["KeySchema"], what: "table \(name)"),
            billingMode: billing,
            itemCount: json["ItemCount"]?.intValue ?? 0,
            sizeBytes: json["TableSizeBytes"]?.intValue ?? 0,
            creationDate: json["CreationDateTime"]?.doubleValue.map { Date(timeIntervalSince1970: $0) },
            globalSecondaryIndexes: try indexes(json["GlobalSecondaryIndexes"]),
            localSecondaryIndexes: try indexes(json["LocalSecondaryIndexes"]),
            stream: stream,
            sse: sse,
            deletionProtection: json["DeletionProtectionEnabled"]?.boolValue ?? false,
            tableClass: json["TableClassSummary"]?["TableClass"]?.stringValue,
            raw: json)
    }
}

/// An answer that does not have the shape DynamoDB documents.
public struct DecodeError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
