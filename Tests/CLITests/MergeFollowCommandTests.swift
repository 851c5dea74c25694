// `migrate --follow` of a merged target, the binary: two sources with colliding keys change during the
// copy and the follow; the follower is killed (SIGKILL), more changes come, `--resume --until-idle`
// drains, and `verify` MATCHes. A merged target whose keys cannot be traced back is refused first.
import DynamoClient
import DynamoCore
import Foundation
import TestSupport
import Testing

@Suite("dynamo-migrate migrate --follow of a merged target, the binary", needsLocalServer)
struct MergeFollowCommandTests {
    let client = makeClient(endpoint: localEndpoint, sleeper: ShiftedDateClock(by: 0))

    func item(_ i: Int, _ version: Int) -> Item {
        ["pk": .s("k\(i)"), "status": .s((i + version) % 2 == 0 ? "active" : "archived"), "v": .n(DynamoNumber(version))]
    }

    /// Puts and deletes over the keys both sources share, deterministic for a seed.
    func write(_ table: String, _ steps: Range<Int>, seed: UInt64) async throws {
        var random = SeededRandom(seed: seed)
        for step in steps {
            let i = Int(random.next() % 40)
            if random.next() % 4 == 0 {
                try await client.deleteItem(table: table, key: ["pk": .s("k\(i)")])
            } else {
                try await client.putItem(table: table, item: item(i, step + 1))
            }
        }
    }

    func start(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = try #require(TestEnvironment.cliBinary)
        process.arguments = arguments
        process.environment = [
            "HOME": TestEnvironment.temporaryDirectory("mfollow-home").path, "PATH": "/usr/bin:/bin",
            "AWS_ACCESS_KEY_ID": "AKIDTESTTESTTEST", "AWS_SECRET_ACCESS_KEY": "test-secret-key", "AWS_REGION": "us-east-1",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    func appliedSoFar(_ state: String) -> Int {
        guard let data = FileManager.default.contents(atPath: state + "/stream-positions.json"), let json = try? JSON.parse(Array(data)) else { return 0 }
        var total = 0
        for source in json["sources"]?.objectValue?.values ?? [:].values {
            for shard in source["shards"]?.objectValue?.values ?? [:].values { total += shard["recordsApplied"]?.intValue ?? 0 }
        }
        return total
    }

    @Test("keep-existing merge: kill -9 mid-follow, --resume --until-idle drains, verify MATCHes")
    func killedMergeFollowResumesAndMatches() async throws {
        var sources: [String] = []
        for name in ["cli-mfollow-a", "cli-mfollow-b"] {
            let table = TestEnvironment.uniqueTableName(name)
            try await client.createTable(
                CreateTableInput(name: table, keySchema: KeySchema(partitionKey: KeyAttribute(name: "pk", type: .string)), stream: .newAndOldImages))
            try await client.waitUntilActive(table, pollInterval: .milliseconds(50))
            try await writeAll(client, table, (0..<30).map { item($0, 0) })
            sources.append(table)
        }
        let (a, b) = (sources[0], sources[1])
        let target = a + "-t"
        let directory = TestEnvironment.temporaryDirectory("cli-mfollow")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let state = directory.appendingPathComponent("state").path
        let common = ["--endpoint-url", localEndpoint, "--state-dir", state]

        // A source keyed by a non-key attribute: refused before anything is read or written (exit 2).
        let inexact = directory.appendingPathComponent("inexact.yaml")
        try Data(
            """
            version: 1
            tables:
              - target: \(target)
                conflict: keep-existing
                sources:
                  - table: \(a)
                  - table: \(b)
                    transforms:
                      - set: { pk: "{status}" }
            """.utf8
        ).write(to: inexact)
        let refused = try TestEnvironment.runCLI(
            ["migrate", inexact.path, "--follow", "--endpoint-url", localEndpoint, "--state-dir", state + "-refused"], killAfter: 120)
        #expect(refused.status == 2)
        #expect(
            refused.stderr.contains(
                "--follow cannot follow target \(target) yet: \(inexact.path):7: source \(b): the target's partition key 'pk' is copied from 'status', which is not a source key attribute (set at line 9)"
            ), "\(refused.stderr)")
        #expect(try await client.describeTableIfExists(target) == nil)

        let mapping = directory.appendingPathComponent("merged.yaml")
        try Data(
            """
            version: 1
            tables:
              - target: \(target)
                conflict: keep-existing
                sources:
                  - table: \(a)
                    key-prefix: "m#"
                    transforms:
                      - set: { origin: a }
                  - table: \(b)
                    key-prefix: "m#"
                    transforms:
                      - filter: { attribute: status, equals: active }
            """.utf8
        ).write(to: mapping)

        let first = try start(["migrate", mapping.path, "--follow", "--page-size", "5"] + common)
        async let writesA: Void = write(a, 0..<50, seed: 11)
        async let writesB: Void = write(b, 0..<50, seed: 12)
        _ = try await (writesA, writesB)
        let deadline = ContinuousClock.now + .seconds(120)
        while appliedSoFar(state) == 0, first.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(appliedSoFar(state) > 0, "the follower applied nothing within two minutes")
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()

        // More changes while nothing runs: the earlier source deletes keys the later one holds.
        try await write(a, 50..<100, seed: 13)
        for i in 0..<5 {
            try await client.putItem(table: b, item: ["pk": .s("k\(i)"), "status": .s("active"), "v": .n(DynamoNumber(500 + i))])
            try await client.deleteItem(table: a, key: ["pk": .s("k\(i)")])
        }
        let resumed = try TestEnvironment.runCLI(["migrate", mapping.path, "--follow", "--resume", "--until-idle", "3s"] + common, killAfter: 300)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("drained: every shard caught up and idle"))

        for i in 0..<5 {
            let held = try await client.getItem(table: target, key: ["pk": .s("m#k\(i)")])
            #expect(held == ["pk": .s("m#k\(i)"), "status": .s("active"), "v": .n(DynamoNumber(500 + i))], "b's item took the key a deleted")
        }
        let verified = try TestEnvironment.runCLI(["verify", mapping.path] + common, killAfter: 300)
        #expect(verified.status == 0, "\(verified.stdout)\n\(verified.stderr)")
        #expect(verified.stdout.contains("MATCH"))
        #expect(!verified.stdout.contains("MISMATCH"))
        for table in [a, b, target] { _ = try? await client.deleteTable(table) }
    }
}
