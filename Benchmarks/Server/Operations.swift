// DynamoDB's JSON-protocol operations over the in-memory tables.
import DynamoCore
import Foundation

/// An error answer: DynamoDB's short error type and message.
struct APIError: Error {
    var type: String
    var message: String

    static func validation(_ message: String) -> APIError { APIError(type: "ValidationException", message: message) }
    static func tableNotFound(_ name: String) -> APIError {
        APIError(type: "ResourceNotFoundException", message: "Requested resource not found: Table: \(name) not found")
    }
    var response: Response { .error(type, message) }
}

/// Every table, and the server's options.
final class Store: @unchecked Sendable {
    let lock = NSLock()
    var tables: [String: Table] = [:]
    /// The fraction of BatchWriteItem requests answered as `UnprocessedItems` (not written).
    let unprocessedRate: Double
    /// Shards, splits and iterator lifetime of the tables' streams (Streams.swift).
    var streamSettings = StreamSettings()

    init(unprocessedRate: Double) { self.unprocessedRate = unprocessedRate }

    func table(_ name: String) throws(APIError) -> Table {
        lock.lock(); defer { lock.unlock() }
        guard let table = tables[name] else { throw .tableNotFound(name) }
        return table
    }

    func table(arn: String) throws(APIError) -> Table {
        lock.lock(); defer { lock.unlock() }
        guard let table = tables.values.first(where: { $0.arn == arn }) else {
            throw APIError(type: "ResourceNotFoundException", message: "Requested resource not found: ResourceArn: \(arn) not found")
        }
        return table
    }

    // MARK: Dispatch

    func handle(_ request: Request) -> Response {
        guard request.method == "POST" else {
            return .ok(Array("{\"healthy\":true}".utf8))
        }
        if let target = request.target, target.hasPrefix(Self.streamsPrefix) {
            return handleStreams(target.dropFirst(Self.streamsPrefix.count), request.body)
        }
        let prefix = "DynamoDB_20120810."
        guard let target = request.target, target.hasPrefix(prefix) else {
            return .error("UnknownOperationException", "")
        }
        let operation = target.dropFirst(prefix.count)
        do {
            switch operation {
            case "BatchWriteItem": return .ok(try batchWriteItem(request.body))
            case "Scan": return .ok(try scan(request.body))
            case "PutItem": return .ok(try putItem(request.body))
            case "GetItem": return .ok(try getItem(request.body))
            case "DeleteItem": return .ok(try deleteItem(request.body))
            case "CreateTable": return .ok(try createTable(JSON.parse(request.body)))
            case "DescribeTable": return .ok(try describeTable(JSON.parse(request.body)))
            case "DeleteTable": return .ok(try deleteTable(JSON.parse(request.body)))
            case "UpdateTable": return .ok(try updateTable(JSON.parse(request.body)))
            case "ListTables": return .ok(try listTables(JSON.parse(request.body)))
            case "DescribeContinuousBackups", "UpdateContinuousBackups":
                return .ok(try continuousBackups(JSON.parse(request.body), update: operation == "UpdateContinuousBackups"))
            case "DescribeTimeToLive": return .ok(try describeTimeToLive(JSON.parse(request.body)))
            case "UpdateTimeToLive": return .ok(try updateTimeToLive(JSON.parse(request.body)))
            case "ListTagsOfResource": return .ok(try listTags(JSON.parse(request.body)))
            case "TagResource": return .ok(try tagResource(JSON.parse(request.body)))
            default: return .error("UnknownOperationException", "")
            }
        } catch let error as APIError {
            return error.response
        } catch let error as JSONParseError {
            return .error("SerializationException", "\(error)")
        } catch {
            return .error("InternalServerError", "\(error)", status: 500)
        }
    }

    // MARK: Items

