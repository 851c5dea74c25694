import DynamoClient
import DynamoCore
import Foundation
import Pipeline
import RunState
import TableIO
import TestSupport
import Testing

/// `migrate` meets AWS's control-plane timing (answered by the fault proxy the way AWS answers it):
/// point-in-time recovery refused right after CreateTable, and a source's encryption key.
@Suite(needsLocalServer)
struct ControlPlaneTimingMigrateTests {
    let client = makeClient(endpoint: localEndpoint)

    func source(_ prefix: String) async throws -> String {
        let table = try await makeTable(client, prefix: prefix)
        try await writeAll(client, table, sampleItems(20))
        return table
    }

    func yaml(source: String, target: String) -> String {
        """
        version: 1
        tables:
          - source: \(source)
            target: \(target)
            settings:
              pitr: true
        """
    }

    @Test func pointInTimeRecoveryRefusedRightAfterTheTargetTurnsActiveIsWaitedOut() async throws {
        let source = try await source("pitr-mig-src")
        let target = TestEnvironment.uniqueTableName("pitr-mig-tgt")
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        proxy.inject(.dynamoError(type: "ContinuousBackupsUnavailableException"), operation: "UpdateContinuousBackups", times: 3)
        let clock = TestClock()
        let faulty = makeClient(endpoint: proxy.endpoint, sleeper: clock)
        let state = TestEnvironment.temporaryDirectory("pitr-mig")
        let (report, _) = try await migrate(yaml(source: source, target: target), client: faulty, stateDirectory: state)
        #expect(report.createdTables == [target])
        #expect(report.itemsWritten == 20)
        #expect(proxy.counters.applied(.dynamoError) == 3)
        #expect(proxy.log.filter { $0.operation == "UpdateContinuousBackups" }.count == 4)
        #expect(try await client.describeContinuousBackups(table: target).isPointInTimeRecoveryEnabled)
        #expect(try #require(try FileCheckpointStore(directory: state).load()).targetCreations?[target]?.remaining == [])
        try await client.deleteTable(target)
        try await client.deleteTable(source)
    }

    @Test func aLostCreateTableAnswerThenPointInTimeRecoveryRefusedStillEndsFullySetUp() async throws {
        let source = try await source("pitr-lost-src")
        let target = TestEnvironment.uniqueTableName("pitr-lost-tgt")
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        proxy.inject(.resetAfterForwarding, operation: "CreateTable", times: 1)
        proxy.inject(.dynamoError(type: "ContinuousBackupsUnavailableException"), operation: "UpdateContinuousBackups", times: 2)
        let faulty = makeClient(endpoint: proxy.endpoint)
        let state = TestEnvironment.temporaryDirectory("pitr-lost")
        let (report, _) = try await migrate(yaml(source: source, target: target), client: faulty, stateDirectory: state)
        #expect(proxy.counters.applied(.resetAfterForwarding) == 1)
        #expect(report.createdTables == [target])
        #expect(report.itemsWritten == 20)
        #expect(proxy.log.filter { $0.operation == "UpdateContinuousBackups" }.count == 3)
        #expect(try await client.describeContinuousBackups(table: target).isPointInTimeRecoveryEnabled)
        try await client.deleteTable(target)
        try await client.deleteTable(source)
    }

    /// A source encrypted with the AWS-managed key is inherited as "KMS, no key named" (naming the
    /// source account's `aws/dynamodb` key fails elsewhere); a customer-managed key is passed on.
    @Test(
        arguments: [
            ("arn:aws:kms:us-east-1:123456789012:alias/aws/dynamodb", nil),
            ("alias/aws/dynamodb", nil),
            (
                "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
            ),
        ] as [(String, String?)])
    func anInheritedKMSKeyIsNamedOnlyWhenCustomerManaged(sourceKey: String, expectedKey: String?) async throws {
        let source = try await makeTable(client, prefix: "kms-src")
        let target = TestEnvironment.uniqueTableName("kms-tgt")
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        proxy.inject(
            .rewriteMember("Table.SSEDescription", json: #"{"Status":"ENABLED","SSEType":"KMS","KMSMasterKeyArn":"\#(sourceKey)"}"#),
            operation: "DescribeTable", times: 1)
        let faulty = makeClient(endpoint: proxy.endpoint)
        let described = try await faulty.describeTable(source)
        #expect(described.sse == SSESpecification(enabled: true, kmsKeyId: sourceKey))
        let resolved = try await resolve(yaml(source: source, target: target), client: client)
        let blueprint = TargetBlueprint.make(for: resolved.targets[0], sources: [described], sourceTTL: nil, sourceTags: [:])
        #expect(blueprint.table.sse == SSESpecification(enabled: true, kmsKeyId: expectedKey))
        #expect(blueprint.lostSettings.isEmpty, "the encryption is kept: \(blueprint.lostSettings)")
        // A source without an SSEDescription key at all (KMS with the AWS-managed key, as some answers have it).
        proxy.inject(.rewriteMember("Table.SSEDescription", json: #"{"Status":"ENABLED","SSEType":"KMS"}"#), operation: "DescribeTable", times: 1)
        let bare = try await faulty.describeTable(source)
        let bareBlueprint = TargetBlueprint.make(for: resolved.targets[0], sources: [bare], sourceTTL: nil, sourceTags: [:])
        #expect(bareBlueprint.table.sse == SSESpecification(enabled: true, kmsKeyId: nil))
        try await client.deleteTable(source)
    }
}
