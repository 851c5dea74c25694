// DynamoDB Streams over the in-memory tables: every change to a table with a stream becomes a record in the
// open shard its key hashes to. With --stream-split-every N a shard closes after N records and opens children
// (two by default, each taking half of the parent's key hashes), so a follower meets shard lineage on a real
// server: a key's records continue in a child only after the parent's, and only a parent-first reader sees
// them in order.
import DynamoCore
import Foundation

/// How streams behave; set once from the command line.
struct StreamSettings: Sendable {
    /// Records after which a shard closes and opens its children (0: never).
    var splitEvery = 0
    /// Children a closed shard opens: 2 (a split, each child takes half of the parent's key hashes) or 1 (a rollover).
    var children = 2
    /// Open shards of a new stream (the key hash space cut evenly).
    var initialShards = 1
    /// Seconds a shard iterator stays valid (DynamoDB: 15 minutes).
    var iteratorLifetime: Double = 900
}

/// One stream record as kept: what GetRecords serves.
struct StreamRecord {
    var sequence: UInt64
    /// INSERT, MODIFY or REMOVE.
    var eventName: String
    /// The key attributes' canonical DynamoDB JSON.
    var keys: [UInt8]
    var newImage: [UInt8]?
    var oldImage: [UInt8]?
    var sizeBytes: Int
    /// Whole epoch seconds: DynamoDB Streams rounds ApproximateCreationDateTime down to the second.
    var createdAt: Int
}

/// A shard: a key hash range, its parent and its records in sequence order.
final class StreamShard {
    let id: String
    let parentId: String?
    let low: UInt64
    let high: UInt64
    let startingSequence: UInt64
    var endingSequence: UInt64?
    var records: [StreamRecord] = []

    init(id: String, parentId: String?, low: UInt64, high: UInt64, startingSequence: UInt64) {
        self.id = id
        self.parentId = parentId
        self.low = low
        self.high = high
        self.startingSequence = startingSequence
    }
}

/// One stream of a table (callers hold the table's lock).
final class StreamLog {
    let arn: String
    let label: String
    let viewType: String
    let createdAt: Double
    let settings: StreamSettings
    var enabled = true
    /// Every shard in creation order: a parent always before its children.
    var shards: [StreamShard] = []
    /// The open shards, ordered by hash range; together they cover the whole hash space.
    var open: [StreamShard] = []
    var nextSequence: UInt64 = 1
    var shardCounter = 0