    /// Reads one item, returning it with its bytes as they appear in the body.
    static func readItem(_ reader: inout JSONReader, _ body: [UInt8]) throws -> (Item, [UInt8]) {
        var start = reader.offset
        let item = try reader.readItem()
        while start < reader.offset, [0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: ":")].contains(body[start]) { start += 1 }
        return (item, Array(body[start..<reader.offset]))
    }

    /// Checks a whole item for PutItem or a PutRequest and makes it a stored item.
    static func stored(_ item: Item, bytes: [UInt8], in table: Table) throws -> StoredItem {
        do { try validateDynamoDBItem(item) } catch {
            throw APIError.validation("One or more parameter values were invalid: \(error)")
        }
        let size = dynamoDBItemSize(item)
        if size > dynamoDBMaximumItemSize { throw APIError.validation("Item size has exceeded the maximum allowed size") }
        let position: KeyPosition
        do { position = try table.position(of: item, exact: false) } catch { throw APIError.validation(error.message) }
        return StoredItem(hash: position.hash, key: position.key, bytes: bytes, size: size)
    }

    static func keyPosition(_ key: Item, in table: Table) throws(APIError) -> KeyPosition {
        do { return try table.position(of: key, exact: true) } catch { throw .validation(error.message) }
    }

    static func unsupported(_ name: String, _ operation: String) -> APIError {
        .validation("the bench server does not support \(name) in \(operation)")
    }

    static func consumed(_ table: String, _ units: Double) -> [UInt8] {
        JSON.object(["TableName": .string(table), "CapacityUnits": .number(String(units))]).encoded()
    }

    func batchWriteItem(_ body: [UInt8]) throws -> [UInt8] {
        enum Write { case put(StoredItem, [UInt8]), delete(KeyPosition, [UInt8]) }
        if body.count > 16 * 1024 * 1024 {
            throw APIError.validation("Request size has exceeded the maximum allowed size of 16 MB")
        }
        var writes: [(table: Table, write: Write)] = []
        var returnConsumed = false
        var tablesSeen = false
        var reader = JSONReader(body)
        try reader.readObject { r, name in
            switch name {
            case "RequestItems":
                tablesSeen = true
                try r.readObject { r, tableName in
                    let table = try self.table(tableName)
                    var count = 0
                    try r.readArray { r in
                        count += 1
                        try r.readObject { r, kind in
                            guard kind == "PutRequest" || kind == "DeleteRequest" else {
                                throw APIError.validation(
                                    "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
                            }
                            try r.readObject { r, field in
                                switch (kind, field) {
                                case ("PutRequest", "Item"):
                                    let (item, bytes) = try Self.readItem(&r, body)
                                    writes.append((table, .put(try Self.stored(item, bytes: bytes, in: table), bytes)))
                                case ("DeleteRequest", "Key"):
                                    let (key, bytes) = try Self.readItem(&r, body)
                                    writes.append((table, .delete(try Self.keyPosition(key, in: table), bytes)))
                                default:
                                    throw APIError.validation("unexpected \(field) in \(kind)")
                                }
                            }
                        }
                    }
                    if count == 0 {
                        throw APIError.validation(
                            "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]"
                        )
                    }
                }
            case "ReturnConsumedCapacity":
                returnConsumed = try r.readString() != "NONE"
            case "ReturnItemCollectionMetrics":
                try r.skipValue()
            default:
                throw APIError.validation("the bench server does not know the parameter \(name) of BatchWriteItem")
            }
        }
        try reader.finish()
        guard tablesSeen, !writes.isEmpty else {
            throw APIError.validation("1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must not be null")
        }
        if writes.count > 25 {
            throw APIError.validation(
                "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]"
            )
        }
        // DynamoDB refuses a batch that names one key twice, before writing anything.
        var seen = Set<[UInt8]>()
        for (table, write) in writes {
            let key: [UInt8]
            switch write {
            case .put(let item, _): key = item.key
            case .delete(let position, _): key = position.key
            }
            if !seen.insert(Array(table.name.utf8) + [0] + key).inserted {
                throw APIError.validation("Provided list of item keys contains duplicates")
            }
        }
        var unprocessed: [(table: String, write: Write)] = []
        var units: [String: Double] = [:]
        var generator = SystemRandomNumberGenerator()
        for (table, write) in writes {
            if unprocessedRate > 0 && Double.random(in: 0..<1, using: &generator) < unprocessedRate {
                unprocessed.append((table.name, write))
                continue
            }
            table.lock.lock()
            switch write {
            case .put(let item, _):
                table.put(item)
                units[table.name, default: 0] += Double((item.size + 1023) / 1024)
            case .delete(let position, _):
                table.delete(position)
                units[table.name, default: 0] += 1
            }
            table.lock.unlock()
        }
        var out: [UInt8] = Array("{\"UnprocessedItems\":{".utf8)
        var grouped: [String: [Write]] = [:]
        var order: [String] = []
        for (name, write) in unprocessed {
            if grouped[name] == nil { order.append(name) }
            grouped[name, default: []].append(write)
        }
        for (t, name) in order.enumerated() {
            if t > 0 { out.append(UInt8(ascii: ",")) }
            out += JSON.string(name).encoded()
            out += Array(":[".utf8)
            for (w, write) in grouped[name]!.enumerated() {
                if w > 0 { out.append(UInt8(ascii: ",")) }
                switch write {
                case .put(_, let bytes): out += Array("{\"PutRequest\":{\"Item\":".utf8) + bytes + Array("}}".utf8)
                case .delete(_, let bytes): out += Array("{\"DeleteRequest\":{\"Key\":".utf8) + bytes + Array("}}".utf8)
                }
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "}"))
        if returnConsumed {
            out += Array(",\"ConsumedCapacity\":[".utf8)
            for (i, (name, u)) in units.sorted(by: { $0.key < $1.key }).enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out += Self.consumed(name, u)
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    func putItem(_ body: [UInt8]) throws -> [UInt8] {
        var tableName: String?
        var parsed: (Item, [UInt8])?
        var condition: String?
        var names: [String: String] = [:]
        var returnOld = false
        var reader = JSONReader(body)
        try reader.readObject { r, name in
            switch name {
            case "TableName": tableName = try r.readString()
            case "Item": parsed = try Self.readItem(&r, body)
            case "ConditionExpression": condition = try r.readString()
            case "ExpressionAttributeNames":
                try r.readObject { r, alias in names[alias] = try r.readString() }
            case "ReturnValues": returnOld = try r.readString() == "ALL_OLD"
            case "ReturnConsumedCapacity", "ReturnItemCollectionMetrics", "ExpressionAttributeValues": try r.skipValue()
            default: throw Self.unsupported(name, "PutItem")
            }
        }
        try reader.finish()
        guard let tableName else {
            throw APIError.validation("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
        }
        guard let (item, bytes) = parsed else {
            throw APIError.validation("1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null")
        }
        let table = try self.table(tableName)
        let stored = try Self.stored(item, bytes: bytes, in: table)
        // Only the condition the migrator's keep-existing/fail modes send: attribute_not_exists(key).
        var mustNotExist = false
        if let condition {
            let text = condition.filter { !$0.isWhitespace }
            guard text.hasPrefix("attribute_not_exists("), text.hasSuffix(")") else {
                throw Self.unsupported("the ConditionExpression \(condition)", "PutItem")
            }
            let operand = String(text.dropFirst("attribute_not_exists(".count).dropLast())
            let attribute = names[operand] ?? operand
            guard table.keyAttributes.contains(where: { $0.name == attribute }) else {
                throw Self.unsupported("the ConditionExpression \(condition)", "PutItem")
            }
            mustNotExist = true
        }
        table.lock.lock()
        let old = table.get(KeyPosition(hash: stored.hash, key: stored.key))
        if mustNotExist && old != nil {
            table.lock.unlock()
            throw APIError(type: "ConditionalCheckFailedException", message: "The conditional request failed")
        }
        table.put(stored)
        table.lock.unlock()
        if returnOld, let old { return Array("{\"Attributes\":".utf8) + old.bytes + [UInt8(ascii: "}")] }
        return Array("{}".utf8)
    }

    /// Reads `TableName` and `Key` (GetItem, DeleteItem).
    func tableAndKey(_ body: [UInt8], _ operation: String) throws -> (Table, KeyPosition) {
        var tableName: String?
        var key: Item?
        var reader = JSONReader(body)
        try reader.readObject { r, name in
            switch name {
            case "TableName": tableName = try r.readString()
            case "Key": key = try r.readItem()
            case "ConsistentRead", "ReturnConsumedCapacity", "ReturnValues", "ReturnItemCollectionMetrics": try r.skipValue()
            default: throw Self.unsupported(name, operation)
            }
        }
        try reader.finish()
        guard let tableName else {
            throw APIError.validation("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
        }
        guard let key else {
            throw APIError.validation("1 validation error detected: Value null at 'key' failed to satisfy constraint: Member must not be null")
        }
        let table = try self.table(tableName)
        return (table, try Self.keyPosition(key, in: table))
    }

    func getItem(_ body: [UInt8]) throws -> [UInt8] {
        let (table, position) = try tableAndKey(body, "GetItem")
        table.lock.lock()
        let found = table.get(position)
        table.lock.unlock()
        guard let found else { return Array("{}".utf8) }
        return Array("{\"Item\":".utf8) + found.bytes + [UInt8(ascii: "}")]
    }

    func deleteItem(_ body: [UInt8]) throws -> [UInt8] {
        let (table, position) = try tableAndKey(body, "DeleteItem")
        table.lock.lock()
        table.delete(position)
        table.lock.unlock()
        return Array("{}".utf8)
    }

    /// DynamoDB's page limit: a Scan reads at most 1 MB of items.
    static let scanPageBytes = 1024 * 1024

    func scan(_ body: [UInt8]) throws -> [UInt8] {
        var tableName: String?
        var segment: Int?
        var totalSegments: Int?
        var limit: Int?
        var start: Item?
        var countOnly = false
        var returnConsumed = false
        var reader = JSONReader(body)
        try reader.readObject { r, name in
            switch name {
            case "TableName": tableName = try r.readString()
            case "Segment": segment = try r.readInt()
            case "TotalSegments": totalSegments = try r.readInt()
            case "Limit": limit = try r.readInt()
            case "ExclusiveStartKey": start = try r.readItem()
            case "ConsistentRead": _ = try r.readBool()
            case "ReturnConsumedCapacity": returnConsumed = try r.readString() != "NONE"
            case "Select":
                switch try r.readString() {
                case "ALL_ATTRIBUTES": break
                case "COUNT": countOnly = true
                default: throw Self.unsupported("this Select", "Scan")
                }
            default: throw Self.unsupported(name, "Scan")
            }
        }
        try reader.finish()
        guard let tableName else {
            throw APIError.validation("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
        }
        if let limit, limit < 1 {
            throw APIError.validation(
                "1 validation error detected: Value '\(limit)' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1")
        }
        var range: (low: UInt64, high: UInt64) = (0, .max)
        switch (segment, totalSegments) {
        case (nil, nil): break
        case (nil, _?):
            throw APIError.validation("The Segment parameter is required but was not present in the request when parameter TotalSegments is present")
        case (_?, nil):
            throw APIError.validation("The TotalSegments parameter is required but was not present in the request when Segment parameter is present")
        case (let s?, let t?):
            guard t >= 1 && t <= 1_000_000 else {
                throw APIError.validation(
                    "1 validation error detected: Value '\(t)' at 'totalSegments' failed to satisfy constraint: Member must have value less than or equal to 1000000"
                )
            }
            guard s >= 0 && s < t else {
                throw APIError.validation(
                    "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: \(s) is not less than TotalSegments: \(t)")
            }
            range = Table.segmentRange(s, of: t)
        }
        let table = try self.table(tableName)
        var after: KeyPosition?
        if let start {
            let position: KeyPosition
            do { position = try table.position(of: start, exact: true) } catch {
                throw APIError.validation("The provided starting key is invalid: \(error.message)")
            }
            guard position.hash >= range.low && position.hash <= range.high else {
                throw APIError.validation("The provided Exclusive start key does not map to the provided segment")
            }
            after = position
        }
        var out: [UInt8] = []
        out.reserveCapacity(countOnly ? 256 : Self.scanPageBytes + Self.scanPageBytes / 4)
        out += Array("{\"Items\":[".utf8)
        var scratch: [UInt8] = []
        table.lock.lock()
        let (count, lastKey) =
            countOnly
            ? table.scanPage(range: range, after: after, limit: limit ?? .max, sizeLimit: Self.scanPageBytes, into: &scratch)
            : table.scanPage(range: range, after: after, limit: limit ?? .max, sizeLimit: Self.scanPageBytes, into: &out)
        table.lock.unlock()
        if countOnly { out = Array("{".utf8) } else { out += Array("],".utf8) }
        out += Array("\"Count\":\(count),\"ScannedCount\":\(count)".utf8)
        if let lastKey { out += Array(",\"LastEvaluatedKey\":".utf8) + lastKey }
        if returnConsumed {
            // Eventually consistent reads: half a unit per 4 KB.
            out += Array(",\"ConsumedCapacity\":".utf8) + Self.consumed(tableName, Double(max(1, count)) * 0.5)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}
