// DynamoDB Streams: ListStreams, DescribeStream, GetShardIterator, GetRecords.
//
// The Streams API is its own endpoint on AWS (`streams.dynamodb.REGION.amazonaws.com`) with its own
// `X-Amz-Target` prefix (`DynamoDBStreams_20120810`), but it is signed with the service name `dynamodb`
// (botocore's dynamodbstreams model: `signingName: dynamodb`). Local servers (moto, DynamoDB Local)
// answer it on their one port. So a streams client is an ordinary ``DynamoDBClient`` whose endpoint is
// the streams endpoint: retries, error classification and signing stay the one implementation.
import AWSAuth
import DynamoCore
import Foundation

/// One stream of a table, as ListStreams names it.
public struct StreamSummary: Sendable, Equatable {
    public var streamArn: String
    public var tableName: String
    public var streamLabel: String?
}

/// A shard of a stream: its id, its parent (after a split), and its sequence number range. A shard with an
/// `endingSequenceNumber` is closed: DynamoDB writes nothing more to it.
public struct StreamShard: Sendable, Equatable, Codable {
    public var shardId: String
    public var parentShardId: String?
    public var startingSequenceNumber: String?
    public var endingSequenceNumber: String?

    public init(shardId: String, parentShardId: String? = nil, startingSequenceNumber: String? = nil, endingSequenceNumber: String? = nil) {
        self.shardId = shardId; self.parentShardId = parentShardId
        self.startingSequenceNumber = startingSequenceNumber; self.endingSequenceNumber = endingSequenceNumber
    }

    /// True when DynamoDB writes nothing more to the shard.
    public var isClosed: Bool { endingSequenceNumber != nil }
}

/// DescribeStream's answer, every page of shards merged.
public struct StreamDescription: Sendable, Equatable {
    public var streamArn: String
    /// ENABLING, ENABLED, DISABLING or DISABLED.
    public var status: String
    public var viewType: StreamViewType?
    public var tableName: String?
    public var shards: [StreamShard]
}

/// Where GetShardIterator starts reading a shard.
public enum ShardIteratorStart: Sendable, Equatable {
    /// The oldest record still kept (records live 24 hours).
    case trimHorizon
    /// Records written after the call.
    case latest
    case atSequenceNumber(String)
    case afterSequenceNumber(String)

    var wireType: String {
        switch self {
        case .trimHorizon: "TRIM_HORIZON"
        case .latest: "LATEST"
        case .atSequenceNumber: "AT_SEQUENCE_NUMBER"
        case .afterSequenceNumber: "AFTER_SEQUENCE_NUMBER"
        }
    }
}

/// What a stream record says happened to an item.
public enum StreamEventName: String, Sendable, Codable {
    case insert = "INSERT", modify = "MODIFY", remove = "REMOVE"
}

/// One stream record.
public struct StreamRecord: Sendable, Equatable {
    public var eventName: StreamEventName
    public var keys: Item
    public var newImage: Item?
    public var oldImage: Item?
    public var sequenceNumber: String
    /// When the change was made, as DynamoDB reports it (rounded to the second or better).
    public var approximateCreationDateTime: Date?
    /// `dynamodb.amazonaws.com` for a delete made by Time to Live; nil for an application's change.
    public var principalId: String?

    public init(
        eventName: StreamEventName, keys: Item, newImage: Item? = nil, oldImage: Item? = nil, sequenceNumber: String,
        approximateCreationDateTime: Date? = nil, principalId: String? = nil
    ) {
        self.eventName = eventName; self.keys = keys; self.newImage = newImage; self.oldImage = oldImage
        self.sequenceNumber = sequenceNumber; self.approximateCreationDateTime = approximateCreationDateTime
        self.principalId = principalId
    }

    /// True for a delete made by DynamoDB's Time to Live (its `userIdentity`).
    public var isTimeToLiveDelete: Bool { eventName == .remove && principalId == "dynamodb.amazonaws.com" }
}

/// GetRecords' answer. `nextShardIterator` is nil once a closed shard has been read to its end.
public struct StreamRecordsPage: Sendable {
    public var records: [StreamRecord]
    public var nextShardIterator: String?
}

/// Sequence numbers are decimal strings of up to 40 digits: compared as numbers, not as text.
public func compareSequenceNumbers(_ a: String, _ b: String) -> Int {
    let x = a.drop(while: { $0 == "0" }), y = b.drop(while: { $0 == "0" })
    if x.count != y.count { return x.count < y.count ? -1 : 1 }
    return x == y ? 0 : (x < y ? -1 : 1)
}

