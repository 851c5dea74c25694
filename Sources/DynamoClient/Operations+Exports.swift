import DynamoCore
import Foundation

/// What DynamoDB's native export to S3 writes: every item as of one moment, or the changes between two.
public enum NativeExportKind: Sendable, Equatable {
    /// `FULL_EXPORT`: the table as of `at` (nil = now).
    case full(at: Date?)
    /// `INCREMENTAL_EXPORT`: changes in `[from, to)`, with new (and optionally old) images.
    case incremental(from: Date, to: Date, newAndOldImages: Bool)
}

/// Where a native export (ExportTableToPointInTime) or a native import (ImportTable) keeps its files.
public struct S3BucketLocation: Sendable, Equatable {
    public var bucket: String
    /// The key prefix, without a trailing slash; empty for the bucket's root.
    public var prefix: String
    /// The account that owns the bucket, when it is not the caller's (cross-account exports).
    public var owner: String?

    public init(bucket: String, prefix: String, owner: String? = nil) {
        self.bucket = bucket; self.prefix = prefix; self.owner = owner
    }
}

/// Server-side encryption DynamoDB applies to the files of a native export.
public enum NativeExportEncryption: Sendable, Equatable {
    case s3Managed
    case kms(keyId: String?)
}

/// ExportTableToPointInTime's input.
public struct NativeExportRequest: Sendable {
    public var tableArn: String
    public var destination: S3BucketLocation
    public var kind: NativeExportKind
    public var encryption: NativeExportEncryption?
    /// Makes the call idempotent for 8 hours (DynamoDB's rule): a retry after a lost answer returns the
    /// same export instead of starting a second one. Callers derive it from what they record.
    public var clientToken: String

    public init(
        tableArn: String, destination: S3BucketLocation, kind: NativeExportKind = .full(at: nil),
        encryption: NativeExportEncryption? = nil, clientToken: String
    ) {
        self.tableArn = tableArn; self.destination = destination; self.kind = kind
        self.encryption = encryption; self.clientToken = clientToken
    }
}

/// ExportDescription, as ExportTableToPointInTime and DescribeExport return it.
public struct NativeExportDescription: Sendable, Equatable {
    public var exportArn: String
    /// IN_PROGRESS, COMPLETED or FAILED.
    public var status: String
    public var tableArn: String?
    public var bucket: String?
    public var prefix: String?
    /// The key of `manifest-summary.json` (AWS); nil when the endpoint writes no manifest (moto).
    public var manifestKey: String?
    public var exportTime: Date?
    public var startTime: Date?
    public var endTime: Date?
    public var itemCount: Int?
    public var billedSizeBytes: Int?
    public var exportType: String?
    public var failureCode: String?
    public var failureMessage: String?

    /// The export's id: the last component of its ARN (`…/export/<id>`), also the folder DynamoDB
    /// writes under `<prefix>/AWSDynamoDB/`.
    public var exportId: String { exportArn.split(separator: "/").last.map(String.init) ?? exportArn }

    static func decode(_ json: JSON) throws -> NativeExportDescription {
        guard let arn = json["ExportArn"]?.stringValue else { throw DecodeError("no ExportArn") }
        func date(_ name: String) -> Date? { json[name]?.doubleValue.map { Date(timeIntervalSince1970: $0) } }
        return NativeExportDescription(
            exportArn: arn, status: json["ExportStatus"]?.stringValue ?? "UNKNOWN", tableArn: json["TableArn"]?.stringValue,
            bucket: json["S3Bucket"]?.stringValue, prefix: json["S3Prefix"]?.stringValue,
            manifestKey: json["ExportManifest"]?.stringValue, exportTime: date("ExportTime"), startTime: date("StartTime"),
            endTime: date("EndTime"), itemCount: json["ItemCount"]?.intValue, billedSizeBytes: json["BilledSizeBytes"]?.intValue,
            exportType: json["ExportType"]?.stringValue, failureCode: json["FailureCode"]?.stringValue,
            failureMessage: json["FailureMessage"]?.stringValue)
    }
}

