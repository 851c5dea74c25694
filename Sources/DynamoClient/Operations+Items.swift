import DynamoCore

/// One write of a BatchWriteItem request.
public enum WriteRequest: Sendable, Hashable {
    case put(Item)
    /// A put of an item given as its DynamoDB JSON (a ``RawItem``'s bytes), sent as it is.
    case putRaw(ArraySlice<UInt8>)
    case delete(key: Item)
}

/// Input of a Scan (one segment of a parallel scan when `segment` is set).
public struct ScanInput: Sendable {
    public var table: String
    public var segment: Int?
    public var totalSegments: Int?
    public var limit: Int?
    public var exclusiveStartKey: Item?
    public var consistentRead: Bool
    public var returnConsumedCapacity: Bool
    public var indexName: String?
    public init(
        table: String, segment: Int? = nil, totalSegments: Int? = nil, limit: Int? = nil,
        exclusiveStartKey: Item? = nil, consistentRead: Bool = false, returnConsumedCapacity: Bool = false,
        indexName: String? = nil
    ) {
        self.table = table; self.segment = segment; self.totalSegments = totalSegments; self.limit = limit
        self.exclusiveStartKey = exclusiveStartKey; self.consistentRead = consistentRead
        self.returnConsumedCapacity = returnConsumedCapacity; self.indexName = indexName
    }
}

/// One page of a Scan or Query.
public struct ItemPage: Sendable {
    public var items: [Item]
    public var count: Int
    public var scannedCount: Int
    /// Where the next page starts; nil on the last page.
    public var lastEvaluatedKey: Item?
    /// Capacity units the page consumed, when asked for.
    public var consumedCapacity: Double?
    /// Size of the answer's body in bytes.
    public var responseBytes: Int
    /// The items as the bytes DynamoDB sent, when the scan asked for them (`items` is empty then).
    public var rawItems: [RawItem] = []
}

/// Input of a Query.
public struct QueryInput: Sendable {
    public var table: String
    public var keyConditionExpression: String
    public var expressionAttributeNames: [String: String]
    public var expressionAttributeValues: Item
    public var indexName: String?
    public var limit: Int?
    public var exclusiveStartKey: Item?
    public var scanIndexForward: Bool
    public var consistentRead: Bool
    public init(
        table: String, keyConditionExpression: String, expressionAttributeNames: [String: String] = [:],
        expressionAttributeValues: Item = [:], indexName: String? = nil, limit: Int? = nil,
        exclusiveStartKey: Item? = nil, scanIndexForward: Bool = true, consistentRead: Bool = false
    ) {
        self.table = table; self.keyConditionExpression = keyConditionExpression
        self.expressionAttributeNames = expressionAttributeNames; self.expressionAttributeValues = expressionAttributeValues
        self.indexName = indexName; self.limit = limit; self.exclusiveStartKey = exclusiveStartKey
        self.scanIndexForward = scanIndexForward; self.consistentRead = consistentRead
    }
}

/// The answer of BatchWriteItem: what DynamoDB did not write and must be sent again.
public struct BatchWriteOutput: Sendable {
    public var unprocessedItems: [String: [WriteRequest]]
    /// Capacity units consumed, per table, when asked for.
    public var consumedCapacity: [String: Double]
    public var unprocessedCount: Int { unprocessedItems.values.reduce(0) { $0 + $1.count } }
}

/// The answer of BatchGetItem.
public struct BatchGetOutput: Sendable {
    public var responses: [String: [Item]]
    public var unprocessedKeys: [String: [Item]]
}

/// DynamoDB's own limits, enforced before sending because not every server enforces them.
public enum DynamoDBLimits {
    public static let maxItemBytes = 400 * 1024
    public static let maxBatchWriteRequests = 25
    public static let maxBatchWriteBytes = 16 * 1024 * 1024
    public static let maxBatchGetKeys = 100
}

