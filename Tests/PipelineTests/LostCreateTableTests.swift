import DynamoClient
import DynamoCore
import Foundation
import Pipeline
import RunState
import TableIO
import TestSupport
import Testing

/// A target table we asked to create is ours: a lost CreateTable answer, or a kill between
/// CreateTable and the settings that follow it, must still end with the table fully set up.
@Suite(needsLocalServer)
struct LostCreateTableTests {
    let client = makeClient(endpoint: localEndpoint)
    let key = KeySchema(partitionKey: KeyAttribute(name: "pk", type: .string))

    func source(_ prefix: String, items: Int = 30) async throws -> String {
        let table = try await makeTable(client, prefix: prefix)
        try await writeAll(client, table, sampleItems(items))
        return table
    }

    func yaml(source: String, target: String) -> String {
        """
        version: 1
        tables:
          - source: \(source)
            target: \(target)
            settings:
              ttl: expiresAt
        """
    }

    func expectFullySetUp(_ target: String, source: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) async throws {
        let ttl = try await client.describeTimeToLive(target)
        #expect(ttl.isEnabled && ttl.attributeName == "expiresAt", "TTL of \(target): \(ttl)", sourceLocation: sourceLocation)
        #expect(try await client.describeContinuousBackups(table: target).isPointInTimeRecoveryEnabled, sourceLocation: sourceLocation)
        #expect(byKey(try await scanAll(client, target)) == byKey(try await scanAll(client, source)), sourceLocation: sourceLocation)
    }

    func checkpoint(_ state: URL) throws -> MigrationCheckpoint {
        try #require(try FileCheckpointStore(directory: state).load())
    }

    @Test func lostCreateTableAnswerIsAdoptedAndItsSettingsApplied() async throws {
        let source = try await source("lost-mig-src")
        let target = TestEnvironment.uniqueTableName("lost-mig-tgt")
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        proxy.inject(.resetAfterForwarding, operation: "CreateTable", times: 1)
        let faulty = makeClient(endpoint: proxy.endpoint)
        let state = TestEnvironment.temporaryDirectory("lost-mig")
        let (report, _) = try await migrate(yaml(source: source, target: target), client: faulty, stateDirectory: state)
        #expect(proxy.counters.applied(.resetAfterForwarding) == 1)
        #expect(report.createdTables == [target])
        #expect(report.itemsWritten == 30)
        try await expectFullySetUp(target, source: source)
        #expect(try checkpoint(state).targetCreations?[target]?.remaining == [])
        try await client.deleteTable(target)
        try await client.deleteTable(source)
    }

    /// A run killed after CreateTable (recorded) and before UpdateTimeToLive: --resume finishes it.
    @Test func resumeAfterAKillBetweenCreateTableAndTimeToLiveAppliesTheRest() async throws {
        let source = try await source("lost-kill-src")
        let target = try await makeTableNamed(TestEnvironment.uniqueTableName("lost-kill-tgt"))
        let state = TestEnvironment.temporaryDirectory("lost-kill")
        var recorded = MigrationCheckpoint(planFingerprint: "test")
        recorded.endpoint = client.configuration.endpoint
        recorded.targetCreations = [target: TargetCreation(table: target, done: [.createTable])]
        try FileCheckpointStore(directory: state).save(recorded)

        let (report, _) = try await migrate(yaml(source: source, target: target), client: client, stateDirectory: state) { $0.resume = true }
        #expect(report.createdTables == [target])
        #expect(report.itemsWritten == 30)
        try await expectFullySetUp(target, source: source)
        #expect(try checkpoint(state).targetCreations?[target]?.done == [.createTable, .timeToLive, .pointInTimeRecovery])
        try await client.deleteTable(target)
        try await client.deleteTable(source)
    }

    /// The first run recorded its intent, sent CreateTable (applied) and died before hearing back:
    /// a plain rerun (no --resume) is not told "nothing to resume" or "already exists": it adopts the table.
    @Test func rerunWithTheCreationIntentRecordedAdoptsTheTable() async throws {
        let source = try await source("lost-rerun-src")
        let target = try await makeTableNamed(TestEnvironment.uniqueTableName("lost-rerun-tgt"))
        let state = TestEnvironment.temporaryDirectory("lost-rerun")
        var recorded = MigrationCheckpoint(planFingerprint: "test")
        recorded.endpoint = client.configuration.endpoint
        recorded.targetCreations = [target: TargetCreation(table: target)]
        try FileCheckpointStore(directory: state).save(recorded)

        let (report, _) = try await migrate(yaml(source: source, target: target), client: client, stateDirectory: state)
        #expect(report.createdTables == [target])
        try await expectFullySetUp(target, source: source)
        try await client.deleteTable(target)
        try await client.deleteTable(source)
    }

    /// With the intent recorded but the table never made (killed before CreateTable went out),
    /// --resume creates it instead of saying there is nothing to resume.
    @Test func resumeWithTheIntentRecordedCreatesAMissingTable() async throws {
        let source = try await source("lost-none-src")
        let target = TestEnvironment.uniqueTableName("lost-none-tgt")
        let state = TestEnvironment.temporaryDirectory("lost-none")
        var recorded = MigrationCheckpoint(planFingerprint: "test")
        recorded.endpoint = client.configuration.endpoint
        recorded.targetCreations = [target: TargetCreation(table: target)]
        try FileCheckpointStore(directory: state).save(recorded)

        let (report, _) = try await migrate(yaml(source: source, target: target), client: client, stateDirectory: state) { $0.resume = true }
        #expect(report.createdTables == [target])
        try await expectFullySetUp(target, source: source)
        try await client.deleteTable(target)
        try await client.deleteTable(source)
    }

    /// A table that was there before the run (no intent recorded) is still not ours to change the TTL of.
    @Test func aPreExistingTargetKeepsItsOwnTimeToLive() async throws {
        let source = try await source("lost-pre-src", items: 5)
        let target = try await makeTableNamed(TestEnvironment.uniqueTableName("lost-pre-tgt"))
        let state = TestEnvironment.temporaryDirectory("lost-pre")
        let (report, _) = try await migrate(yaml(source: source, target: target), client: client, stateDirectory: state)
        #expect(report.createdTables == [])
        #expect(try await client.describeTimeToLive(target).isEnabled == false)
        #expect(try checkpoint(state).targetCreations == nil)
        try await client.deleteTable(target)
        try await client.deleteTable(source)
    }

    /// A CreateTable refused outright made no table: its intent is withdrawn, so no checkpoint is left
    /// behind and the operator can fix the mapping and rerun without --resume.
    @Test func aRefusedCreateTableLeavesNoCheckpoint() async throws {
        let source = try await source("lost-refused-src", items: 3)
        let target = TestEnvironment.uniqueTableName("lost-refused-tgt")
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        proxy.inject(.dynamoError(type: "ValidationException"), operation: "CreateTable", times: 1)
        let state = TestEnvironment.temporaryDirectory("lost-refused")
        await #expect(throws: DynamoDBError.self) {
            _ = try await migrate(yaml(source: source, target: target), client: makeClient(endpoint: proxy.endpoint), stateDirectory: state)
        }
        #expect(try FileCheckpointStore(directory: state).load() == nil)
        #expect(try await client.describeTableIfExists(target) == nil)
        try await client.deleteTable(source)
    }

    func makeTableNamed(_ name: String) async throws -> String {
        try await client.createTable(CreateTableInput(name: name, keySchema: key))
        try await client.waitUntilActive(name, pollInterval: .milliseconds(50))
        return name
    }
}
