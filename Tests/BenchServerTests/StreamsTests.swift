// The bench server's DynamoDB Streams: records, images, iterators, and shard lineage after splits.
import DynamoClient
import DynamoCore
import Foundation
import TestSupport
import Testing

/// Sends DynamoDB Streams operations (`X-Amz-Target: DynamoDBStreams_20120810.*`) on one connection.
final class StreamsCaller: @unchecked Sendable {
    let connection: RawHTTPConnection

    init(endpoint: String) throws { connection = try RawHTTPConnection(endpoint: endpoint) }

    /// The answer as JSON, or the error's short type.
    func call(_ operation: String, _ body: JSON) throws -> Outcome {
        let response = try connection.send(
            headers: [("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", "DynamoDBStreams_20120810.\(operation)")],
            body: body.encoded())
        let json = try JSON.parse(response.body)
        if response.status == 200 { return .answer(json) }
        return .error(ErrorCatalog.shortType(json["__type"]?.stringValue ?? "HTTP\(response.status)"))
    }

    func answer(_ operation: String, _ body: JSON) throws -> JSON {
        let outcome = try call(operation, body)
        guard case .answer(let json) = outcome else { throw StreamsCallError(operation: operation, outcome: outcome) }
        return json
    }

    /// Every shard of a stream (DescribeStream pages of `pageSize` shards followed).
    func shards(_ arn: String, pageSize: Int = 100) throws -> [JSON] {
        var shards: [JSON] = []
        var start: String?
        repeat {
            var body: [String: JSON] = ["StreamArn": .string(arn), "Limit": .number(String(pageSize))]
            if let start { body["ExclusiveStartShardId"] = .string(start) }
            let description = try answer("DescribeStream", .object(body))["StreamDescription"]
            shards += description?["Shards"]?.arrayValue ?? []
            start = description?["LastEvaluatedShardId"]?.stringValue
        } while start != nil
        return shards
    }

    /// Every record of one shard from TRIM_HORIZON, in GetRecords pages of `pageSize`, until the shard says it is
    /// done (closed) or a page is empty (open).
    func records(_ arn: String, shard: String, pageSize: Int = 1000) throws -> (records: [JSON], closedAtEnd: Bool) {
        var iterator = try answer(
            "GetShardIterator", .object(["StreamArn": .string(arn), "ShardId": .string(shard), "ShardIteratorType": .string("TRIM_HORIZON")]))[
                "ShardIterator"]?.stringValue
        var records: [JSON] = []
        while let current = iterator {
            let page = try answer("GetRecords", .object(["ShardIterator": .string(current), "Limit": .number(String(pageSize))]))
            let got = page["Records"]?.arrayValue ?? []
            records += got
            iterator = page["NextShardIterator"]?.stringValue
            if got.isEmpty && iterator != nil { return (records, false) }
        }
        return (records, true)
    }
}

struct StreamsCallError: Error, CustomStringConvertible {
    var operation: String
    var outcome: Outcome
    var description: String { "\(operation): \(outcome)" }
}