extension DynamoDBClient {
    /// Scan: one page. With `rawKeyAttributes`, the page's items come as ``ItemPage/rawItems`` (their
    /// bytes, size and those attributes) instead of being built.
    /// - Parameter retriesThrottling: false when the caller paces its reads itself (see ``perform(_:table:body:idempotent:retriesThrottling:)``).
    public func scan(
        _ input: ScanInput, rawKeyAttributes: [AttributeName]? = nil, retriesThrottling: Bool = true
    ) async throws(DynamoDBError) -> ItemPage {
        let body = requestBody { w in
            w.field("TableName", input.table)
            if let index = input.indexName { w.field("IndexName", index) }
            if let segment = input.segment, let total = input.totalSegments {
                w.field("Segment", segment); w.field("TotalSegments", total)
            }
            if let limit = input.limit { w.field("Limit", limit) }
            if let start = input.exclusiveStartKey { w.field("ExclusiveStartKey", item: start) }
            if input.consistentRead { w.field("ConsistentRead", true) }
            if input.returnConsumedCapacity { w.field("ReturnConsumedCapacity", "TOTAL") }
        }
        let bytes = try await perform("Scan", table: input.table, body: body, retriesThrottling: retriesThrottling)
        return try decoded("Scan", table: input.table) { try Self.decodePage(bytes, rawKeyAttributes: rawKeyAttributes) }
    }

    /// Query: one page.
    public func query(_ input: QueryInput) async throws(DynamoDBError) -> ItemPage {
        let body = requestBody { w in
            w.field("TableName", input.table)
            if let index = input.indexName { w.field("IndexName", index) }
            w.field("KeyConditionExpression", input.keyConditionExpression)
            if !input.expressionAttributeNames.isEmpty { w.stringMap("ExpressionAttributeNames", input.expressionAttributeNames) }
            if !input.expressionAttributeValues.isEmpty { w.valueMap("ExpressionAttributeValues", input.expressionAttributeValues) }
            if let limit = input.limit { w.field("Limit", limit) }
            if let start = input.exclusiveStartKey { w.field("ExclusiveStartKey", item: start) }
            if !input.scanIndexForward { w.field("ScanIndexForward", false) }
            if input.consistentRead { w.field("ConsistentRead", true) }
        }
        let bytes = try await perform("Query", table: input.table, body: body)
        return try decoded("Query", table: input.table) { try Self.decodePage(bytes) }
    }

    static func decodePage(_ bytes: [UInt8], rawKeyAttributes: [AttributeName]? = nil) throws -> ItemPage {
        var page = ItemPage(items: [], count: 0, scannedCount: 0, lastEvaluatedKey: nil, consumedCapacity: nil, responseBytes: bytes.count)
        var reader = JSONReader(bytes)
        var sawItems = false
        try reader.readObject { r, key in
            switch key {
            case "Items":
                sawItems = true
                if let rawKeyAttributes {
                    try r.readArray { r in page.rawItems.append(try r.readRawItem(keyAttributes: rawKeyAttributes)) }
                } else {
                    try r.readArray { r in page.items.append(try r.readItem()) }
                }
            case "Count": page.count = Int(try r.readNumberText()) ?? 0
            case "ScannedCount": page.scannedCount = Int(try r.readNumberText()) ?? 0
            case "LastEvaluatedKey": page.lastEvaluatedKey = try r.readItem()
            case "ConsumedCapacity": page.consumedCapacity = try r.readJSON()["CapacityUnits"]?.doubleValue
            default: try r.skipValue()
            }
        }
        try reader.finish()
        // DynamoDB always sends Items (empty on an empty page): an answer without it is not an empty
        // page but a broken endpoint, and taking it for one would end a scan early without a word.
        guard sawItems else { throw DecodeError("the answer has no Items") }
        return page
    }

    /// GetItem: the item, or nil when there is none with that key.
    public func getItem(table: String, key: Item, consistentRead: Bool = false) async throws(DynamoDBError) -> Item? {
        let body = requestBody { w in
            w.field("TableName", table)
            w.field("Key", item: key)
            if consistentRead { w.field("ConsistentRead", true) }
        }
        let bytes = try await perform("GetItem", table: table, body: body)
        return try decoded("GetItem", table: table) { () throws -> Item? in
            var result: Item?
            var reader = JSONReader(bytes)
            try reader.readObject { r, key in
                if key == "Item" { result = try r.readItem() } else { try r.skipValue() }
            }
            try reader.finish()
            return result
        }
    }

