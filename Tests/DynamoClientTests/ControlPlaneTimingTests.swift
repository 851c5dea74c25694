import AWSAuth
import DynamoClient
import DynamoCore
import Foundation
import Synchronization
import TestSupport
import Testing

/// AWS's control-plane timing, which moto does not have, answered the way AWS answers it by the fault
/// proxy in front of moto; every wait is on a test clock, so no real time passes.
@Suite(needsLocalServer)
struct ControlPlaneTimingTests {
    let client = makeClient(endpoint: localEndpoint)

    func operations(_ proxy: FaultProxy, _ name: String) -> Int {
        proxy.log.filter { $0.operation == name }.count
    }

    // MARK: ListBackups pacing

    @Test func listBackupsCallsArePacedToFiveASecondWithoutAFailedCall() async throws {
        let table = try await makeTable(client, prefix: "pace")
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        let clock = TestClock()
        let paced = makeClient(endpoint: proxy.endpoint, sleeper: clock)
        let start = clock.now
        for _ in 0..<10 { _ = try await paced.listBackups(table: table) }
        // The first call goes at once, each later one 200 ms after the one before: 10 calls in 1.8 s.
        #expect(clock.now - start == .milliseconds(1800))
        #expect(clock.recorded == Array(repeating: .milliseconds(200), count: 9))
        #expect(operations(proxy, "ListBackups") == 10)
        #expect(proxy.log.allSatisfy { $0.upstreamStatus == 200 })
        #expect(paced.statistics.retries == 0, "pacing, not retries")
        try await client.deleteTable(table)
    }

