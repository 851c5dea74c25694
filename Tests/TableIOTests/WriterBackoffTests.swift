import DynamoClient
import DynamoCore
import Mappings
import TestSupport
import Testing

@testable import TableIO

/// The writer's backoff before resending UnprocessedItems waits on the clock it is given: a test clock
/// records the waits, and no real time passes.
@Suite(needsLocalServer) struct WriterBackoffTests {
    @Test func unprocessedItemsAreResentAfterWaitsOnTheInjectedClock() async throws {
        let client = makeClient(endpoint: localEndpoint)
        let table = try await makeTable(client, prefix: "writer-backoff")
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        proxy.inject(.unprocessedItems(fraction: 0.5), operation: "BatchWriteItem", times: 2)
        let clientClock = TestClock()
        let faulty = makeClient(endpoint: proxy.endpoint, sleeper: clientClock)
        let writerClock = TestClock()
        let schema = try await client.describeTable(table).keySchema
        // The limiter paces the resends on a clock of its own (its waits are not the backoff this test is about).
        let writer = TargetWriter(
            client: faulty, table: table, keySchema: schema, limiter: RateLimiter(unitsPerSecond: nil, clock: TestClock()),
            clock: writerClock)

        let items: [Item] = (0..<20).map { ["pk": .s("k-\($0)"), "v": .n(DynamoNumber($0))] }
        let page = PageRef(source: "s", segment: 0, sequence: 0)
        try await writer.write(items.map { WriteUnit(item: $0, key: ["pk": $0["pk"]!], size: dynamoDBItemSize($0), page: page) })

        // Two answers held half the batch back: two waits, both on the writer's clock, none on the client's.
        #expect(writerClock.recorded.count == 2)
        #expect(clientClock.recorded.isEmpty)
        #expect(Set(try await scanAll(client, table)) == Set(items))
        try await client.deleteTable(table)
    }
}