/// A table `pk` (S) with a NEW_AND_OLD_IMAGES stream, or none.
func createTableBody(_ table: String, stream: String? = "NEW_AND_OLD_IMAGES") -> String {
    let specification = stream.map { #","StreamSpecification":{"StreamEnabled":true,"StreamViewType":"\#($0)"}"# } ?? ""
    return """
        {"TableName":"\(table)","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],\
        "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"\(specification)}
        """
}

/// A record reduced to what a follower applies: event, key, new and old images (as items).
struct ChangeRecord: Equatable, CustomStringConvertible {
    var event: String
    var keys: Item
    var newImage: Item?
    var oldImage: Item?
    var description: String { "\(event) \(keys) new=\(newImage.map { "\($0)" } ?? "-") old=\(oldImage.map { "\($0)" } ?? "-")" }

    init(event: String, keys: Item, newImage: Item? = nil, oldImage: Item? = nil) {
        self.event = event
        self.keys = keys
        self.newImage = newImage
        self.oldImage = oldImage
    }

    init(_ record: JSON) throws {
        func item(_ json: JSON?) throws -> Item? {
            guard let json else { return nil }
            var reader = JSONReader(json.encoded())
            return try reader.readItem()
        }
        event = record["eventName"]?.stringValue ?? "?"
        keys = try item(record["dynamodb"]?["Keys"]) ?? [:]
        newImage = try item(record["dynamodb"]?["NewImage"])
        oldImage = try item(record["dynamodb"]?["OldImage"])
    }
}

func sequenceNumber(_ record: JSON) -> String { record["dynamodb"]?["SequenceNumber"]?.stringValue ?? "" }

@Suite("dynamo-bench-server: DynamoDB Streams", .serialized)
struct BenchServerStreamsTests {
    @Test("every change is one record with its new and old image, in order; a write that changes nothing is not recorded")
    func recordsEveryChange() async throws {
        let server = try await BenchServer()
        defer { server.stop() }
        let caller = RawCaller(endpoint: server.endpoint)
        let table = "streamed"
        let (created, _) = await caller.call("CreateTable", createTableBody(table))
        let arn = try #require(created.answer?["TableDescription"]?["LatestStreamArn"]?.stringValue)
        #expect(created.answer?["TableDescription"]?["StreamSpecification"]?["StreamViewType"]?.stringValue == "NEW_AND_OLD_IMAGES")

        let a1 = #"{"pk":{"S":"a"},"v":{"N":"1"}}"#, a2 = #"{"pk":{"S":"a"},"v":{"N":"2"},"tag":{"SS":["x"]}}"#
        for body in [
            #"{"TableName":"\#(table)","Item":\#(a1)}"#,
            // The same item again, attributes in another order and the number spelt differently: no change.
            #"{"TableName":"\#(table)","Item":{"v":{"N":"1.0"},"pk":{"S":"a"}}}"#,
            #"{"TableName":"\#(table)","Item":\#(a2)}"#,
        ] {
            #expect(await caller.call("PutItem", body).0.answer != nil)
        }
        let batch = #"{"RequestItems":{"\#(table)":[{"PutRequest":{"Item":{"pk":{"S":"b"},"w":{"BOOL":true}}}},{"DeleteRequest":{"Key":{"pk":{"S":"a"}}}}]}}"#
        #expect(await caller.call("BatchWriteItem", batch).0.answer?["UnprocessedItems"] == .object([:]))
        // Deleting a key that is not there changes nothing.
        #expect(await caller.call("DeleteItem", #"{"TableName":"\#(table)","Key":{"pk":{"S":"nobody"}}}"#).0.answer != nil)

        let streams = try StreamsCaller(endpoint: server.endpoint)
        let listed = try streams.answer("ListStreams", .object(["TableName": .string(table)]))["Streams"]?.arrayValue ?? []
        #expect(listed.map { $0["StreamArn"]?.stringValue } == [arn])
        let shards = try streams.shards(arn)
        try #require(shards.count == 1)
        #expect(shards[0]["ParentShardId"] == nil)
        #expect(shards[0]["SequenceNumberRange"]?["EndingSequenceNumber"] == nil)
        let shard = try #require(shards[0]["ShardId"]?.stringValue)
        let (records, closed) = try streams.records(arn, shard: shard)
        #expect(!closed)

        func item(_ text: String) throws -> Item { try JSONReader.parseItem(Array(text.utf8)) }
        let a = try item(#"{"pk":{"S":"a"}}"#), b = try item(#"{"pk":{"S":"b"}}"#)
        #expect(
            try records.map(ChangeRecord.init) == [
                ChangeRecord(event: "INSERT", keys: a, newImage: try item(a1)),
                ChangeRecord(event: "MODIFY", keys: a, newImage: try item(a2), oldImage: try item(a1)),
                ChangeRecord(event: "INSERT", keys: b, newImage: try item(#"{"pk":{"S":"b"},"w":{"BOOL":true}}"#)),
                ChangeRecord(event: "REMOVE", keys: a, oldImage: try item(a2)),
            ])
        // Sequence numbers: increasing, and longer than a UInt64 holds, as DynamoDB's are.
        let numbers = records.map(sequenceNumber)
        #expect(numbers == numbers.sorted() && Set(numbers).count == 4)
        #expect(numbers.allSatisfy { $0.count == 27 && UInt64($0) == nil })
        #expect(
            records.allSatisfy { $0["dynamodb"]?["StreamViewType"]?.stringValue == "NEW_AND_OLD_IMAGES" && $0["eventSource"]?.stringValue == "aws:dynamodb" })

        // AT_SEQUENCE_NUMBER and AFTER_SEQUENCE_NUMBER start at and after a record; LATEST sees only what comes next.
        func page(_ type: String, _ sequence: String? = nil) throws -> [String] {
            var body: [String: JSON] = ["StreamArn": .string(arn), "ShardId": .string(shard), "ShardIteratorType": .string(type)]
            if let sequence { body["SequenceNumber"] = .string(sequence) }
            let iterator = try #require(try streams.answer("GetShardIterator", .object(body))["ShardIterator"]?.stringValue)
            return try streams.answer("GetRecords", .object(["ShardIterator": .string(iterator)]))["Records"]?.arrayValue?.map(sequenceNumber) ?? []
        }
        #expect(try page("AT_SEQUENCE_NUMBER", numbers[1]) == Array(numbers[1...]))
        #expect(try page("AFTER_SEQUENCE_NUMBER", numbers[1]) == Array(numbers[2...]))
        let latest = try #require(
            try streams.answer("GetShardIterator", .object(["StreamArn": .string(arn), "ShardId": .string(shard), "ShardIteratorType": .string("LATEST")]))[
                "ShardIterator"]?.stringValue)
        #expect(await caller.call("PutItem", #"{"TableName":"\#(table)","Item":{"pk":{"S":"c"}}}"#).0.answer != nil)
        let after = try streams.answer("GetRecords", .object(["ShardIterator": .string(latest)]))["Records"]?.arrayValue ?? []
        #expect(
            try after.map(ChangeRecord.init) == [ChangeRecord(event: "INSERT", keys: try item(#"{"pk":{"S":"c"}}"#), newImage: try item(#"{"pk":{"S":"c"}}"#))])
    }

    @Test("--stream-split-every closes shards and opens children: read parents first, every key's changes arrive once and in order")
    func splitShardsKeepLineage() async throws {
        let server = try await BenchServer(arguments: ["--stream-split-every", "5"])
        defer { server.stop() }
        let caller = RawCaller(endpoint: server.endpoint)
        let table = "split"
        let arn = try #require(await caller.call("CreateTable", createTableBody(table)).0.answer?["TableDescription"]?["LatestStreamArn"]?.stringValue)
        // Three rounds over 20 keys: every key gets version 0, 1, 2 (60 records, a split every 5).
        for round in 0..<3 {
            for k in 0..<20 {
                let put = #"{"TableName":"\#(table)","Item":{"pk":{"S":"k\#(k)"},"version":{"N":"\#(round)"}}}"#
                #expect(await caller.call("PutItem", put).0.answer != nil)
            }
        }
        let streams = try StreamsCaller(endpoint: server.endpoint)
        // Small pages: DescribeStream's ExclusiveStartShardId and GetRecords' iterators are followed.
        let shards = try streams.shards(arn, pageSize: 3)
        let ids = shards.compactMap { $0["ShardId"]?.stringValue }
        #expect(Set(ids).count == shards.count)
        // Every parent is listed before its children; the roots are the one first shard.
        for (i, shard) in shards.enumerated() {
            if let parent = shard["ParentShardId"]?.stringValue {
                #expect(ids[..<i].contains(parent), "shard \(i)'s parent \(parent) is not listed before it")
            }
        }
        #expect(shards.filter { $0["ParentShardId"] == nil }.count == 1)
        let closed = shards.filter { $0["SequenceNumberRange"]?["EndingSequenceNumber"] != nil }
        #expect(closed.count >= 6)
        // A split has two children, each with half of the parent's keys.
        for parent in closed {
            #expect(shards.filter { $0["ParentShardId"] == parent["ShardId"] }.count == 2)
        }

        // Parent-first (breadth-first from the root) reading: each shard after its parent.
        var versions: [String: [Int]] = [:]
        var shardsOfKey: [String: Set<String>] = [:]
        var total = 0
        for shard in shards {
            let id = try #require(shard["ShardId"]?.stringValue)
            let (records, closedAtEnd) = try streams.records(arn, shard: id, pageSize: 2)
            // A closed shard ends its reading with no NextShardIterator; an open one does not.
            #expect(closedAtEnd == (shard["SequenceNumberRange"]?["EndingSequenceNumber"] != nil))
            if closedAtEnd {
                #expect(records.count == 5)
                #expect(records.last.map(sequenceNumber) == shard["SequenceNumberRange"]?["EndingSequenceNumber"]?.stringValue)
            }
            for record in records {
                let change = try ChangeRecord(record)
                guard case .s(let key) = change.keys["pk"], case .n(let version) = change.newImage?["version"] else {
                    Issue.record("unexpected record \(change)")
                    continue
                }
                versions[key, default: []].append(Int(version.text) ?? -1)
                shardsOfKey[key, default: []].insert(id)
                #expect(change.event == (Int(version.text) == 0 ? "INSERT" : "MODIFY"))
                total += 1
            }
        }
        #expect(total == 60)
        #expect(versions.count == 20)
        for (key, seen) in versions { #expect(seen == [0, 1, 2], "\(key): \(seen)") }
        // The lineage matters: some keys' changes continue in a child shard.
        #expect(shardsOfKey.values.contains { $0.count > 1 })
    }

    @Test("UpdateTable turns a stream on and off; seeded tables start with an empty stream; --stream-shards opens several roots")
    func updateTableAndSeededStreams() async throws {
        let server = try await BenchServer(arguments: [
            "--stream-shards", "4", "--seed-table", "seeded", "--items", "50", "--stream", "NEW_IMAGE",
        ])
        defer { server.stop() }
        let caller = RawCaller(endpoint: server.endpoint)
        let streams = try StreamsCaller(endpoint: server.endpoint)

        // The seeded items are the table's content, not changes: the stream starts empty.
        let seededArn = try #require(await caller.call("DescribeTable", #"{"TableName":"seeded"}"#).0.answer?["Table"]?["LatestStreamArn"]?.stringValue)
        let roots = try streams.shards(seededArn)
        #expect(roots.count == 4 && roots.allSatisfy { $0["ParentShardId"] == nil })
        #expect(try roots.allSatisfy { try streams.records(seededArn, shard: $0["ShardId"]?.stringValue ?? "").records.isEmpty })
        #expect(await caller.call("DeleteItem", #"{"TableName":"seeded","Key":{"pk":{"S":"item-000000007"}}}"#).0.answer != nil)
        let removals = try roots.flatMap { try streams.records(seededArn, shard: $0["ShardId"]?.stringValue ?? "").records }
        // NEW_IMAGE: a removal has no image at all.
        #expect(try removals.map(ChangeRecord.init) == [ChangeRecord(event: "REMOVE", keys: ["pk": .s("item-000000007")])])

        let table = "later"
        #expect(await caller.call("CreateTable", createTableBody(table, stream: nil)).0.answer?["TableDescription"]?["LatestStreamArn"] == nil)
        #expect(await caller.call("PutItem", #"{"TableName":"\#(table)","Item":{"pk":{"S":"before"}}}"#).0.answer != nil)
        let enable = #"{"TableName":"\#(table)","StreamSpecification":{"StreamEnabled":true,"StreamViewType":"KEYS_ONLY"}}"#
        let updated = await caller.call("UpdateTable", enable).0
        let arn = try #require(updated.answer?["TableDescription"]?["LatestStreamArn"]?.stringValue)
        #expect(await caller.call("UpdateTable", enable).0 == .error("ValidationException"))
        #expect(await caller.call("PutItem", #"{"TableName":"\#(table)","Item":{"pk":{"S":"after"},"x":{"S":"y"}}}"#).0.answer != nil)
        // Every stream of this server starts with 4 shards: read them all.
        func all() throws -> [JSON] {
            try streams.shards(arn).flatMap { try streams.records(arn, shard: $0["ShardId"]?.stringValue ?? "").records }
        }
        #expect(try streams.shards(arn).count == 4)
        #expect(try all().map(ChangeRecord.init) == [ChangeRecord(event: "INSERT", keys: ["pk": .s("after")])])

        // Off: no more records, the stream stays readable and says DISABLED.
        #expect(await caller.call("UpdateTable", #"{"TableName":"\#(table)","StreamSpecification":{"StreamEnabled":false}}"#).0.answer != nil)
        #expect(await caller.call("PutItem", #"{"TableName":"\#(table)","Item":{"pk":{"S":"off"}}}"#).0.answer != nil)
        #expect(try all().count == 1)
        #expect(try streams.answer("DescribeStream", .object(["StreamArn": .string(arn)]))["StreamDescription"]?["StreamStatus"]?.stringValue == "DISABLED")
        #expect(await caller.call("DescribeTable", #"{"TableName":"\#(table)"}"#).0.answer?["Table"]?["StreamSpecification"] == nil)
        // On again: a new stream, listed after the old one.
        let again = try #require(await caller.call("UpdateTable", enable).0.answer?["TableDescription"]?["LatestStreamArn"]?.stringValue)
        #expect(again != arn)
        let listed = try streams.answer("ListStreams", .object(["TableName": .string(table)]))["Streams"]?.arrayValue ?? []
        #expect(listed.map { $0["StreamArn"]?.stringValue } == [arn, again])
    }

    @Test("iterators: an expired one, a forged one, a sequence number outside the shard and unknown streams are refused as DynamoDB refuses them")
    func iteratorErrors() async throws {
        let server = try await BenchServer()
        defer { server.stop() }
        let caller = RawCaller(endpoint: server.endpoint)
        let table = "iterators"
        let arn = try #require(await caller.call("CreateTable", createTableBody(table)).0.answer?["TableDescription"]?["LatestStreamArn"]?.stringValue)
        #expect(await caller.call("PutItem", #"{"TableName":"\#(table)","Item":{"pk":{"S":"a"}}}"#).0.answer != nil)
        let streams = try StreamsCaller(endpoint: server.endpoint)
        let shard = try #require(try streams.shards(arn).first?["ShardId"]?.stringValue)

        // Iterators are valid for 15 minutes: one handed out 16 minutes ago is expired.
        let issued = Int(Date().timeIntervalSince1970 * 1000) - 16 * 60 * 1000
        let old = Data("bench-iterator|\(table)|\(arn.components(separatedBy: "/stream/")[1])|\(shard)|1|\(issued)".utf8).base64EncodedString()
        #expect(try streams.call("GetRecords", .object(["ShardIterator": .string(old)])) == .error("ExpiredIteratorException"))
        #expect(try streams.call("GetRecords", .object(["ShardIterator": .string("not an iterator")])) == .error("ValidationException"))
        #expect(
            try streams.call(
                "GetShardIterator",
                .object([
                    "StreamArn": .string(arn), "ShardId": .string(shard), "ShardIteratorType": .string("AT_SEQUENCE_NUMBER"),
                    "SequenceNumber": .string("4" + String(repeating: "9", count: 26)),
                ])) == .error("ValidationException"))
        #expect(
            try streams.call(
                "GetShardIterator", .object(["StreamArn": .string(arn), "ShardId": .string(shard), "ShardIteratorType": .string("AT_SEQUENCE_NUMBER")]))
                == .error("ValidationException"))
        #expect(
            try streams.call(
                "GetShardIterator", .object(["StreamArn": .string(arn), "ShardId": .string("shardId-nope"), "ShardIteratorType": .string("LATEST")]))
                == .error("ResourceNotFoundException"))
        #expect(try streams.call("DescribeStream", .object(["StreamArn": .string(arn + "x")])) == .error("ResourceNotFoundException"))
        #expect(try streams.call("GetRecords", .object(["ShardIterator": .string(old), "Limit": .number("1001")])) == .error("ValidationException"))
    }

    @Test("--write-load changes a streamed seeded table at a steady rate: exactly rate × seconds records, each a real change")
    func writeLoad() async throws {
        let server = try await BenchServer(arguments: [
            "--stream-split-every", "50", "--seed-table", "loaded", "--items", "100", "--stream", "NEW_AND_OLD_IMAGES",
            "--write-load", "400", "--write-load-seconds", "0.5",
        ])
        defer { server.stop() }
        let caller = RawCaller(endpoint: server.endpoint)
        let streams = try StreamsCaller(endpoint: server.endpoint)
        let arn = try #require(await caller.call("DescribeTable", #"{"TableName":"loaded"}"#).0.answer?["Table"]?["LatestStreamArn"]?.stringValue)
        // The load runs on its own; wait (bounded) until its 200 changes are all in the stream.
        var records: [JSON] = []
        for _ in 0..<100 {
            records = try streams.shards(arn).flatMap { try streams.records(arn, shard: $0["ShardId"]?.stringValue ?? "").records }
            if records.count >= 200 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(records.count == 200)
        let changes = try records.map(ChangeRecord.init)
        let inserts = changes.filter { $0.event == "INSERT" }.count, removals = changes.filter { $0.event == "REMOVE" }.count
        #expect(changes.allSatisfy { ["INSERT", "MODIFY", "REMOVE"].contains($0.event) })
        #expect(changes.filter { $0.event == "MODIFY" }.allSatisfy { $0.oldImage != nil && $0.newImage != nil && $0.oldImage != $0.newImage })
        // The table holds what the records say: seeded + inserted − removed.
        let count = await caller.call("Scan", #"{"TableName":"loaded","Select":"COUNT"}"#).0.answer?["Count"]
        #expect(count == .number(String(100 + inserts - removals)))
    }
}