    @Test func listBackupsPacingIsSharedByEveryCallerOfTheClient() async throws {
        let table = try await makeTable(client, prefix: "pace-shared")
        let clock = TestClock()
        let paced = makeClient(endpoint: localEndpoint, sleeper: clock)
        let start = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<5 { group.addTask { _ = try await paced.listBackups(table: table) } }
            try await group.waitForAll()
        }
        // Five concurrent callers share the one rate: the last slot is 0.8 s after the first.
        #expect(clock.now - start >= .milliseconds(800))
        try await client.deleteTable(table)
    }

    @Test func thePacerReservesSlotsInOrderAndKeepsNoBurstAfterAQuietSpell() async {
        let clock = TestClock()
        let pacer = CallPacer(callsPerSecond: 5)
        await pacer.pace(on: clock)
        await pacer.pace(on: clock)
        clock.advance(by: .seconds(10))
        await pacer.pace(on: clock)
        await pacer.pace(on: clock)
        #expect(clock.recorded == [.milliseconds(200), .milliseconds(200)])
    }

    // MARK: Point-in-time recovery right after CreateTable

    @Test func pointInTimeRecoveryRefusedRightAfterCreationIsWaitedOut() async throws {
        let table = try await makeTable(client, prefix: "pitr-wait")
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        proxy.inject(.dynamoError(type: "ContinuousBackupsUnavailableException"), operation: "UpdateContinuousBackups", times: 3)
        let clock = TestClock()
        let faulty = makeClient(endpoint: proxy.endpoint, sleeper: clock)
        let result = try await faulty.enablePointInTimeRecovery(table: table)
        #expect(result.isPointInTimeRecoveryEnabled)
        #expect(try await client.describeContinuousBackups(table: table).isPointInTimeRecoveryEnabled)
        #expect(operations(proxy, "UpdateContinuousBackups") == 4)
        #expect(clock.recorded == [.seconds(1), .seconds(2), .seconds(4)], "backing off between tries")
        try await client.deleteTable(table)
    }

    @Test func pointInTimeRecoveryStillRefusedAtTheDeadlineSaysWhatDynamoDBKeptAnswering() async throws {
        let table = try await makeTable(client, prefix: "pitr-deadline")
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        proxy.inject(.dynamoError(type: "ContinuousBackupsUnavailableException"), operation: "UpdateContinuousBackups", times: 1000)
        let clock = TestClock()
        let faulty = makeClient(endpoint: proxy.endpoint, sleeper: clock)
        let start = clock.now
        do {
            try await faulty.enablePointInTimeRecovery(table: table, wait: ControlPlaneWait(timeout: .seconds(30)))
            Issue.record("expected a timeout")
        } catch {
            guard case .waitTimedOut(let subject, let state, let after) = error else { throw error }
            #expect(subject == table)
            #expect(state == "UpdateContinuousBackups to be accepted (DynamoDB kept answering ContinuousBackupsUnavailableException)")
            #expect(after == .seconds(30))
        }
        #expect(clock.now - start == .seconds(30))
        #expect(try await client.describeContinuousBackups(table: table).isPointInTimeRecoveryEnabled == false)
        try await client.deleteTable(table)
    }

    @Test func anotherRefusalOfPointInTimeRecoveryIsNotWaitedOut() async throws {
        let table = try await makeTable(client, prefix: "pitr-fatal")
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        proxy.inject(.dynamoError(type: "AccessDeniedException"), operation: "UpdateContinuousBackups", times: 1)
        let clock = TestClock()
        let faulty = makeClient(endpoint: proxy.endpoint, sleeper: clock)
        await #expect(throws: DynamoDBError.self) { try await faulty.enablePointInTimeRecovery(table: table) }
        #expect(operations(proxy, "UpdateContinuousBackups") == 1)
        #expect(clock.recorded.isEmpty)
        try await client.deleteTable(table)
    }

    // MARK: UpdateTable, then DeleteTable

    @Test func updateTableWaitsOutATransitionalStateAndUntilActiveAgain() async throws {
        let table = try await makeTable(client, prefix: "upd-wait")
        try await client.updateTable(UpdateTableInput(name: table, deletionProtection: true))
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        proxy.inject(.dynamoError(type: "ResourceInUseException"), operation: "UpdateTable", times: 2)
        // After it is accepted the table is UPDATING for a while, as on AWS.
        proxy.inject(.rewriteMember("Table.TableStatus", json: "\"UPDATING\""), operation: "DescribeTable", times: 2)
        let clock = TestClock()
        let faulty = makeClient(endpoint: proxy.endpoint, sleeper: clock)
        let updated = try await faulty.updateTableWhenReady(UpdateTableInput(name: table, deletionProtection: false))
        #expect(updated.status == "ACTIVE")
        #expect(updated.deletionProtection == false)
        #expect(operations(proxy, "UpdateTable") == 3)
        #expect(operations(proxy, "DescribeTable") == 3, "polled until ACTIVE")
        #expect(clock.recorded == [.seconds(1), .seconds(2), .seconds(1), .milliseconds(1500)])
        try await client.deleteTable(table)
    }

    @Test func deleteTableWaitsWhileTheTableIsUpdating() async throws {
        let table = try await makeTable(client, prefix: "del-wait")
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        proxy.inject(.dynamoError(type: "ResourceInUseException"), operation: "DeleteTable", times: 2)
        proxy.inject(.rewriteMember("Table.TableStatus", json: "\"UPDATING\""), operation: "DescribeTable", times: 2)
        let clock = TestClock()
        let faulty = makeClient(endpoint: proxy.endpoint, sleeper: clock)
        try await faulty.deleteTableWhenReady(table)
        #expect(operations(proxy, "DeleteTable") == 3)
        #expect(clock.recorded == [.seconds(1), .seconds(2)])
        try await client.waitUntilDeleted(table, pollInterval: .milliseconds(50))
    }

    @Test func deleteTableRefusedForATableAlreadyBeingDeletedIsOurEarlierRequest() async throws {
        let table = try await makeTable(client, prefix: "del-deleting")
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        proxy.inject(.dynamoError(type: "ResourceInUseException"), operation: "DeleteTable", times: 1)
        proxy.inject(.rewriteMember("Table.TableStatus", json: "\"DELETING\""), operation: "DescribeTable", times: 1)
        let clock = TestClock()
        let faulty = makeClient(endpoint: proxy.endpoint, sleeper: clock)
        try await faulty.deleteTableWhenReady(table)
        #expect(operations(proxy, "DeleteTable") == 1, "DELETING: not sent again")
        #expect(clock.recorded.isEmpty)
        try await client.deleteTable(table)
    }

    @Test func controlPlaneCallsOverTheAccountLimitQueue() async throws {
        let table = try await makeTable(client, prefix: "limit")
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        // More refusals than the client's own retries absorb: the caller keeps waiting its turn.
        proxy.inject(.dynamoError(type: "LimitExceededException"), operation: "DeleteTable", times: 5)
        let faulty = makeClient(endpoint: proxy.endpoint, retryPolicy: RetryPolicy(maxAttempts: 2))
        try await faulty.deleteTableWhenReady(table)
        #expect(operations(proxy, "DeleteTable") == 6)
        try await client.waitUntilDeleted(table, pollInterval: .milliseconds(50))
    }

    @Test func createTableOverTheAccountLimitQueuesAndIsNotTakenForALostAnswer() async throws {
        let name = TestEnvironment.uniqueTableName("limit-create")
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        proxy.inject(.dynamoError(type: "LimitExceededException"), operation: "CreateTable", times: 5)
        let faulty = makeClient(endpoint: proxy.endpoint, retryPolicy: RetryPolicy(maxAttempts: 2))
        let input = CreateTableInput(
            name: name, keySchema: KeySchema(partitionKey: KeyAttribute(name: "pk", type: .string)),
            billingMode: .payPerRequest)
        let (table, adopted) = try await faulty.createOrAdoptTable(input, pollInterval: .milliseconds(50))
        #expect(table.status == "ACTIVE")
        #expect(adopted == false)
        #expect(operations(proxy, "CreateTable") == 6)
        try await client.deleteTable(name)
    }
}
