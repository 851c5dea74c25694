import Backup
import Decommission
import DynamoClient
import DynamoCore
import Foundation
import TestSupport
import Testing

/// `decommission` meets AWS's control-plane timing and its approximate figures, answered by the fault
/// proxy the way AWS answers them; the waits are on a test clock.
@Suite(needsLocalServer)
struct DecommissionTimingTests {
    @Test func disablingDeletionProtectionThenDeletingWaitsForEachStepToBeAccepted() async throws {
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        let client = makeClient(endpoint: proxy.endpoint, retryPolicy: RetryPolicy(maxAttempts: 3))
        let f = try await DecommissionFixture.make(client, protectA: true)
        try await f.migrate()
        try await f.backUp([f.a, f.b, f.scratch])
        try await f.verify()
        proxy.clearLog()
        // The table is still settling: UpdateTable and DeleteTable are refused while it is in transition,
        // and the account is at its limit of concurrent control-plane calls for longer than the
        // client's own retries last.
        proxy.inject(.dynamoError(type: "ResourceInUseException"), operation: "UpdateTable", times: 2)
        proxy.inject(.dynamoError(type: "ResourceInUseException"), operation: "DeleteTable", times: 1)
        proxy.inject(.dynamoError(type: "LimitExceededException"), operation: "DeleteTable", times: 4)
        let decisions = try await f.decommission(execute: true, confirm: [f.a], disableProtection: true)
        #expect(decisions[f.a]?.decision == .deleted, "\(decisions[f.a]?.checks ?? [])")
        #expect(try await f.exists(f.a) == false)
        let operations = proxy.log.compactMap(\.operation)
        #expect(operations.filter { $0 == "UpdateTable" }.count == 3)
        #expect(operations.filter { $0 == "DeleteTable" }.count == 6)
        // UpdateTable accepted, then DescribeTable until ACTIVE, and only then DeleteTable.
        let lastUpdate = try #require(operations.lastIndex(of: "UpdateTable"))
        let firstDelete = try #require(operations.firstIndex(of: "DeleteTable"))
        #expect(lastUpdate < firstDelete)
        #expect(operations[lastUpdate..<firstDelete].contains("DescribeTable"))
        await f.cleanUp()
    }

    @Test func aBackupsApproximateItemCountDoesNotDecideWhereAChecksumIsRecorded() async throws {
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        let client = makeClient(endpoint: proxy.endpoint)
        let f = try await DecommissionFixture.make(client)
        try await f.migrate()
        try await f.recordedBackUp([f.a, f.b])
        try await f.verify()
        // DescribeBackup's ItemCount is six hours stale on AWS: it disagrees with the table's.
        proxy.inject(.rewriteMember("BackupDescription.SourceTableDetails.ItemCount", json: "999"), operation: "DescribeBackup", times: 100)
        let decisions = try await f.decommission(execute: true, confirm: [f.a])
        #expect(decisions[f.a]?.decision == .deleted, "\(decisions[f.a]?.checks ?? [])")
        let backup = try #require(decisions[f.a]?.checks.first { $0.name == "verified backup" })
        #expect(backup.passed)
        #expect(backup.evidence.contains("content checksum recorded at backup equals the table's now"))
        #expect(backup.evidence.hasSuffix("DynamoDB's approximate ItemCount 999 not used"))
        #expect(proxy.counters.applied(.rewriteMember) > 0)
        await f.cleanUp()
    }
}
