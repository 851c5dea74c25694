// Merged targets under follow: two sources with colliding keys change during the copy and during the
// follow; once the follow drains, the target holds exactly what verify expects, under each policy.
import DynamoClient
import DynamoCore
import Follow
import Foundation
import Mappings
import Pipeline
import RunState
import TableIO
import TestSupport
import Testing

@Suite(needsLocalServer) struct MergeFollowTests {
    /// Two sources keyed `pk`, both prefixed "t#" into a target keyed `id`: the same `pk` in both
    /// collides. `b` keeps only `active` items, so updates move its items in and out of the target.
    /// Under `fail` the sources write disjoint keys (a collision with different content would stop the
    /// follow, as it stops the copy), plus one key with identical content in both.
    func mapping(a: String, b: String, target: String, policy: ConflictPolicy) -> String {
        let origin = policy == .fail ? "" : "\n          - set: { origin: \"{source}\" }"
        return """
            version: 1
            tables:
              - target: \(target)
                conflict: \(policy.rawValue)
                settings:
                  key: { partition: { name: id, type: S } }
                sources:
                  - table: \(a)
                    key-prefix: "t#"
                    transforms:
                      - rename: { pk: id }\(origin)
                  - table: \(b)
                    key-prefix: "t#"
                    transforms:
                      - rename: { pk: id }
                      - filter: { attribute: status, equals: active }\(origin)
            """
    }

    /// Puts (items moving in and out of `b`'s filter) and deletes over keys `<key><i>`, deterministic for a seed.
    struct Writer: Sendable {
        let client: DynamoDBClient
        let table: String
        let key: String
        let keys: Int

        func item(_ i: Int, version: Int) -> Item {
            ["pk": .s("\(key)\(i)"), "status": .s((i + version) % 2 == 0 ? "active" : "archived"), "v": .n(DynamoNumber(version))]
        }

        func run(_ steps: Range<Int>, seed: UInt64) async throws {
            var random = SeededRandom(seed: seed)
            for step in steps {
                let i = Int(random.next() % UInt64(keys))
                if random.next() % 4 == 0 {
                    try await client.deleteItem(table: table, key: ["pk": .s("\(key)\(i)")])
                } else {
                    try await client.putItem(table: table, item: item(i, version: step + 1))
                }
            }
        }
    }

    func stream(_ client: DynamoDBClient, _ prefix: String) async throws -> String {
        let name = TestEnvironment.uniqueTableName(prefix)
        try await client.createTable(
            CreateTableInput(name: name, keySchema: KeySchema(partitionKey: KeyAttribute(name: "pk", type: .string)), stream: .newAndOldImages))
        try await client.waitUntilActive(name, pollInterval: .milliseconds(50))
        return name
    }

