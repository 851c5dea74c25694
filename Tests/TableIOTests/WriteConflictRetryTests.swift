import DynamoClient
import DynamoCore
import Mappings
import TestSupport
import Testing

@testable import TableIO

/// Writes that meet a conflicting transaction or a write in another Region are refused, not applied:
/// the client sends them again and the run goes on, as the SDKs do. Through a real proxy in front of moto.
@Suite(needsLocalServer) struct WriteConflictRetryTests {
    func units(_ items: [Item]) -> [WriteUnit] {
        let page = PageRef(source: "s", segment: 0, sequence: 0)
        return items.map { WriteUnit(item: $0, key: ["pk": $0["pk"]!], size: dynamoDBItemSize($0), page: page) }
    }

    @Test(arguments: [ConflictPolicy.keepExisting, .fail])
    func aConditionalPutThatMeetsATransactionConflictIsRetried(policy: ConflictPolicy) async throws {
        let direct = makeClient(endpoint: localEndpoint)
        let table = try await makeTable(direct, prefix: "txn-conflict")
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        proxy.inject(.dynamoError(type: "TransactionConflictException"), operation: "PutItem", times: 2)
        let faulty = makeClient(endpoint: proxy.endpoint)
        let writer = TargetWriter(
            client: faulty, table: table, keySchema: try await direct.describeTable(table).keySchema,
            policy: policy, clock: TestClock())

        let items: [Item] = (0..<3).map { ["pk": .s("k-\($0)"), "v": .n(DynamoNumber($0))] }
        #expect(policy.mayKeepExisting, "the policy writes with conditional puts")
        for unit in units(items) { try await writer.conditionalPut(unit) }

        #expect(Set(try await scanAll(direct, table)) == Set(items))
        let puts = proxy.log.filter { $0.operation == "PutItem" }
        #expect(puts.count == 5, "three puts, two of them sent twice")
        #expect(puts.filter { $0.fault != nil }.count == 2)
        #expect(faulty.statistics.retries == 2)
        try await direct.deleteTable(table)
    }

    @Test func aBatchThatMeetsAReplicatedWriteConflictIsRetried() async throws {
        let direct = makeClient(endpoint: localEndpoint)
        let table = try await makeTable(direct, prefix: "replicated-conflict")
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        proxy.inject(.dynamoError(type: "ReplicatedWriteConflictException"), operation: "BatchWriteItem", times: 1)
        let faulty = makeClient(endpoint: proxy.endpoint)
        let writer = TargetWriter(
            client: faulty, table: table, keySchema: try await direct.describeTable(table).keySchema,
            clock: TestClock())

        let items: [Item] = (0..<5).map { ["pk": .s("r-\($0)")] }
        try await writer.write(units(items))

        #expect(Set(try await scanAll(direct, table)) == Set(items))
        #expect(proxy.log.filter { $0.operation == "BatchWriteItem" }.count == 2)
        try await direct.deleteTable(table)
    }
}
