// The follow engine against the local server: positions before the copy, a writer during the copy and
// during the follow, drain, and the target equal to the projection of the source.
import DynamoClient
import DynamoCore
import Follow
import Foundation
import Mappings
import Pipeline
import RunState
import Synchronization
import TableIO
import TestSupport
import Testing

@Suite(needsLocalServer) struct FollowEngineTests {
    /// Runs copy + follow with a writer changing the source during the copy and during the follow.
    func copyAndFollow(client: DynamoDBClient, streamsEndpoint: String? = nil, seed: UInt64) async throws -> (FollowReport, ResolvedMapping, String, String, URL) {
        let source = try await makeStreamSource(client, prefix: "follow-src", count: 60)
        let target = source + "-dst"
        let mapping = try await resolve(followMapping(source: source, target: target), client: client)
        let state = TestEnvironment.temporaryDirectory("follow")
        var options = FollowOptions(stateDirectory: state, planFingerprint: "test")
        options.untilIdle = .seconds(3)
        options.pollInterval = .milliseconds(200)
        options.discoveryInterval = .seconds(2)
        let streams = streamsEndpoint.map { realClient($0) }
        let follower = StreamFollower(client: client, streams: streams, mapping: mapping, options: options)
        try StreamFollower.checkFollowable(mapping, resolvers: [])
        let arns = try await follower.prepareStreams(enable: false)
        try await follower.capturePositions(streamArns: arns, resume: false)

        // Changes while the copy runs (the scan pages slowly: 5 items a page).
        let writer = SourceWriter(client: client, table: source, initial: 60)
        let during = Task { try await writer.run(operations: 0..<80, seed: seed) }
        var migration = MigrationOptions(stateDirectory: state, planFingerprint: "test")
        migration.scanPageLimit = 5
        migration.segments = 2
        _ = try await Migrator(client: client, mapping: mapping, options: migration).run()
        try await during.value

        // Changes while the follow runs; the follow drains once they stop.
        let following = Task { try await follower.run() }
        try await writer.run(operations: 80..<160, seed: seed &+ 1)
        let report = try await following.value
        return (report, mapping, source, target, state)
    }

    @Test func theTargetEndsAsTheProjectionOfTheSourceAfterChangesDuringCopyAndFollow() async throws {
        let client = realClient()
        let (report, mapping, source, target, state) = try await copyAndFollow(client: client, seed: 13)
        try await expectTargetEqualsProjection(source: source, target: target, mapping: mapping, client: client)
        #expect(report.drained)
        #expect(report.recordsApplied > 0)
        #expect(report.sources.map(\.table) == [source])
        let positions = try #require(try LocalDirectoryStateStore(directory: state).loadStreamPositions())
        let outcome = try #require(positions.sources[source]?.outcome)
        #expect(outcome.lastRecordAt.map { $0 <= outcome.drainedAt } ?? true)
        #expect(positions.sources[source]?.shards.values.allSatisfy { $0.lastSequenceNumber != nil } == true)
    }

    /// Throttled GetRecords (retried by the client), an expired iterator (a new one after the last
    /// applied record), lost answers of GetRecords and PutItem (sent again): the same end state.
    @Test func throttlingExpiredIteratorsAndResetsChangeNothing() async throws {
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        let client = realClient(proxy.endpoint)
        proxy.inject(.dynamoError(type: "ProvisionedThroughputExceededException"), operation: "GetRecords", times: 3)
        proxy.inject(.dynamoError(type: "ExpiredIteratorException"), operation: "GetRecords", probability: 0.1, seed: 7)
        proxy.inject(.resetAfterForwarding, operation: "GetRecords", probability: 0.05, seed: 8)
        proxy.inject(.resetAfterForwarding, operation: "PutItem", probability: 0.05, seed: 9)
        let (report, mapping, source, target, _) = try await copyAndFollow(client: client, seed: 21)
        proxy.clearFaults()
        try await expectTargetEqualsProjection(source: source, target: target, mapping: mapping, client: realClient())
        #expect(report.drained)
        #expect(proxy.counters.applied(.dynamoError) >= 4)
        #expect(proxy.counters.applied(.resetAfterForwarding) > 0)
    }

