// Shard lineage through the whole follower: a stream with a split (served by a real HTTP server with the
// records of a parent and its children; the writes go to the local DynamoDB), read in lineage order.
import DynamoClient
import DynamoCore
import Follow
import Foundation
import Mappings
import RunState
import Synchronization
import TestSupport
import Testing

/// A DynamoDB Streams endpoint with fixed shards: `p` (closed) split into `c1` (closed) and `c2` (open);
/// `c1` split into `g` (open). Every record changes `k1` or `k2`, so a child read before its parent would
/// leave an older version in the target.
final class LineageStream: Sendable {
    struct Shard { var id: String; var parent: String?; var closed: Bool; var records: [(key: String, version: Int)] }
    let shards: [Shard] = [
        Shard(id: "p", parent: nil, closed: true, records: [("k1", 1), ("k2", 1), ("k1", 2)]),
        Shard(id: "c1", parent: "p", closed: true, records: [("k1", 3)]),
        Shard(id: "c2", parent: "p", closed: false, records: [("k2", 2)]),
        Shard(id: "g", parent: "c1", closed: false, records: [("k1", 4)]),
    ]
    /// Each GetRecords that returned records or ended a shard, in the order served: "p", "p:end", ...
    let served = Mutex<[String]>([])
    let created = Date().timeIntervalSince1970

    func answer(_ request: ServedRequest) -> ServedAnswer {
        let target = request.header("X-Amz-Target") ?? ""
        let body = (try? JSON.parse(request.body)) ?? .null
        switch target {
        case "DynamoDBStreams_20120810.DescribeStream":
            let list = shards.enumerated().map { index, s in
                let parent = s.parent.map { #","ParentShardId":"\#($0)""# } ?? ""
                let end = s.closed ? #","EndingSequenceNumber":"\#(index * 100 + 99)""# : ""
                return #"{"ShardId":"\#(s.id)"\#(parent),"SequenceNumberRange":{"StartingSequenceNumber":"\#(index * 100)"\#(end)}}"#
            }
            return .json(
                #"{"StreamDescription":{"StreamArn":"arn:lineage","StreamStatus":"ENABLED","StreamViewType":"NEW_AND_OLD_IMAGES","Shards":[\#(list.joined(separator: ","))]}}"#
            )
        case "DynamoDBStreams_20120810.GetShardIterator":
            let shard = body["ShardId"]?.stringValue ?? ""
            var position = 0
            if let after = body["SequenceNumber"]?.stringValue, let n = Int(after) { position = n % 100 + 1 }
            return .json(#"{"ShardIterator":"\#(shard):\#(position)"}"#)
        case "DynamoDBStreams_20120810.GetRecords":
            let parts = (body["ShardIterator"]?.stringValue ?? "").split(separator: ":")
            guard parts.count == 2, let index = shards.firstIndex(where: { $0.id == parts[0] }), let position = Int(parts[1]) else {
                return .json(#"{"__type":"com.amazonaws.dynamodb.v20120810#ValidationException","message":"bad iterator"}"#, status: 400)
            }
            let shard = shards[index]
            let records = shard.records.enumerated().dropFirst(position).map { offset, change in
                let image = #"{"pk":{"S":"\#(change.key)"},"v":{"N":"\#(change.version)"}}"#
                let old = #"{"pk":{"S":"\#(change.key)"},"v":{"N":"\#(change.version - 1)"}}"#
                return
                    #"{"eventName":"MODIFY","dynamodb":{"ApproximateCreationDateTime":\#(created),"Keys":{"pk":{"S":"\#(change.key)"}},"NewImage":\#(image),"OldImage":\#(old),"SequenceNumber":"\#(index * 100 + offset)"}}"#
            }
            let ended = shard.closed
            if !records.isEmpty { served.withLock { $0.append(shard.id) } }
            if ended { served.withLock { $0.append("\(shard.id):end") } }
            let next = ended ? "null" : #""\#(shard.id):\#(shard.records.count)""#
            return .json(#"{"Records":[\#(records.joined(separator: ","))],"NextShardIterator":\#(next)}"#)
        default:
            return .json(#"{"__type":"com.amazonaws.dynamodb.v20120810#UnknownOperationException","message":"\#(target)"}"#, status: 400)
        }
    }
}

@Suite(needsLocalServer) struct ShardLineageFollowTests {
    @Test func parentsAreReadToTheirEndBeforeTheirChildrenAndTheTargetEndsAtTheNewestVersion() async throws {
        let stream = LineageStream()
        let server = try RoutedHTTPServer { stream.answer($0) }
        defer { server.stop() }
        let client = realClient()
        let source = try await makeTable(client, prefix: "lineage-src")
        let target = try await makeTable(client, prefix: "lineage-dst")
        let yaml = "version: 1\ntables:\n  - source: \(source)\n    target: \(target)\n"
        let mapping = try await resolve(yaml, client: client)
        var options = FollowOptions(stateDirectory: TestEnvironment.temporaryDirectory("lineage"), planFingerprint: "fp")
        options.untilIdle = .seconds(1)
        options.pollInterval = .milliseconds(50)
        let follower = StreamFollower(client: client, streams: realClient(server.endpoint), mapping: mapping, options: options)
        try await follower.capturePositions(streamArns: [source: "arn:lineage"], resume: false)
        let report = try await follower.run()
        #expect(report.drained)
        #expect(report.recordsApplied == 6)

        let order = stream.served.withLock { $0 }
        func index(_ event: String) throws -> Int { try #require(order.firstIndex(of: event), "\(event) never served: \(order)") }
        #expect(try index("p:end") < index("c1"))
        #expect(try index("p:end") < index("c2"))
        #expect(try index("c1:end") < index("g"))
        #expect(order.filter { $0 == "p" }.count == 1, "the parent's records are read once")

        let items = Set(try await scanAll(client, target))
        #expect(items == [["pk": .s("k1"), "v": .n(DynamoNumber(4))], ["pk": .s("k2"), "v": .n(DynamoNumber(2))]])
        let positions = try #require(try LocalDirectoryStateStore(directory: options.stateDirectory).loadStreamPositions())
        #expect(positions.sources[source]?.shards.mapValues(\.finished) == ["p": true, "c1": true, "c2": false, "g": false])
        #expect(positions.sources[source]?.shards["g"]?.lastSequenceNumber == "300")
    }
}