    @Test(arguments: [ConflictPolicy.keepExisting, .overwrite, .fail])
    func theMergedTargetEndsAsVerifyExpectsAfterChangesDuringCopyAndFollow(policy: ConflictPolicy) async throws {
        let client = realClient()
        let a = try await stream(client, "mfollow-a"), b = try await stream(client, "mfollow-b")
        let target = a + "-t"
        let resolved = try MappingLoader.parse(yaml: mapping(a: a, b: b, target: target, policy: policy), file: "m.yaml", env: nil)
            .resolve(existingTables: [a, b])
        let writers =
            policy == .fail
            ? [Writer(client: client, table: a, key: "a", keys: 30), Writer(client: client, table: b, key: "b", keys: 30)]
            : [Writer(client: client, table: a, key: "k", keys: 30), Writer(client: client, table: b, key: "k", keys: 30)]
        for w in writers { try await writeAll(client, w.table, (0..<20).map { w.item($0, version: 0) }) }
        // One key both sources hold with the same content: never a conflict, under any policy.
        for table in [a, b] { try await client.putItem(table: table, item: ["pk": .s("same"), "status": .s("active")]) }

        let state = TestEnvironment.temporaryDirectory("mfollow")
        var options = FollowOptions(stateDirectory: state, planFingerprint: "test")
        options.untilIdle = .seconds(3)
        options.pollInterval = .milliseconds(200)
        let resolvers = try await StreamFollower.makeResolvers(client: client, mapping: resolved)
        #expect(Set(resolvers.keys) == [target])
        try StreamFollower.checkFollowable(resolved, resolvers: Set(resolvers.keys))
        let follower = StreamFollower(client: client, mapping: resolved, options: options, resolvers: resolvers)
        try await follower.capturePositions(streamArns: try await follower.prepareStreams(enable: false), resume: false)

        // Both sources change while the copy runs (5 items a Scan page).
        let during = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (n, w) in writers.enumerated() { group.addTask { try await w.run(0..<60, seed: 100 + UInt64(n)) } }
                try await group.waitForAll()
            }
        }
        var migration = MigrationOptions(stateDirectory: state, planFingerprint: "test")
        migration.scanPageLimit = 5
        migration.segments = 2
        _ = try await Migrator(client: client, mapping: resolved, options: migration).run()
        try await during.value

        // And while the follow runs, ending with the cases that matter for a merge: the earlier source
        // deletes a key the later one has (the later one's item must take its place), and a later
        // source's item moves out of its filter (the earlier one's, or nothing, must remain).
        let following = Task { try await follower.run() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (n, w) in writers.enumerated() { group.addTask { try await w.run(60..<120, seed: 200 + UInt64(n)) } }
            try await group.waitForAll()
        }
        let (first, second) = (writers[0], writers[1])
        try await client.putItem(table: second.table, item: ["pk": .s("\(second.key)1"), "status": .s("active"), "v": .n(DynamoNumber(999))])
        try await client.deleteItem(table: first.table, key: ["pk": .s("\(first.key)1")])
        try await client.putItem(table: second.table, item: ["pk": .s("\(second.key)2"), "status": .s("archived")])
        let report = try await following.value
        #expect(report.drained)
        #expect(report.recordsApplied > 0)

        // Item by item against the fold of the sources' content now, then verify's checksum.
        let expected = try await expectedMerge(resolved.targets[0], client: client)
        let actual = Dictionary(uniqueKeysWithValues: try await scanAll(client, target).map { ($0["id"]!, $0) })
        #expect(actual.count == expected.count)
        for (key, item) in expected where actual[key] != item {
            Issue.record("\(target) at \(key): expected \(item), holds \(String(describing: actual[key]))")
        }
        for key in actual.keys where expected[key] == nil { Issue.record("\(target) holds \(key), which no source produces") }
        let onePrefixed: AttributeValue = .s("t#\(second.key)1")
        #expect(actual[onePrefixed]?["v"] == .n(DynamoNumber(999)), "the later source's item took the deleted key")
        let verification = try await TargetExpectation(checksummer: Checksummer(client: client)).verify(resolved.targets[0])
        #expect(verification.status == .match, "\(verification.reason)")
        for table in [a, b, target] { _ = try? await client.deleteTable(table) }
    }

    /// What the target must hold: each source scanned and projected, folded in mapping order with the
    /// policy's one merge rule (identical content is no conflict). By `id`.
    func expectedMerge(_ target: ResolvedTarget, client: DynamoDBClient) async throws -> [AttributeValue: Item] {
        let key = KeySchema(partitionKey: KeyAttribute(name: "id", type: .string))
        var merged: [AttributeValue: Item] = [:]
        for source in target.sources {
            let transform = source.itemTransform(targetKey: key.spec)
            for item in try await scanAll(client, source.table) {
                guard case .written(let out, _, _) = project(item, through: transform, targetKey: key) else { continue }
                switch target.conflict.merge(existing: merged[out["id"]!], incoming: out) {
                case .takeIncoming: merged[out["id"]!] = out
                case .keepExisting: break
                case .conflict: Issue.record("sources conflict at \(out["id"]!)")
                }
            }
        }
        return merged
    }

    /// Under `fail`, two sources that come to hold different items for one key stop the follow, naming
    /// both and the key, as the copy would stop; nothing is guessed.
    @Test func aConflictUnderFailStopsTheFollowNamingTheKeyAndSources() async throws {
        let client = realClient()
        let a = try await stream(client, "mfollow-fa"), b = try await stream(client, "mfollow-fb")
        let target = a + "-t"
        let resolved = try MappingLoader.parse(yaml: mapping(a: a, b: b, target: target, policy: .fail), file: "m.yaml", env: nil)
            .resolve(existingTables: [a, b])
        try await client.putItem(table: a, item: ["pk": .s("x"), "status": .s("active")])
        let state = TestEnvironment.temporaryDirectory("mfollow-fail")
        var options = FollowOptions(stateDirectory: state, planFingerprint: "test")
        options.untilIdle = .seconds(2)
        options.pollInterval = .milliseconds(200)
        let follower = StreamFollower(
            client: client, mapping: resolved, options: options, resolvers: try await StreamFollower.makeResolvers(client: client, mapping: resolved))
        try await follower.capturePositions(streamArns: try await follower.prepareStreams(enable: false), resume: false)
        _ = try await Migrator(client: client, mapping: resolved, options: MigrationOptions(stateDirectory: state, planFingerprint: "test")).run()

        try await client.putItem(table: b, item: ["pk": .s("x"), "status": .s("active"), "v": .n(DynamoNumber(2))])
        await #expect(throws: TargetItemConflict(target: target, key: "id={\"S\":\"t#x\"}", sources: [a, b])) {
            try await follower.run()
        }
        #expect(try await client.getItem(table: target, key: ["id": .s("t#x")]) == ["id": .s("t#x"), "status": .s("active")], "a's item stays")
        for table in [a, b, target] { _ = try? await client.deleteTable(table) }
    }
}