extension DynamoDBClient {
    /// The operations served by the Streams API (target prefix `DynamoDBStreams_20120810`).
    static let streamsOperations: Set<String> = ["ListStreams", "DescribeStream", "GetShardIterator", "GetRecords"]

    /// The `X-Amz-Target` of `operation`.
    package static func target(of operation: String) -> String {
        streamsOperations.contains(operation) ? "DynamoDBStreams_20120810.\(operation)" : "DynamoDB_20120810.\(operation)"
    }

    /// The Streams endpoint that goes with a DynamoDB endpoint: AWS's regional `dynamodb.` host becomes
    /// `streams.dynamodb.` (same for FIPS and China partitions); any other endpoint (a local server, a
    /// proxy, a VPC endpoint URL given by the operator) serves both on the one URL.
    public static func streamsEndpoint(for endpoint: String) -> String {
        guard var components = URLComponents(string: endpoint), let host = components.host else { return endpoint }
        if host.hasPrefix("dynamodb."), host.hasSuffix(".amazonaws.com") || host.hasSuffix(".amazonaws.com.cn") {
            components.host = "streams." + host
            return components.string ?? endpoint
        }
        return endpoint
    }

    /// A client for the Streams API of this client's endpoint (or of `endpoint`, e.g. from
    /// `AWS_ENDPOINT_URL_DYNAMODB_STREAMS`): same credentials, region, retry policy, clock and logger; its
    /// own transport.
    public func streamsClient(endpoint: String? = nil) -> DynamoDBClient {
        var streams = configuration
        streams.endpoint = endpoint ?? Self.streamsEndpoint(for: configuration.endpoint)
        return DynamoDBClient(
            configuration: streams, retryPolicy: retryPolicy, clock: clock, logger: logger, credentials: credentials)
    }

    /// ListStreams for `table`, all pages.
    public func listStreams(table: String) async throws(DynamoDBError) -> [StreamSummary] {
        var streams: [StreamSummary] = []
        var start: String?
        repeat {
            let body = requestBody { w in
                w.field("TableName", table)
                if let start { w.field("ExclusiveStartStreamArn", start) }
            }
            let json = try await performJSON("ListStreams", table: table, body: body)
            for entry in json["Streams"]?.arrayValue ?? [] {
                guard let arn = entry["StreamArn"]?.stringValue else { continue }
                streams.append(
                    StreamSummary(
                        streamArn: arn, tableName: entry["TableName"]?.stringValue ?? table,
                        streamLabel: entry["StreamLabel"]?.stringValue))
            }
            let next = json["LastEvaluatedStreamArn"]?.stringValue
            if let next, next == start {
                throw .malformedResponse(
                    reason: "LastEvaluatedStreamArn \(next) came back a second time; the listing would never end",
                    context: CallContext(operation: "ListStreams", table: table, attempts: 1))
            }
            start = next
        } while start != nil
        return streams
    }

    /// DescribeStream, every page of shards (ExclusiveStartShardId / LastEvaluatedShardId).
    public func describeStream(arn: String, table: String? = nil) async throws(DynamoDBError) -> StreamDescription {
        var shards: [StreamShard] = []
        var seen = Set<String>()
        var start: String?
        var description: StreamDescription?
        repeat {
            let body = requestBody { w in
                w.field("StreamArn", arn)
                if let start { w.field("ExclusiveStartShardId", start) }
            }
            let json = try await performJSON("DescribeStream", table: table, body: body)
            guard let stream = json["StreamDescription"] else {
                throw .malformedResponse(
                    reason: "the answer has no StreamDescription", context: CallContext(operation: "DescribeStream", table: table, attempts: 1))
            }
            for entry in stream["Shards"]?.arrayValue ?? [] {
                guard let id = entry["ShardId"]?.stringValue, seen.insert(id).inserted else { continue }
                let range = entry["SequenceNumberRange"]
                shards.append(
                    StreamShard(
                        shardId: id, parentShardId: entry["ParentShardId"]?.stringValue,
                        startingSequenceNumber: range?["StartingSequenceNumber"]?.stringValue,
                        endingSequenceNumber: range?["EndingSequenceNumber"]?.stringValue))
            }
            description = StreamDescription(
                streamArn: arn, status: stream["StreamStatus"]?.stringValue ?? "ENABLED",
                viewType: stream["StreamViewType"]?.stringValue.flatMap(StreamViewType.init),
                tableName: stream["TableName"]?.stringValue, shards: [])
            let next = stream["LastEvaluatedShardId"]?.stringValue
            if let next, next == start {
                throw .malformedResponse(
                    reason: "LastEvaluatedShardId \(next) came back a second time; the listing would never end",
                    context: CallContext(operation: "DescribeStream", table: table, attempts: 1))
            }
            start = next
        } while start != nil
        description!.shards = shards
        return description!
    }

