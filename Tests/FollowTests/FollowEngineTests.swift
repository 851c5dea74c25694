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
    func copyAndFollow(
        client: DynamoDBClient, streamsEndpoint: String? = nil, seed: UInt64
    ) async throws -> (FollowReport, ResolvedMapping, String, String, URL) {
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
    /// applied record), lost answers of GetRecords and PutItem (sent again), UnprocessedItems (resent):
    /// the same end state.
    @Test func throttlingExpiredIteratorsAndResetsChangeNothing() async throws {
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        let client = realClient(proxy.endpoint)
        proxy.inject(.dynamoError(type: "ProvisionedThroughputExceededException"), operation: "GetRecords", times: 3)
        proxy.inject(.dynamoError(type: "ExpiredIteratorException"), operation: "GetRecords", probability: 0.1, seed: 7)
        proxy.inject(.resetAfterForwarding, operation: "GetRecords", probability: 0.05, seed: 8)
        proxy.inject(.resetAfterForwarding, operation: "PutItem", probability: 0.05, seed: 9)
        proxy.inject(.unprocessedItems(fraction: 0.5), operation: "BatchWriteItem", probability: 0.3, seed: 10)
        let (report, mapping, source, target, _) = try await copyAndFollow(client: client, seed: 21)
        proxy.clearFaults()
        try await expectTargetEqualsProjection(source: source, target: target, mapping: mapping, client: realClient())
        #expect(report.drained)
        #expect(proxy.counters.applied(.dynamoError) >= 4)
        #expect(proxy.counters.applied(.resetAfterForwarding) > 0)
        #expect(proxy.counters.applied(.unprocessedItems) > 0)
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
        try await lateFollower.capturePositions(
            streamArns: [source: try #require(try await client.describeTable(source).raw["LatestStreamArn"]?.stringValue)], resume: true)
        await #expect(throws: FollowError.self) { try await lateFollower.run() }
    }

    /// A copy stopped half way (positions already taken) and resumed by a new process: the positions are
    /// loaded, not retaken, so the changes made while nothing ran are applied too.
    @Test func aCopyInterruptedAfterThePositionsResumesWithThem() async throws {
        let client = realClient()
        let source = try await makeStreamSource(client, prefix: "follow-int", count: 60)
        let target = source + "-dst"
        let mapping = try await resolve(followMapping(source: source, target: target), client: client)
        let state = TestEnvironment.temporaryDirectory("follow-int")
        var options = FollowOptions(stateDirectory: state, planFingerprint: "fp")
        options.untilIdle = .seconds(2)
        options.pollInterval = .milliseconds(100)
        let first = StreamFollower(client: client, mapping: mapping, options: options)
        let arns = try await first.prepareStreams(enable: false)
        try await first.capturePositions(streamArns: arns, resume: false)
        var copy = MigrationOptions(stateDirectory: state, planFingerprint: "fp")
        copy.scanPageLimit = 1
        copy.segments = 1
        let stopped = Migrator(client: client, mapping: mapping, options: copy)
        let writer = SourceWriter(client: client, table: source, initial: 60)
        // Stopped (as by Ctrl-C or a crash) once the first items are written: 60 one-item pages cannot all
        // be written before the stop lands.
        let during = Task { try await writer.run(operations: 0..<20, seed: 5) }
        let stopper = Task {
            while stopped.liveStatistics().values.reduce(0, { $0 + $1.itemsWritten }) == 0 { try await Task.sleep(for: .milliseconds(2)) }
            stopped.requestStop()
        }
        let partial = try await stopped.run()
        try await stopper.value
        try await during.value
        #expect(partial.interrupted, "the copy was meant to stop half way")
        try await writer.run(operations: 20..<60, seed: 6)

        copy.resume = true
        let finished = try await Migrator(client: client, mapping: mapping, options: copy).run()
        #expect(!finished.interrupted)
        let second = StreamFollower(client: client, mapping: mapping, options: options)
        try await second.capturePositions(streamArns: arns, resume: true)
        let report = try await second.run()
        #expect(report.drained)
        try await expectTargetEqualsProjection(source: source, target: target, mapping: mapping, client: client)
    }

    /// A target with a resolver: every key a record touches is set to what the resolver says, whatever the
    /// record's own images say (the merge case).
    @Test func aResolvedTargetTakesEachTouchedKeyFromTheResolver() async throws {
        struct Fixed: TargetItemSource {
            let items: [Item: Item]
            func expectedItem(forTargetKey targetKey: Item) async throws -> Item? { items[targetKey] }
        }
        let client = realClient()
        let target = try await makeTable(client, prefix: "follow-resolved")
        try await client.putItem(table: target, item: ["pk": .s("old"), "v": .s("stale")])
        let key = KeySchema(partitionKey: KeyAttribute(name: "pk", type: .string), sortKey: nil)
        let rename = try MappingLoader.parse(
            yaml: "version: 1\ntables:\n  - source: s-table\n    target: \(target)\n    transforms:\n      - set: { pk: \"{name}\" }\n",
            file: "m.yaml", env: nil
        ).resolve(existingTables: ["s-table"])
        let source = try #require(rename.targets.first?.sources.first)
        let resolved: [Item: Item] = [["pk": .s("new")]: ["pk": .s("new"), "v": .s("from the resolver")]]
        let applier = RecordApplier(
            client: client, source: "s-table", target: target, transform: source.itemTransform(targetKey: key.spec), targetKey: key,
            resolver: Fixed(items: resolved))
        // The item's name (its target key) changed from "old" to "new".
        let change = try await applier.apply(
            StreamRecord(
                eventName: .modify, keys: ["id": .s("1")], newImage: ["id": .s("1"), "name": .s("new")],
                oldImage: ["id": .s("1"), "name": .s("old")], sequenceNumber: "5"))
        #expect(change.puts == 1 && change.deletes == 1)
        #expect(Set(try await scanAll(client, target)) == [["pk": .s("new"), "v": .s("from the resolver")]])
    }

    /// A shard with nothing applied is at risk only when nothing of it was read for 24 hours: a long copy
    /// (since `applyFrom`) is refused, a shard read to its end an hour ago is not.
    @Test func theTrimRuleLooksAtWhenEachUnappliedShardWasLastRead() async throws {
        let client = realClient()
        let source = try await makeStreamSource(client, prefix: "follow-trimrule", count: 2)
        let target = source + "-dst"
        let mapping = try await resolve(followMapping(source: source, target: target), client: client)
        try await client.createTable(
            CreateTableInput(
                name: target, keySchema: KeySchema(partitionKey: KeyAttribute(name: "id", type: .string), sortKey: nil), billingMode: .payPerRequest))
        let arn = try #require(try await client.describeTable(source).raw["LatestStreamArn"]?.stringValue)
        let shard = try #require(try await client.streamsClient().describeStream(arn: arn).shards.first?.shardId)
        let now = Date()
        func positions(readSince: Date?) -> StreamPositions {
            var p = StreamPositions(planFingerprint: "fp", endpoint: localEndpoint)
            p.sources[source] = SourceStreamPosition(
                table: source, streamArn: arn, capturedAt: now.addingTimeInterval(-30 * 3600), applyFrom: now.addingTimeInterval(-30 * 3600),
                shards: [shard: ShardProgress(shardId: shard, parentShardId: nil, readSince: readSince)])
            return p
        }
        var options = FollowOptions(stateDirectory: TestEnvironment.temporaryDirectory("trimrule"), planFingerprint: "fp")
        options.untilIdle = .seconds(1)
        options.pollInterval = .milliseconds(100)
        let store = LocalDirectoryStateStore(directory: options.stateDirectory)

        try store.saveStreamPositions(positions(readSince: nil))
        let copiedTooLong = StreamFollower(client: client, mapping: mapping, options: options)
        try await copiedTooLong.capturePositions(streamArns: [source: arn], resume: true)
        let error = await #expect(throws: FollowError.self) { try await copiedTooLong.run() }
        #expect(error?.description.contains("shard \(shard) has had nothing read for 30.0 hours") == true)

        // A shard first listed after a 30-hour pause (unknown to the positions): created while nobody read.
        var paused = positions(readSince: nil)
        paused.sources[source]?.shards = [:]
        paused.sources[source]?.listedAt = now.addingTimeInterval(-30 * 3600)
        try store.saveStreamPositions(paused)
        let resumedLate = StreamFollower(client: client, mapping: mapping, options: options)
        try await resumedLate.capturePositions(streamArns: [source: arn], resume: true)
        let late = await #expect(throws: FollowError.self) { try await resumedLate.run() }
        #expect(late?.description.contains("shard \(shard) has had nothing read for 30.0 hours") == true)

        try store.saveStreamPositions(positions(readSince: now.addingTimeInterval(-3600)))
        let readRecently = StreamFollower(client: client, mapping: mapping, options: options)
        try await readRecently.capturePositions(streamArns: [source: arn], resume: true)
        #expect(try await readRecently.run().drained)
    }
}
