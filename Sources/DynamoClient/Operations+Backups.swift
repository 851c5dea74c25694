import DynamoCore
import Foundation

/// An on-demand backup as ListBackups, CreateBackup and DescribeBackup describe it.
public struct BackupSummary: Sendable, Equatable {
    public var arn: String
    public var name: String
    public var tableName: String?
    public var tableArn: String?
    /// CREATING, AVAILABLE or DELETED.
    public var status: String
    /// USER, SYSTEM or AWS_BACKUP.
    public var type: String?
    public var sizeBytes: Int?
    public var creationDate: Date?
    public var expiryDate: Date?

    static func decode(_ json: JSON) -> BackupSummary? {
        guard let arn = json["BackupArn"]?.stringValue else { return nil }
        return BackupSummary(
            arn: arn,
            name: json["BackupName"]?.stringValue ?? "",
            tableName: json["TableName"]?.stringValue,
            tableArn: json["TableArn"]?.stringValue,
            status: json["BackupStatus"]?.stringValue ?? "UNKNOWN",
            type: json["BackupType"]?.stringValue,
            sizeBytes: json["BackupSizeBytes"]?.intValue,
            creationDate: json["BackupCreationDateTime"]?.doubleValue.map { Date(timeIntervalSince1970: $0) },
            expiryDate: json["BackupExpiryDateTime"]?.doubleValue.map { Date(timeIntervalSince1970: $0) })
    }
}

/// DescribeBackup's answer: the backup and the table it was taken of.
public struct BackupDescription: Sendable {
    public var backup: BackupSummary
    public var sourceTableName: String?
    public var sourceItemCount: Int?
    public var sourceTableSizeBytes: Int?
    public var sourceKeySchema: KeySchema?
    public var raw: JSON
}

/// Point-in-time recovery state of a table.
public struct ContinuousBackups: Sendable, Equatable {
    /// ENABLED or DISABLED (continuous backups as a whole).
    public var continuousBackupsStatus: String
    /// ENABLED or DISABLED.
    public var pointInTimeRecoveryStatus: String
    public var earliestRestorableDate: Date?
    public var latestRestorableDate: Date?
    /// Days of history kept (1-35); nil when the endpoint does not say.
    public var recoveryPeriodInDays: Int?
    public var isPointInTimeRecoveryEnabled: Bool { pointInTimeRecoveryStatus == "ENABLED" }
}

/// Where a point-in-time restore restores to.
public enum RestorePoint: Sendable {
    case latest
    case at(Date)
}

extension DynamoDBClient {
    /// CreateBackup. The backup is usually CREATING at first; see ``waitUntilBackupAvailable(_:timeout:pollInterval:)``.
    /// A lost answer is retried like any other failure, which can leave two backups: callers that
    /// must have exactly one use ``createBackupOnce(table:name:)``.
    public func createBackup(table: String, name: String) async throws(DynamoDBError) -> BackupSummary {
        try await createBackup(table: table, name: name, idempotent: true)
    }

    func createBackup(table: String, name: String, idempotent: Bool) async throws(DynamoDBError) -> BackupSummary {
        let body = requestBody { w in
            w.field("TableName", table); w.field("BackupName", name)
        }
        let json = try await performJSON("CreateBackup", table: table, body: body, idempotent: idempotent)
        return try decoded("CreateBackup", table: table) { () throws -> BackupSummary in
            guard var summary = json["BackupDetails"].flatMap(BackupSummary.decode) else { throw DecodeError("no BackupDetails") }
            if summary.tableName == nil { summary.tableName = table }
            return summary
        }
    }

    /// DescribeBackup.
    public func describeBackup(arn: String) async throws(DynamoDBError) -> BackupDescription {
        let json = try await performJSON("DescribeBackup", table: nil, body: requestBody { $0.field("BackupArn", arn) })
        return try decoded("DescribeBackup", table: nil) { try Self.decodeBackupDescription(json["BackupDescription"] ?? .null) }
    }

    static func decodeBackupDescription(_ json: JSON) throws -> BackupDescription {
        guard var summary = json["BackupDetails"].flatMap(BackupSummary.decode) else { throw DecodeError("no BackupDetails") }
        let source = json["SourceTableDetails"]
        summary.tableName = summary.tableName ?? source?["TableName"]?.stringValue
        summary.tableArn = summary.tableArn ?? source?["TableArn"]?.stringValue
        var keySchema: KeySchema?
        if let elements = source?["KeySchema"]?.arrayValue {
            var partition: String?
            var sort: String?
            for e in elements {
                if e["KeyType"]?.stringValue == "HASH" { partition = e["AttributeName"]?.stringValue }
                if e["KeyType"]?.stringValue == "RANGE" { sort = e["AttributeName"]?.stringValue }
            }
            if let partition {
                // SourceTableDetails carries no attribute types; S is a placeholder.
                keySchema = KeySchema(
                    partitionKey: KeyAttribute(name: partition, type: .string),
                    sortKey: sort.map { KeyAttribute(name: $0, type: .string) })
            }
        }
        return BackupDescription(
            backup: summary, sourceTableName: source?["TableName"]?.stringValue,
            sourceItemCount: source?["ItemCount"]?.intValue,
            sourceTableSizeBytes: source?["TableSizeBytes"]?.intValue,
            sourceKeySchema: keySchema, raw: json)
    }