    /// PutItem, with an optional condition (e.g. `attribute_not_exists(pk)`).
    /// A failed condition throws ``DynamoDBError/service(_:)`` with `ConditionalCheckFailedException`.
    public func putItem(
        table: String, item: Item, conditionExpression: String? = nil,
        expressionAttributeNames: [String: String] = [:],
        expressionAttributeValues: Item = [:]
    ) async throws(DynamoDBError) {
        let size = dynamoDBItemSize(item)
        guard size <= DynamoDBLimits.maxItemBytes else {
            throw .invalidRequest(operation: "PutItem", reason: "item of \(size) bytes is over DynamoDB's 400 KB item limit (table \(table))")
        }
        let body = requestBody { w in
            w.field("TableName", table)
            w.field("Item", item: item)
            if let condition = conditionExpression { w.field("ConditionExpression", condition) }
            if !expressionAttributeNames.isEmpty { w.stringMap("ExpressionAttributeNames", expressionAttributeNames) }
            if !expressionAttributeValues.isEmpty { w.valueMap("ExpressionAttributeValues", expressionAttributeValues) }
        }
        _ = try await perform("PutItem", table: table, body: body)
    }

    /// DeleteItem.
    public func deleteItem(table: String, key: Item) async throws(DynamoDBError) {
        let body = requestBody { w in
            w.field("TableName", table); w.field("Key", item: key)
        }
        _ = try await perform("DeleteItem", table: table, body: body)
    }

    /// BatchWriteItem, once: returns what DynamoDB left unprocessed, for the caller to send again.
    /// Refuses (without sending) more than 25 requests, an item over 400 KB, or a body over 16 MB.
    /// - Parameter itemSizesChecked: the caller has already checked every item against the 400 KB
    ///   limit (the migrator does, before queueing), so the items need not be walked again.
    /// - Parameter retriesThrottling: false when the caller paces its writes itself (see ``perform(_:table:body:idempotent:retriesThrottling:)``).
    public func batchWriteItem(
        _ requests: [String: [WriteRequest]], returnConsumedCapacity: Bool = false,
        itemSizesChecked: Bool = false, retriesThrottling: Bool = true
    ) async throws(DynamoDBError) -> BatchWriteOutput {
        let count = requests.values.reduce(0) { $0 + $1.count }
        guard count > 0 else { return BatchWriteOutput(unprocessedItems: [:], consumedCapacity: [:]) }
        guard count <= DynamoDBLimits.maxBatchWriteRequests else {
            throw .invalidRequest(operation: "BatchWriteItem", reason: "\(count) write requests; DynamoDB takes at most 25 per call")
        }
        for (table, writes) in requests where !itemSizesChecked {
            for case .put(let item) in writes {
                let size = dynamoDBItemSize(item)
                if size > DynamoDBLimits.maxItemBytes {
                    throw .invalidRequest(
                        operation: "BatchWriteItem", reason: "an item of \(size) bytes for table \(table) is over DynamoDB's 400 KB item limit")
                }
            }
        }
        let body = requestBody { w in
            w.object("RequestItems") { w in
                for (table, writes) in requests { Self.writeRequests(table, writes, into: &w) }
            }
            if returnConsumedCapacity { w.field("ReturnConsumedCapacity", "TOTAL") }
        }
        guard body.count <= DynamoDBLimits.maxBatchWriteBytes else {
            throw .invalidRequest(operation: "BatchWriteItem", reason: "request body of \(body.count) bytes is over DynamoDB's 16 MB limit")
        }
        let table = requests.count == 1 ? requests.keys.first : nil
        let bytes = try await perform("BatchWriteItem", table: table, body: body, retriesThrottling: retriesThrottling)
        return try decoded("BatchWriteItem", table: table) { try Self.decodeBatchWrite(bytes) }
    }

