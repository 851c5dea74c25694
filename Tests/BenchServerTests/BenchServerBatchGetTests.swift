import DynamoClient
import DynamoCore
import Foundation
import TestSupport
import Testing

/// BatchGetItem and overlapping seeded tables: what the merge benchmark needs of the bench server.
struct BenchServerBatchGetTests {
    @Test("BatchGetItem answers the items that are there; --first-key shifts a seeded table's keys")
    func batchGetOfOverlappingSeeds() async throws {
        let server = try await BenchServer(arguments: [
            "--seed-table", "aaa", "--items", "10", "--seed-table", "bbb", "--items", "10", "--first-key", "5",
        ])
        defer { server.stop() }
        let client = makeClient(endpoint: server.endpoint)
        func key(_ i: Int) -> Item { ["pk": .s(String(format: "item-%09d", i))] }
        let keys = (0..<20).map(key)
        let b = try await client.batchGetItem(["bbb": Array(keys[0..<20])], consistentRead: true)
        #expect(Set((b.responses["bbb"] ?? []).map { ["pk": $0["pk"]!] as Item }) == Set((5..<15).map(key)))
        #expect(b.unprocessedKeys.isEmpty)
        let both = try await client.batchGetItem(["aaa": [key(9), key(10)], "bbb": [key(4), key(14)]])
        #expect(both.responses["aaa"]?.map { $0["pk"] } == [key(9)["pk"]])
        #expect(both.responses["bbb"]?.map { $0["pk"] } == [key(14)["pk"]])
        // The same key twice is refused, as DynamoDB refuses it.
        await #expect(throws: DynamoDBError.self) { _ = try await client.batchGetItem(["aaa": [key(1), key(1)]]) }
    }
}
