import DynamoCore
import Foundation

extension DynamoDBClient {
    /// ListTables, all pages (`pageSize` names per call, at most 100).
    public func listTables(pageSize: Int = 100) async throws(DynamoDBError) -> [String] {
        var names: [String] = []
        var seen = Set<String>()
        var start: String?
        var starts = Set<String>()
        var restarts = 0
        while true {
            let body = requestBody { w in
                w.field("Limit", min(max(pageSize, 1), 100))
                if let start { w.field("ExclusiveStartTableName", start) }
            }
            let json = try await performJSON("ListTables", table: nil, body: body)
            guard let page = json["TableNames"]?.arrayValue else {
                throw .malformedResponse(
                    reason: "the answer has no TableNames: is \(configuration.endpoint) a DynamoDB endpoint?",
                    context: CallContext(operation: "ListTables", table: nil, attempts: 1))
            }
            for name in page.compactMap(\.stringValue) where seen.insert(name).inserted { names.append(name) }
            let next = json["LastEvaluatedTableName"]?.stringValue
            // Some servers (moto) page by position and end the listing when the table named in
            // ExclusiveStartTableName was deleted meanwhile. An empty page after a start name is the sign:
            // list again from the top (merging), a few times at most. Harmless on DynamoDB.
            if page.isEmpty, start != nil, next == nil, restarts < 3 {
                restarts += 1
                start = nil
                starts.removeAll()  // the same pages come again, on purpose
                continue
            }
            guard let next else { return names }
            // A start name sent before would page round in a circle for ever.
            guard starts.insert(next).inserted else {
                throw .malformedResponse(
                    reason: "LastEvaluatedTableName \(next) came back a second time; the listing would never end",
                    context: CallContext(operation: "ListTables", table: nil, attempts: 1))
            }
            start = next
        }
    }

    /// DescribeTable.
    public func describeTable(_ name: String) async throws(DynamoDBError) -> TableDescription {
        let json = try await performJSON("DescribeTable", table: name, body: requestBody { $0.field("TableName", name) })
        return try decoded("DescribeTable", table: name) { try TableDescription.decode(json["Table"] ?? .null) }
    }

    /// DescribeTable, or nil when the table does not exist.
    public func describeTableIfExists(_ name: String) async throws(DynamoDBError) -> TableDescription? {
        do {
            return try await describeTable(name)
        } catch  where error.isResourceNotFound {
            return nil
        }
    }

    /// CreateTable. Returns the description from the answer (usually status CREATING).
    @discardableResult
    public func createTable(_ input: CreateTableInput) async throws(DynamoDBError) -> TableDescription {
        let body = requestBody { w in Self.writeCreateTable(input, into: &w) }
        let json = try await performJSON("CreateTable", table: input.name, body: body)
        return try decoded("CreateTable", table: input.name) { try TableDescription.decode(json["TableDescription"] ?? .null) }
    }

    static func writeCreateTable(_ input: CreateTableInput, into w: inout JSONWriter) {
        w.field("TableName", input.name)
        writeKeyAndIndexes(of: input, into: &w, localIndexes: true)
        if let stream = input.stream {
            w.object("StreamSpecification") { w in
                w.field("StreamEnabled", true); w.field("StreamViewType", stream.rawValue)
            }
        }
        if !input.tags.isEmpty {
            w.array("Tags", input.tags.sorted(by: { $0.key < $1.key })) { w, tag in
                w.beginObject(); w.field("Key", tag.key); w.field("Value", tag.value); w.endObject()
            }
        }
        if input.deletionProtection { w.field("DeletionProtectionEnabled", true) }
        if let tableClass = input.tableClass { w.field("TableClass", tableClass) }
    }

    static func writeKeySchema(_ key: KeySchema, name: String, into w: inout JSONWriter) {
        w.key(name)
        w.beginArray()
        w.beginObject(); w.field("AttributeName", key.partitionKey.name); w.field("KeyType", "HASH"); w.endObject()
        if let sort = key.sortKey {
            w.beginObject(); w.field("AttributeName", sort.name); w.field("KeyType", "RANGE"); w.endObject()
        }
        w.endArray()
    }