    static func writeRequests(_ table: String, _ writes: [WriteRequest], into w: inout JSONWriter) {
        w.array(table, writes) { w, request in
            w.beginObject()
            switch request {
            case .put(let item): w.object("PutRequest") { w in w.field("Item", item: item) }
            case .putRaw(let bytes): w.object("PutRequest") { w in w.key("Item"); w.rawJSON(bytes) }
            case .delete(let key): w.object("DeleteRequest") { w in w.field("Key", item: key) }
            }
            w.endObject()
        }
    }

    static func decodeBatchWrite(_ bytes: [UInt8]) throws -> BatchWriteOutput {
        var output = BatchWriteOutput(unprocessedItems: [:], consumedCapacity: [:])
        var reader = JSONReader(bytes)
        try reader.readObject { r, key in
            switch key {
            case "UnprocessedItems":
                try r.readObject { r, table in
                    var writes: [WriteRequest] = []
                    try r.readArray { r in
                        try r.readObject { r, kind in
                            var found: Item?
                            try r.readObject { r, field in
                                if field == "Item" || field == "Key" { found = try r.readItem() } else { try r.skipValue() }
                            }
                            guard let found else { throw DecodeError("\(kind) without Item or Key in UnprocessedItems") }
                            switch kind {
                            case "PutRequest": writes.append(.put(found))
                            case "DeleteRequest": writes.append(.delete(key: found))
                            default: throw DecodeError("unknown request \(kind) in UnprocessedItems")
                            }
                        }
                    }
                    if !writes.isEmpty { output.unprocessedItems[table] = writes }
                }
            case "ConsumedCapacity":
                for entry in try r.readJSON().arrayValue ?? [] {
                    if let table = entry["TableName"]?.stringValue, let units = entry["CapacityUnits"]?.doubleValue {
                        output.consumedCapacity[table, default: 0] += units
                    }
                }
            default:
                try r.skipValue()
            }
        }
        try reader.finish()
        return output
    }

    /// BatchGetItem, once: returns the items found and the keys DynamoDB left unprocessed.
    public func batchGetItem(_ keys: [String: [Item]], consistentRead: Bool = false) async throws(DynamoDBError) -> BatchGetOutput {
        let count = keys.values.reduce(0) { $0 + $1.count }
        guard count <= DynamoDBLimits.maxBatchGetKeys else {
            throw .invalidRequest(operation: "BatchGetItem", reason: "\(count) keys; DynamoDB takes at most 100 per call")
        }
        let body = requestBody { w in
            w.object("RequestItems") { w in
                for (table, tableKeys) in keys {
                    w.object(table) { w in
                        w.array("Keys", tableKeys) { w, key in w.item(key) }
                        if consistentRead { w.field("ConsistentRead", true) }
                    }
                }
            }
        }
        let table = keys.count == 1 ? keys.keys.first : nil
        let bytes = try await perform("BatchGetItem", table: table, body: body)
        return try decoded("BatchGetItem", table: table) { () throws -> BatchGetOutput in
            var output = BatchGetOutput(responses: [:], unprocessedKeys: [:])
            var sawResponses = false
            var reader = JSONReader(bytes)
            try reader.readObject { r, key in
                switch key {
                case "Responses":
                    sawResponses = true
                    try r.readObject { r, table in
                        var items: [Item] = []
                        try r.readArray { r in items.append(try r.readItem()) }
                        output.responses[table] = items
                    }
                case "UnprocessedKeys":
                    try r.readObject { r, table in
                        var pending: [Item] = []
                        try r.readObject { r, field in
                            if field == "Keys" { try r.readArray { r in pending.append(try r.readItem()) } } else { try r.skipValue() }
                        }
                        if !pending.isEmpty { output.unprocessedKeys[table] = pending }
                    }
                default:
                    try r.skipValue()
                }
            }
            try reader.finish()
            // DynamoDB always sends Responses (with an empty list per table when nothing was found):
            // without it, "no items" and "a broken answer" would look the same.
            guard sawResponses else { throw DecodeError("the answer has no Responses") }
            return output
        }
    }
}