/// ImportTable's input: DynamoDB-JSON files (gzip) under an S3 prefix into a table ImportTable creates.
public struct NativeImportRequest: Sendable {
    public var source: S3BucketLocation
    /// The table to create. ImportTable takes no local secondary indexes, tags, stream or TTL: those are
    /// refused by ``DynamoDBClient/importTable(_:)`` rather than silently dropped.
    public var table: CreateTableInput
    /// GZIP (DynamoDB's exports) or NONE.
    public var compression: String
    /// Idempotency for 8 hours, as for exports.
    public var clientToken: String

    public init(source: S3BucketLocation, table: CreateTableInput, compression: String = "GZIP", clientToken: String) {
        self.source = source; self.table = table; self.compression = compression; self.clientToken = clientToken
    }
}

/// ImportTableDescription, as ImportTable and DescribeImport return it.
public struct NativeImportDescription: Sendable, Equatable {
    public var importArn: String
    /// IN_PROGRESS, COMPLETED, CANCELLING, CANCELLED or FAILED.
    public var status: String
    public var tableArn: String?
    public var tableName: String?
    public var processedItemCount: Int?
    public var importedItemCount: Int?
    /// Lines DynamoDB could not import (it logs them to CloudWatch and goes on).
    public var errorCount: Int?
    public var startTime: Date?
    public var endTime: Date?
    public var failureCode: String?
    public var failureMessage: String?

    static func decode(_ json: JSON) throws -> NativeImportDescription {
        guard let arn = json["ImportArn"]?.stringValue else { throw DecodeError("no ImportArn") }
        func date(_ name: String) -> Date? { json[name]?.doubleValue.map { Date(timeIntervalSince1970: $0) } }
        return NativeImportDescription(
            importArn: arn, status: json["ImportStatus"]?.stringValue ?? "UNKNOWN", tableArn: json["TableArn"]?.stringValue,
            tableName: json["TableCreationParameters"]?["TableName"]?.stringValue,
            processedItemCount: json["ProcessedItemCount"]?.intValue, importedItemCount: json["ImportedItemCount"]?.intValue,
            errorCount: json["ErrorCount"]?.intValue, startTime: date("StartTime"), endTime: date("EndTime"),
            failureCode: json["FailureCode"]?.stringValue, failureMessage: json["FailureMessage"]?.stringValue)
    }
}

extension DynamoDBClient {
    /// ExportTableToPointInTime (the table needs point-in-time recovery on). Idempotent through the
    /// request's client token, so it is retried like any read.
    public func exportTableToPointInTime(_ request: NativeExportRequest) async throws(DynamoDBError) -> NativeExportDescription {
        let table = request.tableArn.split(separator: "/").last.map(String.init)
        let body = requestBody { w in
            w.field("TableArn", request.tableArn)
            w.field("S3Bucket", request.destination.bucket)
            if !request.destination.prefix.isEmpty { w.field("S3Prefix", request.destination.prefix) }
            if let owner = request.destination.owner { w.field("S3BucketOwner", owner) }
            w.field("ExportFormat", "DYNAMODB_JSON")
            w.field("ClientToken", request.clientToken)
            switch request.kind {
            case .full(let at):
                w.field("ExportType", "FULL_EXPORT")
                if let at { w.key("ExportTime"); w.numberText(Self.epochSeconds(at)) }
            case .incremental(let from, let to, let both):
                w.field("ExportType", "INCREMENTAL_EXPORT")
                w.object("IncrementalExportSpecification") { w in
                    w.key("ExportFromTime"); w.numberText(Self.epochSeconds(from))
                    w.key("ExportToTime"); w.numberText(Self.epochSeconds(to))
                    w.field("ExportViewType", both ? "NEW_AND_OLD_IMAGES" : "NEW_IMAGE")
                }
            }
            switch request.encryption {
            case nil: break
            case .s3Managed: w.field("S3SseAlgorithm", "AES256")
            case .kms(let key):
                w.field("S3SseAlgorithm", "KMS")
                if let key { w.field("S3SseKmsKeyId", key) }
            }
        }
        let json = try await performJSON("ExportTableToPointInTime", table: table, body: body)
        return try decoded("ExportTableToPointInTime", table: table) { try NativeExportDescription.decode(json["ExportDescription"] ?? .null) }
    }