    /// UpdateTable: billing mode, deletion protection, stream.
    @discardableResult
    public func updateTable(_ input: UpdateTableInput) async throws(DynamoDBError) -> TableDescription {
        let body = requestBody { w in
            w.field("TableName", input.name)
            if let billing = input.billingMode {
                w.field("BillingMode", billing.name)
                if case .provisioned(let read, let write) = billing {
                    w.object("ProvisionedThroughput") { w in
                        w.field("ReadCapacityUnits", read); w.field("WriteCapacityUnits", write)
                    }
                }
            }
            if let protection = input.deletionProtection { w.field("DeletionProtectionEnabled", protection) }
            if let stream = input.stream {
                w.object("StreamSpecification") { w in
                    if let stream {
                        w.field("StreamEnabled", true); w.field("StreamViewType", stream.rawValue)
                    } else {
                        w.field("StreamEnabled", false)
                    }
                }
            }
        }
        let json = try await performJSON("UpdateTable", table: input.name, body: body)
        return try decoded("UpdateTable", table: input.name) { try TableDescription.decode(json["TableDescription"] ?? .null) }
    }

    /// DeleteTable.
    public func deleteTable(_ name: String) async throws(DynamoDBError) {
        _ = try await perform("DeleteTable", table: name, body: requestBody { $0.field("TableName", name) })
    }

    /// The ``Waiter`` on this client's clock.
    public func waiter(timeout: Duration, pollInterval: Duration = .milliseconds(500)) -> Waiter {
        Waiter(clock: clock, timeout: timeout, pollInterval: pollInterval)
    }

    /// Polls DescribeTable until the table (and its indexes) are ACTIVE.
    @discardableResult
    public func waitUntilActive(
        _ name: String, timeout: Duration = .seconds(1800),
        pollInterval: Duration = .milliseconds(500)
    ) async throws(DynamoDBError) -> TableDescription {
        try await waiter(timeout: timeout, pollInterval: pollInterval).wait(for: "ACTIVE", of: name) { () async throws(DynamoDBError) -> TableDescription? in
            guard let table = try await describeTableIfExists(name), table.status == "ACTIVE" else { return nil }
            let indexesActive = (table.raw["GlobalSecondaryIndexes"]?.arrayValue ?? []).allSatisfy {
                ($0["IndexStatus"]?.stringValue ?? "ACTIVE") == "ACTIVE"
            }
            return indexesActive ? table : nil
        }
    }

    /// Polls DescribeTable until the table is gone.
    public func waitUntilDeleted(
        _ name: String, timeout: Duration = .seconds(1800),
        pollInterval: Duration = .milliseconds(500)
    ) async throws(DynamoDBError) {
        _ = try await waiter(timeout: timeout, pollInterval: pollInterval).wait(for: "deleted", of: name) { () async throws(DynamoDBError) -> Bool? in
            try await describeTableIfExists(name) == nil ? true : nil
        }
    }

    /// DescribeTimeToLive: the TTL attribute when TTL is enabled (or being enabled).
    public func describeTimeToLive(_ table: String) async throws(DynamoDBError) -> TimeToLive {
        let json = try await performJSON("DescribeTimeToLive", table: table, body: requestBody { $0.field("TableName", table) })
        let description = json["TimeToLiveDescription"]
        return TimeToLive(
            status: description?["TimeToLiveStatus"]?.stringValue ?? "DISABLED",
            attributeName: description?["AttributeName"]?.stringValue)
    }

    /// UpdateTimeToLive.
    public func updateTimeToLive(_ table: String, attributeName: String, enabled: Bool) async throws(DynamoDBError) {
        let body = requestBody { w in
            w.field("TableName", table)
            w.object("TimeToLiveSpecification") { w in
                w.field("Enabled", enabled); w.field("AttributeName", attributeName)
            }
        }
        _ = try await perform("UpdateTimeToLive", table: table, body: body)
    }

    /// TagResource.
    public func tagResource(arn: String, tags: [String: String]) async throws(DynamoDBError) {
        let body = requestBody { w in
            w.field("ResourceArn", arn)
            w.array("Tags", tags.sorted(by: { $0.key < $1.key })) { w, tag in
                w.beginObject(); w.field("Key", tag.key); w.field("Value", tag.value); w.endObject()
            }
        }
        _ = try await perform("TagResource", table: nil, body: body)
    }