    /// Positions taken by a run must be continued with --resume, never silently retaken; a copy that
    /// started without positions is refused, since its changes since are in no position.
    @Test func positionsAreNeverRetakenOverAnExistingFollowOrCopy() async throws {
        let client = realClient()
        let source = try await makeStreamSource(client, prefix: "follow-pos", count: 3)
        let mapping = try await resolve(followMapping(source: source, target: source + "-dst"), client: client)
        let state = TestEnvironment.temporaryDirectory("follow-pos")
        let follower = StreamFollower(client: client, mapping: mapping, options: FollowOptions(stateDirectory: state, planFingerprint: "fp"))
        let arns = try await follower.prepareStreams(enable: false)
        let first = try await follower.capturePositions(streamArns: arns, resume: false)
        await #expect(throws: FollowError.followExists(stateDirectory: state.path)) {
            try await follower.capturePositions(streamArns: arns, resume: false)
        }
        let resumed = try await follower.capturePositions(streamArns: arns, resume: true)
        #expect(resumed.sources.mapValues(\.shards) == first.sources.mapValues(\.shards))
        #expect(resumed.sources[source]?.streamArn == arns[source])

        let copied = TestEnvironment.temporaryDirectory("follow-copied")
        var checkpoint = MigrationCheckpoint(planFingerprint: "fp")
        checkpoint.sources["x"] = SourceProgress(source: source, target: source + "-dst", totalSegments: 1)
        try LocalDirectoryStateStore(directory: copied).saveCheckpoint(checkpoint)
        let late = StreamFollower(client: client, mapping: mapping, options: FollowOptions(stateDirectory: copied, planFingerprint: "fp"))
        await #expect(throws: FollowError.copyWithoutPositions(stateDirectory: copied.path)) {
            try await late.capturePositions(streamArns: arns, resume: true)
        }
    }

    @Test func aSourceWithoutStreamIsRefusedWithTheCommandAndEnabledOnlyWhenAsked() async throws {
        let client = realClient()
        let source = try await makeTable(client, prefix: "follow-nostream")
        let mapping = try await resolve(followMapping(source: source, target: source + "-dst"), client: client)
        let follower = StreamFollower(
            client: client, mapping: mapping, options: FollowOptions(stateDirectory: TestEnvironment.temporaryDirectory("f"), planFingerprint: "fp"))
        let command = "aws dynamodb update-table --table-name \(source) --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES"
        await #expect(throws: FollowError.noStream(table: source, viewType: nil, command: command)) {
            try await follower.prepareStreams(enable: false)
        }
        let arns = try await follower.prepareStreams(enable: true)
        #expect(arns[source]?.isEmpty == false)
        #expect(try await client.describeTable(source).stream == .newAndOldImages)
    }

    @Test func mergedTargetsAreRefusedUntilAResolverIsGiven() async throws {
        let yaml = """
            version: 1
            tables:
              - target: merged
                sources:
                  - table: a-table
                  - table: b-table
            """
        let mapping = try MappingLoader.parse(yaml: yaml, file: "m.yaml", env: nil).resolve(existingTables: ["a-table", "b-table"])
        #expect(throws: FollowError.self) { try StreamFollower.checkFollowable(mapping, resolvers: []) }
        try StreamFollower.checkFollowable(mapping, resolvers: ["merged"])
    }

    /// A position that fell out of the 24-hour window stops the follow loudly: the copy must restart.
    @Test func trimmedRecordsStopTheFollowSayingTheCopyMustRestart() async throws {
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        let client = realClient(proxy.endpoint)
        let source = try await makeStreamSource(client, prefix: "follow-trim", count: 3)
        let mapping = try await resolve(followMapping(source: source, target: source + "-dst"), client: client)
        let state = TestEnvironment.temporaryDirectory("follow-trim")
        var options = FollowOptions(stateDirectory: state, planFingerprint: "fp")
        options.untilIdle = .seconds(2)
        options.pollInterval = .milliseconds(100)
        let follower = StreamFollower(client: client, mapping: mapping, options: options)
        try await follower.capturePositions(streamArns: try await follower.prepareStreams(enable: false), resume: false)
        _ = try await Migrator(client: client, mapping: mapping, options: MigrationOptions(stateDirectory: state, planFingerprint: "fp")).run()
        proxy.inject(.dynamoError(type: "TrimmedDataAccessException"), operation: "GetRecords", times: 1)
        let error = await #expect(throws: FollowError.self) { try await follower.run() }
        guard case .trimmed(let table, _, _)? = error else {
            Issue.record("expected .trimmed, got \(String(describing: error))")
            return
        }
        #expect(table == source)
        #expect(error?.isUsage == false, "a failure (exit 1), not bad input")
        #expect(error?.description.contains("the copy must restart") == true)

        // Resumed more than 24 hours after the positions, with shards never read: refused before reading.
        var late = options
        late.clock = ShiftedDateClock(by: 25 * 3600)
        let lateFollower = StreamFollower(client: client, mapping: mapping, options: late)
        try await lateFollower.capturePositions(streamArns: [source: try #require(try await client.describeTable(source).raw["LatestStreamArn"]?.stringValue)], resume: true)
        await #expect(throws: FollowError.self) { try await lateFollower.run() }
    }
}
