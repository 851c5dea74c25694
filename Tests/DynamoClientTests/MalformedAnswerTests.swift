import DynamoClient
import DynamoCore
import Foundation
import TestSupport
import Testing

/// An endpoint whose answer lacks a member DynamoDB always sends is broken, not empty: each read path
/// says so instead of taking the answer for "no items" / "no tables". The answers come through a real
/// proxy in front of the local server that removes the member (with a correct x-amz-crc32).
@Suite(needsLocalServer)
struct MalformedAnswerTests {
    let direct = makeClient(endpoint: localEndpoint)

    /// The description of the error `body` throws, or a recorded issue when it does not throw.
    func failure(_ body: () async throws -> Void) async -> String {
        do {
            try await body()
            Issue.record("no error")
            return ""
        } catch {
            return "\(error)"
        }
    }

    @Test func answersMissingTheirRequiredMemberAreErrors() async throws {
        let table = try await makeTable(direct, prefix: "malformed")
        try await writeAll(direct, table, sampleItems(3))
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        let client = makeClient(endpoint: proxy.endpoint)

        proxy.inject(.rewriteMember("Items", json: nil), operation: "Scan", times: 1)
        #expect(
            await failure { _ = try await client.scan(ScanInput(table: table)) }
                == "Scan on table \(table): the endpoint's answer is not valid DynamoDB JSON (the answer has no Items); attempts: 1")

        proxy.inject(.rewriteMember("Items", json: nil), operation: "Query", times: 1)
        #expect(
            await failure {
                _ = try await client.query(QueryInput(table: table, keyConditionExpression: "pk = :p", expressionAttributeValues: [":p": .s("item-1")]))
            } == "Query on table \(table): the endpoint's answer is not valid DynamoDB JSON (the answer has no Items); attempts: 1")

        proxy.inject(.rewriteMember("Responses", json: nil), operation: "BatchGetItem", times: 1)
        #expect(
            await failure { _ = try await client.batchGetItem([table: [["pk": .s("item-1")]]]) }
                == "BatchGetItem on table \(table): the endpoint's answer is not valid DynamoDB JSON (the answer has no Responses); attempts: 1")

        proxy.inject(.rewriteMember("TableNames", json: nil), operation: "ListTables", times: 1)
        #expect(await failure { _ = try await client.listTables() }.contains("the answer has no TableNames"))

        proxy.inject(.rewriteMember("Table", json: nil), operation: "DescribeTable", times: 1)
        #expect(
            await failure { _ = try await client.describeTable(table) }
                == "DescribeTable on table \(table): the endpoint's answer is not valid DynamoDB JSON (no TableName); attempts: 1")

        // A listing whose next page starts where an earlier one did would never end.
        proxy.inject(.rewriteMember("LastEvaluatedTableName", json: #""\#(table)""#), operation: "ListTables", times: 2)
        #expect(
            await failure { _ = try await client.listTables() }
                == "ListTables: the endpoint's answer is not valid DynamoDB JSON (LastEvaluatedTableName \(table) came back a second time; the listing would never end); attempts: 1"
        )

        // GetItem without Item is DynamoDB's own answer for "no such key", not a broken one.
        proxy.inject(.rewriteMember("Item", json: nil), operation: "GetItem", times: 1)
        #expect(try await client.getItem(table: table, key: ["pk": .s("item-1")]) == nil)

        // The same calls through the proxy without faults: whole answers.
        #expect(try await client.scan(ScanInput(table: table)).items.count == 3)
        #expect(try await client.batchGetItem([table: [["pk": .s("item-1")]]]).responses[table]?.count == 1)
        #expect(proxy.counters.applied(.rewriteMember) == 8)
        try await direct.deleteTable(table)
    }
}