    /// GetShardIterator. Throws `TrimmedDataAccessException` when the sequence number is older than the
    /// stream's 24-hour window.
    public func getShardIterator(
        arn: String, shardId: String, start: ShardIteratorStart, table: String? = nil
    ) async throws(DynamoDBError) -> String {
        let body = requestBody { w in
            w.field("StreamArn", arn)
            w.field("ShardId", shardId)
            w.field("ShardIteratorType", start.wireType)
            switch start {
            case .atSequenceNumber(let n), .afterSequenceNumber(let n): w.field("SequenceNumber", n)
            case .trimHorizon, .latest: break
            }
        }
        let json = try await performJSON("GetShardIterator", table: table, body: body)
        guard let iterator = json["ShardIterator"]?.stringValue else {
            throw .malformedResponse(
                reason: "the answer has no ShardIterator", context: CallContext(operation: "GetShardIterator", table: table, attempts: 1))
        }
        return iterator
    }

    /// GetRecords: one page from `iterator`. Throws `ExpiredIteratorException` for an iterator older than
    /// 15 minutes and `TrimmedDataAccessException` when its position fell out of the 24-hour window.
    public func getRecords(iterator: String, limit: Int? = nil, table: String? = nil) async throws(DynamoDBError) -> StreamRecordsPage {
        let body = requestBody { w in
            w.field("ShardIterator", iterator)
            if let limit { w.field("Limit", min(max(limit, 1), 1000)) }
        }
        let bytes = try await perform("GetRecords", table: table, body: body)
        return try decoded("GetRecords", table: table) { try Self.decodeRecordsPage(bytes) }
    }

    package static func decodeRecordsPage(_ bytes: [UInt8]) throws -> StreamRecordsPage {
        var page = StreamRecordsPage(records: [], nextShardIterator: nil)
        var reader = JSONReader(bytes)
        var sawRecords = false
        try reader.readObject { r, key in
            switch key {
            case "Records":
                sawRecords = true
                try r.readArray { r in page.records.append(try decodeRecord(&r)) }
            case "NextShardIterator":
                if r.peekByte() == UInt8(ascii: "n") { try r.skipValue() } else { page.nextShardIterator = try r.readString() }
            default: try r.skipValue()
            }
        }
        try reader.finish()
        guard sawRecords else { throw DecodeError("the answer has no Records") }
        return page
    }

    static func decodeRecord(_ r: inout JSONReader) throws -> StreamRecord {
        var eventName: StreamEventName?
        var keys: Item?
        var newImage: Item?
        var oldImage: Item?
        var sequence: String?
        var created: Date?
        var principal: String?
        try r.readObject { r, key in
            switch key {
            case "eventName":
                let text = try r.readString()
                guard let name = StreamEventName(rawValue: text) else { throw DecodeError("unknown eventName \(text)") }
                eventName = name
            case "userIdentity":
                principal = try r.readJSON()["PrincipalId"]?.stringValue
            case "dynamodb":
                try r.readObject { r, key in
                    switch key {
                    case "Keys": keys = try r.readItem()
                    case "NewImage": newImage = try r.readItem()
                    case "OldImage": oldImage = try r.readItem()
                    case "SequenceNumber": sequence = try r.readString()
                    case "ApproximateCreationDateTime":
                        // Epoch seconds (a JSON number, possibly fractional).
                        created = Double(try r.readNumberText()).map { Date(timeIntervalSince1970: $0) }
                    default: try r.skipValue()
                    }
                }
            default: try r.skipValue()
            }
        }
        guard let eventName else { throw DecodeError("a record has no eventName") }
        guard let sequence else { throw DecodeError("a record has no SequenceNumber") }
        guard let keys else { throw DecodeError("record \(sequence) has no Keys") }
        return StreamRecord(
            eventName: eventName, keys: keys, newImage: newImage, oldImage: oldImage, sequenceNumber: sequence,
            approximateCreationDateTime: created, principalId: principal)
    }

    /// Turns on a NEW_AND_OLD_IMAGES stream (UpdateTable) and waits until the table is ACTIVE again.
    public func enableStream(table: String, viewType: StreamViewType = .newAndOldImages, timeout: Duration = .seconds(1800)) async throws(DynamoDBError) {
        try await updateTable(UpdateTableInput(name: table, stream: .some(viewType)))
        try await waitUntilActive(table, timeout: timeout)
    }
}
