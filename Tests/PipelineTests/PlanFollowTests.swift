import DynamoClient
import DynamoCore
import Foundation
import Mappings
import TestSupport
import Testing

@testable import Pipeline

/// `plan --follow`: streams on the sources, the copy against the 24-hour window, merged targets that
/// cannot be followed exactly. Against moto.
@Suite("Planner --follow against the local server", needsLocalServer)
struct PlanFollowTests {
    let client = makeClient(endpoint: localEndpoint)

    /// `ready` (NEW_AND_OLD_IMAGES), `bare` (no stream) and `keys` (KEYS_ONLY) merged into one target;
    /// `email` into another, keyed by a non-key attribute of `ready2`'s.
    func estate(_ p: String, secondTargetKey: String = "\"{email}\"") async throws -> (ResolvedMapping, String) {
        for (name, stream) in [("ready", StreamViewType.newAndOldImages), ("bare", nil), ("keys", .keysOnly), ("ready2", .newAndOldImages)] {
            try await createTable(
                client, CreateTableInput(name: "\(p)-\(name)", keySchema: KeySchema(partitionKey: key("pk")), stream: stream))
            try await writeAll(client, "\(p)-\(name)", [["pk": .s("\(name)-1"), "email": .s("e@\(name)")]])
        }
        let yaml = """
            version: 1
            tables:
              - target: \(p)-merged
                conflict: keep-existing
                sources:
                  - table: \(p)-ready
                    key-prefix: "r#"
                  - table: \(p)-bare
                  - table: \(p)-keys
              - target: \(p)-by-email
                sources:
                  - table: \(p)-ready2
                  - table: \(p)-keys-two
                    transforms:
                      - set: { pk: \(secondTargetKey) }
            """
        try await createTable(client, CreateTableInput(name: "\(p)-keys-two", keySchema: KeySchema(partitionKey: key("pk"))))
        return try await resolve(yaml, client: client, prefix: p)
    }

    func followPlan(_ mapping: ResolvedMapping, _ path: String, writeRate: Double = 1000, enableStreams: Bool = false) async throws -> MigrationPlan {
        var options = PlanOptions(mappingFile: path, env: nil, sampleSize: 0, writeRate: writeRate)
        options.follow = true
        options.enableStreams = enableStreams
        return try await Planner(client: client, mapping: mapping, options: options).makePlan()
    }

    @Test("each source's stream: ready, to turn on, or to replace; merged targets exact or not, with the reason")
    func streamsAndExactness() async throws {
        let p = TestEnvironment.uniqueTableName("pfollow")
        let (mapping, path) = try await estate(p)
        let plan = try await followPlan(mapping, path)
        let follow = try #require(plan.follow)

        #expect(follow.sources.map(\.table) == ["\(p)-ready", "\(p)-bare", "\(p)-keys", "\(p)-ready2", "\(p)-keys-two"])
        #expect(follow.sources.map(\.ready) == [true, false, false, true, false])
        #expect(follow.sources.map(\.viewType) == ["NEW_AND_OLD_IMAGES", nil, "KEYS_ONLY", "NEW_AND_OLD_IMAGES", nil])
        #expect(follow.sources[0].latestStreamArn?.contains("\(p)-ready/stream/") == true)
        #expect(
            follow.sources[1].command
                == "aws dynamodb update-table --table-name \(p)-bare --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES")
        #expect(
            follow.sources[2].command
                == "aws dynamodb update-table --table-name \(p)-keys --stream-specification StreamEnabled=false && aws dynamodb update-table --table-name \(p)-keys --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES"
        )

        #expect(follow.targets.map(\.exact) == [true, false])
        #expect(
            follow.targets[1].limitation
                == "\(path):13: source \(p)-keys-two: the target's partition key 'pk' is copied from 'email', which is not a source key attribute (set at line 15); a follower could not tell which source item a target key comes from, so it cannot keep the target exact"
        )
        #expect(follow.retention == "ok")

        #expect(
            plan.problems.map(\.kind) == [.streamNotReady, .streamNotReady, .streamNotReady, .followInexact],
            "\(plan.problems.map(\.message))")
        #expect(
            plan.problems[0].message
                == "\(p)-bare has no stream; migrate --follow needs a NEW_AND_OLD_IMAGES stream: run `\(follow.sources[1].command!)`, or give migrate --enable-streams"
        )
        #expect(
            plan.problems[1].message.hasPrefix(
                "\(p)-keys has a KEYS_ONLY stream; migrate --follow needs NEW_AND_OLD_IMAGES, and changing the view type replaces the stream"))
        #expect(plan.problems[3].message == "migrate --follow refuses \(p)-by-email: \(follow.targets[1].limitation!)")

        // With --enable-streams a missing stream is migrate's to turn on; another view type still is not.
        let enabling = try await followPlan(mapping, path, enableStreams: true)
        #expect(enabling.problems.map(\.kind) == [.streamNotReady, .followInexact])
        #expect(enabling.follow?.enableStreams == true)

        // Nothing was changed.
        #expect(try await client.describeTable("\(p)-bare").stream == nil)
        #expect(try await client.describeTable("\(p)-keys").stream == .keysOnly)
    }

    @Test("a copy estimated at half the 24-hour window or more is a warning; beyond it, a blocking problem")
    func retentionWindow() async throws {
        let p = TestEnvironment.uniqueTableName("pfollow")
        let (mapping, path) = try await estate(p, secondTargetKey: "\"{pk}\"")
        // 4 items (one each in four sources).
        let close = try await followPlan(mapping, path, writeRate: 4.0 / (13 * 3600), enableStreams: true)
        #expect(close.follow?.retention == "close")
        #expect(
            close.warnings.contains(
                "the copy is estimated at 13.0 h, at least half of the streams' 24-hour window: should it run slower than estimated, follow will stop with records trimmed and the copy must restart"
            ))
        #expect(!close.problems.contains { $0.kind == .backfillOutlivesStream })

        let over = try await followPlan(mapping, path, writeRate: 4.0 / (25 * 3600), enableStreams: true)
        #expect(over.follow?.retention == "over")
        #expect(
            over.problems.filter { $0.kind == .backfillOutlivesStream }.map(\.message) == [
                "the copy is estimated at 25.0 h, longer than the streams' 24-hour window: records taken before the scans would be trimmed before follow applies them; raise the write rate or split the mapping"
            ])
        #expect(over.follow?.targets.map(\.exact) == [true, true])
    }

    @Test("without --follow the plan has no follow part and its JSON no follow key")
    func notAsked() async throws {
        let p = TestEnvironment.uniqueTableName("pfollow")
        let (mapping, path) = try await estate(p)
        let plan = try await Planner(client: client, mapping: mapping, options: PlanOptions(mappingFile: path, env: nil, sampleSize: 0)).makePlan()
        #expect(plan.follow == nil)
        #expect(plan.problems.isEmpty)
        #expect(!(try plan.jsonText()).contains("\"follow\""))
    }
}
