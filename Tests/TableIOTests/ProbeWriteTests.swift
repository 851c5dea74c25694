import DynamoClient
import DynamoCore
import Mappings
import TestSupport
import Testing

@testable import TableIO

/// The probe mode (BatchGetItem, then BatchWriteItem of the absent keys) against items another writer
/// put in the target before the probe: the policy decides for them exactly as a conditional put would.
@Suite(needsLocalServer) struct ProbeWriteTests {
    let client = makeClient(endpoint: localEndpoint)

    func units(_ items: [Item]) -> [WriteUnit] {
        let page = PageRef(source: "t/s", segment: 0, sequence: 0)
        return items.map { WriteUnit(item: $0, key: ["pk": $0["pk"]!], size: dynamoDBItemSize($0), page: page) }
    }

    func writer(_ table: String, _ policy: ConflictPolicy, acknowledged: Locked<(Int, Int)>) async throws -> TargetWriter {
        var writer = TargetWriter(
            client: client, table: table, keySchema: try await client.describeTable(table).keySchema, policy: policy,
            clock: TestClock(), acknowledge: { _, count, kept in acknowledged.withLock { $0.0 += count; $0.1 += kept } })
        writer.mode = .probe
        return writer
    }

    @Test func keepExistingLeavesWhatIsThereAndWritesTheRest() async throws {
        let table = try await makeTable(client, prefix: "probe-keep")
        let there: [Item] = (0..<10).map { ["pk": .s("k\($0)"), "who": .s("other writer")] }
        try await writeAll(client, table, there)
        let incoming: [Item] = (5..<25).map { ["pk": .s("k\($0)"), "who": .s("migration")] }
        let acknowledged = Locked((0, 0))
        try await writer(table, .keepExisting, acknowledged: acknowledged).send(units(incoming))

        let expected = Set(there + incoming.filter { Int($0["pk"]!.stringValue!.dropFirst())! >= 10 })
        #expect(Set(try await scanAll(client, table)) == expected)
        #expect(acknowledged.withLock { $0 } == (20, 5), "every unit acknowledged, five of them kept")
        try await client.deleteTable(table)
    }

    @Test func failSkipsIdenticalItemsAndStopsAtADifferentOne() async throws {
        let table = try await makeTable(client, prefix: "probe-fail")
        let same: Item = ["pk": .s("same"), "v": .n(DynamoNumber(1))]
        let differs: Item = ["pk": .s("differs"), "v": .n(DynamoNumber(1))]
        try await writeAll(client, table, [same, differs])
        let acknowledged = Locked((0, 0))
        let fail = try await writer(table, .fail, acknowledged: acknowledged)

        try await fail.send(units([same, ["pk": .s("new"), "v": .n(DynamoNumber(3))]]))
        #expect(acknowledged.withLock { $0 } == (2, 1))
        do {
            try await fail.send(units([["pk": .s("differs"), "v": .n(DynamoNumber(2))], ["pk": .s("later"), "v": .n(DynamoNumber(4))]]))
            Issue.record("a different item under an existing key was not a conflict")
        } catch PipelineError.conflict(let t, let key, let source) {
            #expect(t == table)
            #expect(key == "pk={\"S\":\"differs\"}")
            #expect(source == "t/s")
        }
        #expect(Set(try await scanAll(client, table)) == [same, differs, ["pk": .s("new"), "v": .n(DynamoNumber(3))]], "nothing of the failed batch written")
        try await client.deleteTable(table)
    }
}
