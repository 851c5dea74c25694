// Table management and the control calls the migrator makes against a target: minimal, valid answers.
import DynamoCore
import Foundation

extension Store {
    static func requireTableName(_ json: JSON) throws(APIError) -> String {
        guard let name = json["TableName"]?.stringValue else {
            throw .validation("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
        }
        return name
    }

    static func number(_ value: Int) -> JSON { .number(String(value)) }

    /// DescribeTable's `Table` (CreateTable's and DeleteTable's `TableDescription`).
    func describe(_ table: Table, status: String = "ACTIVE") -> JSON {
        let request = table.request
        table.lock.lock()
        let count = table.itemCount, size = table.sizeBytes
        table.lock.unlock()
        var d: [String: JSON] = [
            "TableName": .string(table.name),
            "TableArn": .string(table.arn),
            "TableId": .string(String(format: "%016llx-bench", Table.hash(Array(table.name.utf8)))),
            "TableStatus": .string(status),
            "CreationDateTime": .number(String(table.creationTime)),
            "ItemCount": Self.number(count),
            "TableSizeBytes": Self.number(size),
            "KeySchema": request["KeySchema"] ?? .array([]),
            "AttributeDefinitions": request["AttributeDefinitions"] ?? .array([]),
            "DeletionProtectionEnabled": .bool(request["DeletionProtectionEnabled"]?.boolValue ?? false),
        ]
        let billing = request["BillingMode"]?.stringValue ?? "PROVISIONED"
        func throughput(_ value: JSON?) -> JSON {
            .object([
                "ReadCapacityUnits": Self.number(value?["ReadCapacityUnits"]?.intValue ?? 0),
                "WriteCapacityUnits": Self.number(value?["WriteCapacityUnits"]?.intValue ?? 0),
                "NumberOfDecreasesToday": Self.number(0),
            ])
        }
        d["ProvisionedThroughput"] = throughput(billing == "PROVISIONED" ? request["ProvisionedThroughput"] : nil)
        if billing == "PAY_PER_REQUEST" {
            d["BillingModeSummary"] = .object(["BillingMode": .string(billing), "LastUpdateToPayPerRequestDateTime": .number(String(table.creationTime))])
        }
        func indexes(_ value: JSON?, global: Bool) -> JSON? {
            guard let list = value?.arrayValue, !list.isEmpty else { return nil }
            return .array(
                list.map { index in
                    var members = index.objectValue ?? [:]
                    let name = members["IndexName"]?.stringValue ?? ""
                    members["IndexArn"] = .string("\(table.arn)/index/\(name)")
                    members["ItemCount"] = Self.number(0)
                    members["IndexSizeBytes"] = Self.number(0)
                    if global {
                        members["IndexStatus"] = .string("ACTIVE")
                        members["ProvisionedThroughput"] = throughput(billing == "PROVISIONED" ? index["ProvisionedThroughput"] : nil)
                    }
                    return .object(members)
                })
        }
        d["GlobalSecondaryIndexes"] = indexes(request["GlobalSecondaryIndexes"], global: true)
        d["LocalSecondaryIndexes"] = indexes(request["LocalSecondaryIndexes"], global: false)
        d.merge(streamFields(table)) { _, stream in stream }
        if let sse = request["SSESpecification"], sse["Enabled"]?.boolValue == true {
            var description: [String: JSON] = ["Status": .string("ENABLED"), "SSEType": .string("KMS")]
            description["KMSMasterKeyArn"] = .string(sse["KMSMasterKeyId"]?.stringValue ?? "arn:aws:kms:us-east-1:123456789012:key/bench")
            d["SSEDescription"] = .object(description)
        }
        if let tableClass = request["TableClass"]?.stringValue {
            d["TableClassSummary"] = .object(["TableClass": .string(tableClass)])
        }
        return .object(d)
    }

    func createTable(_ json: JSON) throws -> [UInt8] {
        let name = try Self.requireTableName(json)
        guard (3...255).contains(name.utf8.count),
            name.utf8.allSatisfy({ b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x2D || b == 0x2E
            })
        else {
            throw APIError.validation(
                "1 validation error detected: Value '\(name)' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
            )
        }
        var types: [String: String] = [:]
        for definition in json["AttributeDefinitions"]?.arrayValue ?? [] {
            guard let n = definition["AttributeName"]?.stringValue, let t = definition["AttributeType"]?.stringValue,
                ["S", "N", "B"].contains(t)
            else {
                throw APIError.validation("One or more parameter values were invalid: invalid AttributeDefinitions")
            }
            types[n] = t
        }
        var partition: KeyAttributeDefinition?
        var sort: KeyAttributeDefinition?
        for element in json["KeySchema"]?.arrayValue ?? [] {
            guard let n = element["AttributeName"]?.stringValue, let kind = element["KeyType"]?.stringValue else { continue }
            guard let t = types[n] else {
                throw APIError.validation(
                    "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [\(n)], AttributeDefinitions: [\(types.keys.sorted().joined(separator: ", "))]"
                )
            }
            if kind == "HASH" { partition = KeyAttributeDefinition(name: n, type: t) }
            if kind == "RANGE" { sort = KeyAttributeDefinition(name: n, type: t) }
        }
        guard let partition else {
            throw APIError.validation("1 validation error detected: Value null at 'keySchema' failed to satisfy constraint: Member must not be null")
        }
        let billing = json["BillingMode"]?.stringValue ?? "PROVISIONED"
        if billing == "PROVISIONED" && json["ProvisionedThroughput"] == nil {
            throw APIError.validation(
                "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
        }
        let table = Table(name: name, request: json, partitionKey: partition, sortKey: sort)
        if let specification = json["StreamSpecification"], let viewType = try Self.streamViewType(specification) {
            table.enableStream(viewType: viewType, settings: streamSettings)
        }
        for tag in json["Tags"]?.arrayValue ?? [] {
            if let k = tag["Key"]?.stringValue, let v = tag["Value"]?.stringValue { table.tags.append((k, v)) }
        }
        lock.lock()
        if tables[name] != nil {
            lock.unlock()
            throw APIError(type: "ResourceInUseException", message: "Table already exists: \(name)")
        }
        tables[name] = table
        lock.unlock()
        return JSON.object(["TableDescription": describe(table)]).encoded()
    }

    func describeTable(_ json: JSON) throws -> [UInt8] {
        let table = try table(try Self.requireTableName(json))
        return JSON.object(["Table": describe(table)]).encoded()
    }

    func deleteTable(_ json: JSON) throws -> [UInt8] {
        let name = try Self.requireTableName(json)
        let table = try self.table(name)
        if json["DeletionProtectionEnabled"] == nil, table.request["DeletionProtectionEnabled"]?.boolValue == true {
            throw APIError.validation("Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")
        }
        lock.lock()
        tables[name] = nil
        lock.unlock()
        return JSON.object(["TableDescription": describe(table, status: "DELETING")]).encoded()
    }

    func listTables(_ json: JSON) throws -> [UInt8] {
        let limit = json["Limit"]?.intValue ?? 100
        guard (1...100).contains(limit) else {
            throw APIError.validation(
                "1 validation error detected: Value '\(limit)' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100")
        }
        lock.lock()
        var names = tables.keys.sorted()
        lock.unlock()
        if let start = json["ExclusiveStartTableName"]?.stringValue { names = names.filter { $0 > start } }
        var answer: [String: JSON] = ["TableNames": .array(names.prefix(limit).map(JSON.string))]
        if names.count > limit { answer["LastEvaluatedTableName"] = .string(names[limit - 1]) }
        return JSON.object(answer).encoded()
    }

    func continuousBackups(_ json: JSON, update: Bool) throws -> [UInt8] {
        let table = try table(try Self.requireTableName(json))
        table.lock.lock()
        if update {
            guard let enabled = json["PointInTimeRecoverySpecification"]?["PointInTimeRecoveryEnabled"]?.boolValue else {
                table.lock.unlock()
                throw APIError.validation(
                    "1 validation error detected: Value null at 'pointInTimeRecoverySpecification' failed to satisfy constraint: Member must not be null")
            }
            table.pointInTimeRecovery = enabled
        }
        let enabled = table.pointInTimeRecovery
        table.lock.unlock()
        var pitr: [String: JSON] = ["PointInTimeRecoveryStatus": .string(enabled ? "ENABLED" : "DISABLED")]
        if enabled {
            let now = String((Date().timeIntervalSince1970 * 1000).rounded() / 1000)
            pitr["EarliestRestorableDateTime"] = .number(String(table.creationTime))
            pitr["LatestRestorableDateTime"] = .number(now)
            pitr["RecoveryPeriodInDays"] = Self.number(35)
        }
        return JSON.object([
            "ContinuousBackupsDescription": .object([
                "ContinuousBackupsStatus": .string("ENABLED"),
                "PointInTimeRecoveryDescription": .object(pitr),
            ])
        ]).encoded()
    }

    func describeTimeToLive(_ json: JSON) throws -> [UInt8] {
        let table = try table(try Self.requireTableName(json))
        table.lock.lock()
        let attribute = table.timeToLive
        table.lock.unlock()
        var description: [String: JSON] = ["TimeToLiveStatus": .string(attribute == nil ? "DISABLED" : "ENABLED")]
        if let attribute { description["AttributeName"] = .string(attribute) }
        return JSON.object(["TimeToLiveDescription": .object(description)]).encoded()
    }

    func updateTimeToLive(_ json: JSON) throws -> [UInt8] {
        let table = try table(try Self.requireTableName(json))
        guard let specification = json["TimeToLiveSpecification"], let enabled = specification["Enabled"]?.boolValue,
            let attribute = specification["AttributeName"]?.stringValue
        else {
            throw APIError.validation(
                "1 validation error detected: Value null at 'timeToLiveSpecification' failed to satisfy constraint: Member must not be null")
        }
        table.lock.lock()
        let current = table.timeToLive
        table.lock.unlock()
        if enabled && current != nil { throw APIError.validation("TimeToLive is already enabled") }
        if !enabled && current == nil { throw APIError.validation("TimeToLive is already disabled") }
        table.lock.lock()
        table.timeToLive = enabled ? attribute : nil
        table.lock.unlock()
        return JSON.object(["TimeToLiveSpecification": specification]).encoded()
    }

    func listTags(_ json: JSON) throws -> [UInt8] {
        guard let arn = json["ResourceArn"]?.stringValue else {
            throw APIError.validation("1 validation error detected: Value null at 'resourceArn' failed to satisfy constraint: Member must not be null")
        }
        let table = try table(arn: arn)
        table.lock.lock()
        let tags = table.tags
        table.lock.unlock()
        return JSON.object(["Tags": .array(tags.map { .object(["Key": .string($0.key), "Value": .string($0.value)]) })]).encoded()
    }

    func tagResource(_ json: JSON) throws -> [UInt8] {
        guard let arn = json["ResourceArn"]?.stringValue else {
            throw APIError.validation("1 validation error detected: Value null at 'resourceArn' failed to satisfy constraint: Member must not be null")
        }
        let table = try table(arn: arn)
        table.lock.lock()
        for tag in json["Tags"]?.arrayValue ?? [] {
            guard let k = tag["Key"]?.stringValue, let v = tag["Value"]?.stringValue else { continue }
            if let i = table.tags.firstIndex(where: { $0.key == k }) { table.tags[i].value = v } else { table.tags.append((k, v)) }
        }
        table.lock.unlock()
        return Array("{}".utf8)
    }
}