    /// ListTagsOfResource, all pages.
    public func listTags(arn: String) async throws(DynamoDBError) -> [String: String] {
        var tags: [String: String] = [:]
        var token: String?
        repeat {
            let body = requestBody { w in
                w.field("ResourceArn", arn)
                if let token { w.field("NextToken", token) }
            }
            let json = try await performJSON("ListTagsOfResource", table: nil, body: body)
            for tag in json["Tags"]?.arrayValue ?? [] {
                if let k = tag["Key"]?.stringValue, let v = tag["Value"]?.stringValue { tags[k] = v }
            }
            token = json["NextToken"]?.stringValue
        } while token != nil
        return tags
    }
}

/// A table's time-to-live setting.
public struct TimeToLive: Sendable, Equatable {
    /// ENABLED, ENABLING, DISABLED or DISABLING.
    public var status: String
    public var attributeName: String?
    public var isEnabled: Bool { status == "ENABLED" || status == "ENABLING" }
}

extension DynamoDBClient {
    /// The part of a table's definition CreateTable and ImportTable's TableCreationParameters share:
    /// attribute definitions, key schema, billing mode, indexes (ImportTable takes no local indexes) and
    /// server-side encryption.
    static func writeKeyAndIndexes(of input: CreateTableInput, into w: inout JSONWriter, localIndexes: Bool) {
        var definitions: [KeyAttribute] = []
        func define(_ key: KeySchema) {
            for attribute in [key.partitionKey] + (key.sortKey.map { [$0] } ?? [])
            where !definitions.contains(where: { utf8Equal($0.name, attribute.name) }) {
                definitions.append(attribute)
            }
        }
        define(input.keySchema)
        input.globalSecondaryIndexes.forEach { define($0.keySchema) }
        if localIndexes { input.localSecondaryIndexes.forEach { define($0.keySchema) } }
        w.array("AttributeDefinitions", definitions) { w, d in
            w.beginObject(); w.field("AttributeName", d.name); w.field("AttributeType", d.type.rawValue); w.endObject()
        }
        writeKeySchema(input.keySchema, name: "KeySchema", into: &w)
        w.field("BillingMode", input.billingMode.name)
        if case .provisioned(let read, let write) = input.billingMode {
            w.object("ProvisionedThroughput") { w in
                w.field("ReadCapacityUnits", read); w.field("WriteCapacityUnits", write)
            }
        }
        func writeIndex(_ index: SecondaryIndex, global: Bool, into w: inout JSONWriter) {
            w.beginObject()
            w.field("IndexName", index.name)
            writeKeySchema(index.keySchema, name: "KeySchema", into: &w)
            w.object("Projection") { w in
                switch index.projection {
                case .all: w.field("ProjectionType", "ALL")
                case .keysOnly: w.field("ProjectionType", "KEYS_ONLY")
                case .include(let names):
                    w.field("ProjectionType", "INCLUDE")
                    w.array("NonKeyAttributes", names) { w, n in w.string(n) }
                }
            }
            if global, case .provisioned(let read, let write) = input.billingMode {
                let capacity = index.provisioned ?? (read, write)
                w.object("ProvisionedThroughput") { w in
                    w.field("ReadCapacityUnits", capacity.read); w.field("WriteCapacityUnits", capacity.write)
                }
            }
            w.endObject()
        }
        // Empty index lists are rejected by DynamoDB: only send them when there are indexes.
        if !input.globalSecondaryIndexes.isEmpty {
            w.array("GlobalSecondaryIndexes", input.globalSecondaryIndexes) { w, i in writeIndex(i, global: true, into: &w) }
        }
        if localIndexes, !input.localSecondaryIndexes.isEmpty {
            w.array("LocalSecondaryIndexes", input.localSecondaryIndexes) { w, i in writeIndex(i, global: false, into: &w) }
        }
        if let sse = input.sse {
            w.object("SSESpecification") { w in
                w.field("Enabled", sse.enabled)
                if sse.enabled {
                    w.field("SSEType", "KMS")
                    if let key = sse.kmsKeyId { w.field("KMSMasterKeyId", key) }
                }
            }
        }
    }
}