    static let viewTypes: Set<String> = ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]

    init(tableArn: String, label: String, viewType: String, settings: StreamSettings) {
        self.arn = "\(tableArn)/stream/\(label)"
        self.label = label
        self.viewType = viewType
        self.createdAt = (Date().timeIntervalSince1970 * 1000).rounded() / 1000
        self.settings = settings
        let count = max(1, settings.initialShards)
        for s in 0..<count {
            let range = Table.segmentRange(s, of: count)
            let shard = makeShard(parent: nil, low: range.low, high: range.high)
            open.append(shard)
        }
    }

    /// Sequence numbers are 27 digits, beyond UInt64's 20, as DynamoDB's are: a client must not parse them
    /// into a 64-bit integer. Fixed width, so they also order as strings.
    static func sequenceText(_ sequence: UInt64) -> String { String(format: "4%026llu", sequence) }

    static func sequence(_ text: String) -> UInt64? {
        guard text.utf8.count == 27, text.hasPrefix("4") else { return nil }
        return UInt64(text.dropFirst())
    }

    func makeShard(parent: StreamShard?, low: UInt64, high: UInt64) -> StreamShard {
        shardCounter += 1
        let id = String(
            format: "shardId-%020lu-%08x", UInt(createdAt) * 1000 + UInt(shardCounter),
            UInt32(truncatingIfNeeded: Table.hash(Array(arn.utf8)) &+ UInt64(shardCounter)))
        let shard = StreamShard(id: id, parentId: parent?.id, low: low, high: high, startingSequence: nextSequence)
        shards.append(shard)
        return shard
    }

    func shard(_ id: String) -> StreamShard? { shards.first { $0.id == id } }

    /// Records a change (nil old: an insert; nil new: a removal). A write that changes nothing is not
    /// recorded, as DynamoDB does not record one.
    func record(old: StoredItem?, new: StoredItem?) {
        guard enabled, let changed = new ?? old else { return }
        if let old, let new, old.bytes == new.bytes || Self.sameItem(old.bytes, new.bytes) { return }
        let eventName = old == nil ? "INSERT" : new == nil ? "REMOVE" : "MODIFY"
        let keysSize = (try? JSONReader.parseItem(changed.key)).map(dynamoDBItemSize) ?? changed.key.count
        let withNew = viewType == "NEW_IMAGE" || viewType == "NEW_AND_OLD_IMAGES"
        let withOld = viewType == "OLD_IMAGE" || viewType == "NEW_AND_OLD_IMAGES"
        let newImage = withNew ? new : nil
        let oldImage = withOld ? old : nil
        // The open shard whose hash range holds the key: the last one starting at or below its hash.
        var low = 0, high = open.count
        while high - low > 1 {
            let mid = (low + high) / 2
            if open[mid].low <= changed.hash { low = mid } else { high = mid }
        }
        let shard = open[low]
        shard.records.append(
            StreamRecord(
                sequence: nextSequence, eventName: eventName, keys: changed.key, newImage: newImage?.bytes, oldImage: oldImage?.bytes,
                sizeBytes: keysSize + (newImage?.size ?? 0) + (oldImage?.size ?? 0), createdAt: Int(Date().timeIntervalSince1970)))
        nextSequence += 1
        if settings.splitEvery > 0 && shard.records.count >= settings.splitEvery { close(shard, at: low) }
    }

    /// Closes a full shard and opens its children in its place.
    func close(_ shard: StreamShard, at index: Int) {
        shard.endingSequence = shard.records.last?.sequence ?? nextSequence - 1
        var children: [StreamShard] = []
        if settings.children == 2 && shard.high > shard.low {
            let middle = shard.low + (shard.high - shard.low) / 2
            children = [makeShard(parent: shard, low: shard.low, high: middle), makeShard(parent: shard, low: middle + 1, high: shard.high)]
        } else {
            children = [makeShard(parent: shard, low: shard.low, high: shard.high)]
        }
        open.replaceSubrange(index...index, with: children)
    }

    static func sameItem(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard let x = try? JSONReader.parseItem(a), let y = try? JSONReader.parseItem(b) else { return false }
        return x == y
    }

    /// The index of the first record at or after `sequence`.
    static func firstIndex(_ records: [StreamRecord], atOrAfter sequence: UInt64) -> Int {
        var low = 0, high = records.count
        while low < high {
            let mid = (low + high) / 2
            if records[mid].sequence < sequence { low = mid + 1 } else { high = mid }
        }
        return low
    }
}

/// What a shard iterator stands for. Sent to the client as opaque base64, as DynamoDB's are opaque.
struct ShardIterator {
    var table: String
    var streamLabel: String
    var shardId: String
    /// The next record to read is the first with a sequence number at or above this.
    var position: UInt64
    /// When it was handed out (milliseconds since the epoch): iterators expire.
    var issuedAt: Int

    var encoded: String {
        Data("bench-iterator|\(table)|\(streamLabel)|\(shardId)|\(position)|\(issuedAt)".utf8).base64EncodedString()
    }

    init(table: String, streamLabel: String, shardId: String, position: UInt64, issuedAt: Int = Int(Date().timeIntervalSince1970 * 1000)) {
        self.table = table
        self.streamLabel = streamLabel
        self.shardId = shardId
        self.position = position
        self.issuedAt = issuedAt
    }

    init?(_ text: String) {
        guard let data = Data(base64Encoded: text), let plain = String(data: data, encoding: .utf8) else { return nil }
        let parts = plain.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 6, parts[0] == "bench-iterator", let position = UInt64(parts[4]), let issued = Int(parts[5]) else { return nil }
        self.init(table: parts[1], streamLabel: parts[2], shardId: parts[3], position: position, issuedAt: issued)
    }
}

extension Table {
    /// The table's current stream (enabled or the last disabled one), if it ever had one.
    var stream: StreamLog? { streams.last }

    /// Turns a stream on (CreateTable's or UpdateTable's StreamSpecification).
    func enableStream(viewType: String, settings: StreamSettings) {
        // Labels are timestamps; two streams of one table never share one.
        var label = Self.streamLabel(Date())
        if let last = streams.last, label <= last.label { label = Self.streamLabel(Date(timeIntervalSince1970: (Self.labelTime(last.label) ?? 0) + 0.001)) }
        streams.append(StreamLog(tableArn: arn, label: label, viewType: viewType, settings: settings))
    }