    /// ListBackups, all pages, optionally for one table. The table filter is also applied here,
    /// because some servers ignore it. Each page waits for its turn on the client's ListBackups pacer
    /// (AWS answers about 5 calls a second), so callers never lean on throttling retries.
    public func listBackups(table: String? = nil) async throws(DynamoDBError) -> [BackupSummary] {
        var result: [BackupSummary] = []
        var start: String?
        var seen = Set<String>()
        repeat {
            let body = requestBody { w in
                if let table { w.field("TableName", table) }
                if let start { w.field("ExclusiveStartBackupArn", start) }
            }
            await listBackupsPacer.pace(on: clock)
            let json = try await performJSON("ListBackups", table: table, body: body)
            for summary in (json["BackupSummaries"]?.arrayValue ?? []).compactMap(BackupSummary.decode)
            where seen.insert(summary.arn).inserted {
                if table == nil || summary.tableName == table { result.append(summary) }
            }
            let next = json["LastEvaluatedBackupArn"]?.stringValue
            start = (next == start) ? nil : next
        } while start != nil
        return result
    }

    /// DeleteBackup.
    public func deleteBackup(arn: String) async throws(DynamoDBError) {
        _ = try await perform("DeleteBackup", table: nil, body: requestBody { $0.field("BackupArn", arn) })
    }

    /// Polls DescribeBackup until the backup is AVAILABLE.
    @discardableResult
    public func waitUntilBackupAvailable(
        _ arn: String, timeout: Duration = .seconds(3600),
        pollInterval: Duration = .seconds(1)
    ) async throws(DynamoDBError) -> BackupDescription {
        try await waiter(timeout: timeout, pollInterval: pollInterval).wait(for: "AVAILABLE", of: arn) { () async throws(DynamoDBError) -> BackupDescription? in
            let description = try await describeBackup(arn: arn)
            return description.backup.status == "AVAILABLE" ? description : nil
        }
    }

    /// RestoreTableFromBackup into a new table.
    @discardableResult
    public func restoreTableFromBackup(
        backupArn: String, targetTable: String,
        billingModeOverride: BillingMode? = nil
    ) async throws(DynamoDBError) -> TableDescription {
        let body = requestBody { w in
            w.field("TargetTableName", targetTable)
            w.field("BackupArn", backupArn)
            if let billing = billingModeOverride { Self.writeBillingOverride(billing, into: &w) }
        }
        let json = try await performJSON("RestoreTableFromBackup", table: targetTable, body: body)
        return try decoded("RestoreTableFromBackup", table: targetTable) { try TableDescription.decode(json["TableDescription"] ?? .null) }
    }

    /// RestoreTableToPointInTime into a new table.
    @discardableResult
    public func restoreTableToPointInTime(
        sourceTable: String, targetTable: String, to point: RestorePoint,
        billingModeOverride: BillingMode? = nil
    ) async throws(DynamoDBError) -> TableDescription {
        let body = requestBody { w in
            w.field("SourceTableName", sourceTable)
            w.field("TargetTableName", targetTable)
            switch point {
            case .latest: w.field("UseLatestRestorableTime", true)
            case .at(let date): w.key("RestoreDateTime"); w.numberText(Self.epochText(date))
            }
            if let billing = billingModeOverride { Self.writeBillingOverride(billing, into: &w) }
        }
        let json = try await performJSON("RestoreTableToPointInTime", table: sourceTable, body: body)
        return try decoded("RestoreTableToPointInTime", table: targetTable) { try TableDescription.decode(json["TableDescription"] ?? .null) }
    }

    static func writeBillingOverride(_ billing: BillingMode, into w: inout JSONWriter) {
        w.field("BillingModeOverride", billing.name)
        if case .provisioned(let read, let write) = billing {
            w.object("ProvisionedThroughputOverride") { w in
                w.field("ReadCapacityUnits", read); w.field("WriteCapacityUnits", write)
            }
        }
    }

    static func epochText(_ date: Date) -> String {
        String(format: "%.3f", date.timeIntervalSince1970)
    }

    /// DescribeContinuousBackups.
    public func describeContinuousBackups(table: String) async throws(DynamoDBError) -> ContinuousBackups {
        let json = try await performJSON("DescribeContinuousBackups", table: table, body: requestBody { $0.field("TableName", table) })
        return Self.decodeContinuousBackups(json["ContinuousBackupsDescription"])
    }

    /// UpdateContinuousBackups: turns point-in-time recovery on or off.
    @discardableResult
    public func updateContinuousBackups(
        table: String, pointInTimeRecovery enabled: Bool,
        recoveryPeriodInDays: Int? = nil
    ) async throws(DynamoDBError) -> ContinuousBackups {
        let body = requestBody { w in
            w.field("TableName", table)
            w.object("PointInTimeRecoverySpecification") { w in
                w.field("PointInTimeRecoveryEnabled", enabled)
                if let days = recoveryPeriodInDays { w.field("RecoveryPeriodInDays", days) }
            }
        }
        let json = try await performJSON("UpdateContinuousBackups", table: table, body: body)
        return Self.decodeContinuousBackups(json["ContinuousBackupsDescription"])
    }

    static func decodeContinuousBackups(_ json: JSON?) -> ContinuousBackups {
        let pitr = json?["PointInTimeRecoveryDescription"]
        return ContinuousBackups(
            continuousBackupsStatus: json?["ContinuousBackupsStatus"]?.stringValue ?? "DISABLED",
            pointInTimeRecoveryStatus: pitr?["PointInTimeRecoveryStatus"]?.stringValue ?? "DISABLED",
            earliestRestorableDate: pitr?["EarliestRestorableDateTime"]?.doubleValue.map { Date(timeIntervalSince1970: $0) },
            latestRestorableDate: pitr?["LatestRestorableDateTime"]?.doubleValue.map { Date(timeIntervalSince1970: $0) },
            recoveryPeriodInDays: pitr?["RecoveryPeriodInDays"]?.intValue)
    }
}