    /// DescribeExport.
    public func describeExport(_ exportArn: String) async throws(DynamoDBError) -> NativeExportDescription {
        let json = try await performJSON("DescribeExport", table: nil, body: requestBody { $0.field("ExportArn", exportArn) })
        return try decoded("DescribeExport", table: nil) { try NativeExportDescription.decode(json["ExportDescription"] ?? .null) }
    }

    /// ImportTable: creates `request.table` from the files under `request.source`. Idempotent through the
    /// client token. Settings ImportTable cannot take are refused before anything is sent.
    public func importTable(_ request: NativeImportRequest) async throws(DynamoDBError) -> NativeImportDescription {
        let table = request.table
        var unsupported: [String] = []
        if !table.localSecondaryIndexes.isEmpty { unsupported.append("local secondary indexes") }
        if table.stream != nil { unsupported.append("a stream") }
        if !table.tags.isEmpty { unsupported.append("tags") }
        if table.deletionProtection { unsupported.append("deletion protection") }
        if table.tableClass != nil { unsupported.append("a table class") }
        if !unsupported.isEmpty {
            throw .invalidRequest(
                operation: "ImportTable",
                reason: "ImportTable cannot create \(table.name) with \(unsupported.joined(separator: ", ")); "
                    + "import without --native, or add them after the import")
        }
        let body = requestBody { w in
            w.field("ClientToken", request.clientToken)
            w.object("S3BucketSource") { w in
                w.field("S3Bucket", request.source.bucket)
                if !request.source.prefix.isEmpty { w.field("S3KeyPrefix", request.source.prefix) }
                if let owner = request.source.owner { w.field("S3BucketOwner", owner) }
            }
            w.field("InputFormat", "DYNAMODB_JSON")
            w.field("InputCompressionType", request.compression)
            w.object("TableCreationParameters") { w in
                w.field("TableName", table.name)
                Self.writeKeyAndIndexes(of: table, into: &w, localIndexes: false)
            }
        }
        let json = try await performJSON("ImportTable", table: table.name, body: body)
        return try decoded("ImportTable", table: table.name) { try NativeImportDescription.decode(json["ImportTableDescription"] ?? .null) }
    }

    /// DescribeImport.
    public func describeImport(_ importArn: String) async throws(DynamoDBError) -> NativeImportDescription {
        let json = try await performJSON("DescribeImport", table: nil, body: requestBody { $0.field("ImportArn", importArn) })
        return try decoded("DescribeImport", table: nil) { try NativeImportDescription.decode(json["ImportTableDescription"] ?? .null) }
    }

    /// Waits until an export is no longer IN_PROGRESS and returns its final description (COMPLETED or
    /// FAILED: the caller decides what a failure means). `progress` sees every poll.
    public func waitForExport(
        _ exportArn: String, waiter: Waiter, progress: @Sendable (NativeExportDescription) -> Void = { _ in }
    ) async throws(DynamoDBError) -> NativeExportDescription {
        try await waiter.wait(for: "export COMPLETED", of: exportArn) { () throws(DynamoDBError) -> NativeExportDescription? in
            let description = try await describeExport(exportArn)
            progress(description)
            return description.status == "IN_PROGRESS" ? nil : description
        }
    }

    /// Waits until an import is no longer IN_PROGRESS (or CANCELLING) and returns its final description.
    public func waitForImport(
        _ importArn: String, waiter: Waiter, progress: @Sendable (NativeImportDescription) -> Void = { _ in }
    ) async throws(DynamoDBError) -> NativeImportDescription {
        try await waiter.wait(for: "import COMPLETED", of: importArn) { () throws(DynamoDBError) -> NativeImportDescription? in
            let description = try await describeImport(importArn)
            progress(description)
            return ["IN_PROGRESS", "CANCELLING"].contains(description.status) ? nil : description
        }
    }

    /// Seconds since 1970 as DynamoDB's JSON protocol writes timestamps, with millisecond precision.
    static func epochSeconds(_ date: Date) -> String {
        String(format: "%.3f", date.timeIntervalSince1970)
    }
}