    static func streamLabel(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSS"
        return formatter.string(from: date)
    }

    static func labelTime(_ label: String) -> Double? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSS"
        return formatter.date(from: label)?.timeIntervalSince1970
    }
}

extension Store {
    static let streamsPrefix = "DynamoDBStreams_20120810."

    /// The DynamoDB Streams operations (`X-Amz-Target: DynamoDBStreams_20120810.*`), served on the same port.
    func handleStreams(_ operation: Substring, _ body: [UInt8]) -> Response {
        do {
            let json = try JSON.parse(body)
            switch operation {
            case "ListStreams": return .ok(try listStreams(json))
            case "DescribeStream": return .ok(try describeStream(json))
            case "GetShardIterator": return .ok(try getShardIterator(json))
            case "GetRecords": return .ok(try getRecords(json))
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

    // MARK: Control plane

    /// StreamSpecification, LatestStreamArn and LatestStreamLabel of DescribeTable (callers do not hold the table's lock).
    func streamFields(_ table: Table) -> [String: JSON] {
        table.lock.lock()
        defer { table.lock.unlock() }
        guard let stream = table.stream else { return [:] }
        var fields: [String: JSON] = [
            "LatestStreamLabel": .string(stream.label),
            "LatestStreamArn": .string(stream.arn),
        ]
        if stream.enabled {
            fields["StreamSpecification"] = .object(["StreamEnabled": .bool(true), "StreamViewType": .string(stream.viewType)])
        }
        return fields
    }

    /// Validates a StreamSpecification; returns the view type to enable, or nil to disable.
    static func streamViewType(_ specification: JSON) throws(APIError) -> String? {
        guard let enabled = specification["StreamEnabled"]?.boolValue else {
            throw .validation(
                "1 validation error detected: Value null at 'streamSpecification.streamEnabled' failed to satisfy constraint: Member must not be null")
        }
        guard enabled else { return nil }
        guard let viewType = specification["StreamViewType"]?.stringValue, StreamLog.viewTypes.contains(viewType) else {
            throw .validation("One or more parameter values were invalid: You must specify a StreamViewType when enabling a stream")
        }
        return viewType
    }

    /// UpdateTable, for what the bench server models of it: StreamSpecification (turning a stream on or off).
    func updateTable(_ json: JSON) throws -> [UInt8] {
        let name = try Self.requireTableName(json)
        let table = try self.table(name)
        for member in json.objectValue?.keys.sorted() ?? [] where member != "TableName" && member != "StreamSpecification" {
            throw Self.unsupported(member, "UpdateTable")
        }
        guard let specification = json["StreamSpecification"] else {
            throw APIError.validation(
                "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required"
            )
        }
        let viewType = try Self.streamViewType(specification)
        table.lock.lock()
        let current = table.stream.flatMap { $0.enabled ? $0 : nil }
        switch (viewType, current) {
        case (let view?, nil):
            table.enableStream(viewType: view, settings: streamSettings)
        case (_?, let stream?):
            table.lock.unlock()
            throw APIError.validation("Table already has an enabled stream: TableName: \(name), StreamArn: \(stream.arn)")
        case (nil, let stream?):
            stream.enabled = false
        case (nil, nil):
            table.lock.unlock()
            throw APIError.validation("Table already has no stream enabled: \(name)")
        }
        table.lock.unlock()
        return JSON.object(["TableDescription": describe(table, status: "UPDATING")]).encoded()
    }

    /// The stream an ARN names, with its table.
    func stream(arn: String) throws(APIError) -> (Table, StreamLog) {
        lock.lock()
        let all = Array(tables.values)
        lock.unlock()
        for table in all where arn.hasPrefix(table.arn + "/stream/") {
            table.lock.lock()
            let found = table.streams.first { $0.arn == arn }
            table.lock.unlock()
            if let found { return (table, found) }
        }
        throw APIError(type: "ResourceNotFoundException", message: "Requested resource not found: Stream: \(arn) not found")
    }

    static func limit(_ json: JSON, maximum: Int, default value: Int) throws(APIError) -> Int {
        guard let limit = json["Limit"]?.intValue else { return value }
        guard (1...maximum).contains(limit) else {
            throw .validation(
                "1 validation error detected: Value '\(limit)' at 'limit' failed to satisfy constraint: Member must have value \(limit < 1 ? "greater than or equal to 1" : "less than or equal to \(maximum)")"
            )
        }
        return limit
    }

    func listStreams(_ json: JSON) throws -> [UInt8] {
        let limit = try Self.limit(json, maximum: 100, default: 100)
        let only = json["TableName"]?.stringValue
        if let only { _ = try table(only) }
        lock.lock()
        let all = tables.values.sorted { $0.name < $1.name }
        lock.unlock()
        var entries: [(arn: String, table: String, label: String)] = []
        for table in all where only == nil || table.name == only {
            table.lock.lock()
            entries += table.streams.map { ($0.arn, table.name, $0.label) }
            table.lock.unlock()
        }
        if let start = json["ExclusiveStartStreamArn"]?.stringValue {
            guard let index = entries.firstIndex(where: { $0.arn == start }) else {
                throw APIError(type: "ResourceNotFoundException", message: "Requested resource not found: Stream: \(start) not found")
            }
            entries.removeFirst(index + 1)
        }
        var answer: [String: JSON] = [
            "Streams": .array(
                entries.prefix(limit).map { .object(["StreamArn": .string($0.arn), "TableName": .string($0.table), "StreamLabel": .string($0.label)]) })
        ]
        if entries.count > limit { answer["LastEvaluatedStreamArn"] = .string(entries[limit - 1].arn) }
        return JSON.object(answer).encoded()
    }

    static func requireStreamArn(_ json: JSON) throws(APIError) -> String {
        guard let arn = json["StreamArn"]?.stringValue else {
            throw .validation("1 validation error detected: Value null at 'streamArn' failed to satisfy constraint: Member must not be null")
        }
        return arn
    }

    func describeStream(_ json: JSON) throws -> [UInt8] {
        let (table, stream) = try stream(arn: try Self.requireStreamArn(json))
        let limit = try Self.limit(json, maximum: 100, default: 100)
        table.lock.lock()
        var shards = stream.shards
        let enabled = stream.enabled
        table.lock.unlock()
        if let start = json["ExclusiveStartShardId"]?.stringValue, let index = shards.firstIndex(where: { $0.id == start }) {
            shards.removeFirst(index + 1)
        }
        // Read under the lock: a shard's ending sequence number is set when it closes.
        table.lock.lock()
        let described: [JSON] = shards.prefix(limit).map { shard in
            var range: [String: JSON] = ["StartingSequenceNumber": .string(StreamLog.sequenceText(shard.startingSequence))]
            if let end = shard.endingSequence { range["EndingSequenceNumber"] = .string(StreamLog.sequenceText(end)) }
            var fields: [String: JSON] = ["ShardId": .string(shard.id), "SequenceNumberRange": .object(range)]
            if let parent = shard.parentId { fields["ParentShardId"] = .string(parent) }
            return .object(fields)
        }
        table.lock.unlock()
        var description: [String: JSON] = [
            "StreamArn": .string(stream.arn),
            "StreamLabel": .string(stream.label),
            "StreamStatus": .string(enabled ? "ENABLED" : "DISABLED"),
            "StreamViewType": .string(stream.viewType),
            "CreationRequestDateTime": .number(String(stream.createdAt)),
            "TableName": .string(table.name),
            "KeySchema": table.request["KeySchema"] ?? .array([]),
            "Shards": .array(described),
        ]
        if shards.count > limit { description["LastEvaluatedShardId"] = .string(shards[limit - 1].id) }
        return JSON.object(["StreamDescription": .object(description)]).encoded()
    }

    func getShardIterator(_ json: JSON) throws -> [UInt8] {
        let (table, stream) = try stream(arn: try Self.requireStreamArn(json))
        guard let shardId = json["ShardId"]?.stringValue else {
            throw APIError.validation("1 validation error detected: Value null at 'shardId' failed to satisfy constraint: Member must not be null")
        }
        guard let type = json["ShardIteratorType"]?.stringValue else {
            throw APIError.validation("1 validation error detected: Value null at 'shardIteratorType' failed to satisfy constraint: Member must not be null")
        }
        table.lock.lock()
        defer { table.lock.unlock() }
        guard let shard = stream.shard(shardId) else {
            throw APIError(type: "ResourceNotFoundException", message: "Requested resource not found: Shard does not exist")
        }
        let position: UInt64
        switch type {
        case "TRIM_HORIZON":
            position = shard.startingSequence
        case "LATEST":
            position = shard.endingSequence.map { $0 + 1 } ?? stream.nextSequence
        case "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER":
            guard let text = json["SequenceNumber"]?.stringValue else {
                throw APIError.validation("SequenceNumber is required for ShardIteratorType \(type)")
            }
            guard let sequence = StreamLog.sequence(text), sequence >= shard.startingSequence,
                sequence <= (shard.endingSequence ?? stream.nextSequence - 1)
            else {
                throw APIError.validation("Invalid SequenceNumber for shard \(shardId): \(text)")
            }
            position = type == "AT_SEQUENCE_NUMBER" ? sequence : sequence + 1
        default:
            throw APIError.validation(
                "1 validation error detected: Value '\(type)' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_SEQUENCE_NUMBER, TRIM_HORIZON]"
            )
        }
        let iterator = ShardIterator(table: table.name, streamLabel: stream.label, shardId: shard.id, position: position)
        return JSON.object(["ShardIterator": .string(iterator.encoded)]).encoded()
    }

    /// DynamoDB Streams' page limit: GetRecords returns at most 1 MB.
    static let recordsPageBytes = 1024 * 1024

    func getRecords(_ json: JSON) throws -> [UInt8] {
        guard let text = json["ShardIterator"]?.stringValue else {
            throw APIError.validation("1 validation error detected: Value null at 'shardIterator' failed to satisfy constraint: Member must not be null")
        }
        let limit = try Self.limit(json, maximum: 1000, default: 1000)
        guard let iterator = ShardIterator(text) else { throw APIError.validation("Invalid ShardIterator") }
        let now = Int(Date().timeIntervalSince1970 * 1000)
        if Double(now - iterator.issuedAt) / 1000 > streamSettings.iteratorLifetime {
            throw APIError(
                type: "ExpiredIteratorException",
                message:
                    "Iterator expired. The iterator was created at time \(iterator.issuedAt) while right now it is \(now) (lifetime \(streamSettings.iteratorLifetime) s)"
            )
        }
        let table = try self.table(iterator.table)
        table.lock.lock()
        defer { table.lock.unlock() }
        guard let stream = table.streams.first(where: { $0.label == iterator.streamLabel }), let shard = stream.shard(iterator.shardId) else {
            throw APIError(type: "ResourceNotFoundException", message: "Requested resource not found: Shard does not exist")
        }
        var out: [UInt8] = Array("{\"Records\":[".utf8)
        var index = StreamLog.firstIndex(shard.records, atOrAfter: iterator.position)
        var count = 0, bytes = 0
        var next = iterator.position
        while index < shard.records.count && count < limit {
            let record = shard.records[index]
            if count > 0 && bytes + record.sizeBytes > Self.recordsPageBytes { break }
            if count > 0 { out.append(UInt8(ascii: ",")) }
            Self.append(record, viewType: stream.viewType, to: &out)
            bytes += record.sizeBytes
            count += 1
            next = record.sequence + 1
            index += 1
        }
        out.append(UInt8(ascii: "]"))
        // A closed shard read to its end has no next iterator: the reader moves on to the children.
        if let end = shard.endingSequence, next > end {
        } else {
            let following = ShardIterator(table: table.name, streamLabel: stream.label, shardId: shard.id, position: next, issuedAt: now)
            out += Array(",\"NextShardIterator\":".utf8) + JSON.string(following.encoded).encoded()
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    static func append(_ record: StreamRecord, viewType: String, to out: inout [UInt8]) {
        var eventID = String(format: "%016llx", Table.hash(Array(String(record.sequence).utf8)))
        eventID += String(format: "%016llx", record.sequence)
        out += Array(
            #"{"eventID":"\#(eventID)","eventName":"\#(record.eventName)","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1","dynamodb":{"#
                .utf8)
        out += Array(#""ApproximateCreationDateTime":\#(record.createdAt),"Keys":"#.utf8) + record.keys
        if let image = record.newImage { out += Array(#","NewImage":"#.utf8) + image }
        if let image = record.oldImage { out += Array(#","OldImage":"#.utf8) + image }
        out += Array(
            #","SequenceNumber":"\#(StreamLog.sequenceText(record.sequence))","SizeBytes":\#(record.sizeBytes),"StreamViewType":"\#(viewType)"}}"#.utf8)
    }
}
