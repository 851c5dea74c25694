// `migrate --follow`, the binary: a writer changes the source while the copy and the follow run; the
// follower is killed (SIGKILL) mid-follow, more changes come, `--resume --until-idle` drains, and
// `verify` MATCHes.
import DynamoClient
import DynamoCore
import Foundation
import Synchronization
import TestSupport
import Testing

@Suite("dynamo-migrate migrate --follow, the binary", needsLocalServer)
struct FollowCommandTests {
    let client = makeClient(endpoint: localEndpoint, sleeper: ShiftedDateClock(by: 0))

    func item(_ i: Int, _ version: Int) -> Item {
        ["pk": .s("k\(i)"), "status": .s((i + version) % 2 == 0 ? "active" : "archived"), "v": .n(DynamoNumber(version))]
    }

    /// Puts (new keys and updates that move items in and out of the filter) and deletes, deterministic for a seed.
    func write(_ table: String, _ steps: Range<Int>, seed: UInt64) async throws {
        var random = SeededRandom(seed: seed)
        for step in steps {
            let i = Int(random.next() % 70)
            if random.next() % 5 == 0 {
                try await client.deleteItem(table: table, key: ["pk": .s("k\(i)")])
            } else {
                try await client.putItem(table: table, item: item(i, step + 1))
            }
        }
    }

    /// Starts the binary without waiting for it.
    func start(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = try #require(TestEnvironment.cliBinary)
        process.arguments = arguments
        process.environment = [
            "HOME": TestEnvironment.temporaryDirectory("follow-home").path, "PATH": "/usr/bin:/bin",
            "AWS_ACCESS_KEY_ID": "AKIDTESTTESTTEST", "AWS_SECRET_ACCESS_KEY": "test-secret-key", "AWS_REGION": "us-east-1",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Waits until the follower's saved positions count more than `count` applied records, then kills it (SIGKILL).
    func killOnceApplied(_ process: Process, moreThan count: Int, state: String) async throws {
        let deadline = ContinuousClock.now + .seconds(120)
        while appliedSoFar(state) <= count, process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(appliedSoFar(state) > count, "the follower applied nothing new within two minutes")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
    }

    /// Records applied so far, per the follower's saved positions (0 while there are none).
    func appliedSoFar(_ state: String) -> Int {
        guard let data = FileManager.default.contents(atPath: state + "/stream-positions.json"),
            let json = try? JSON.parse(Array(data))
        else { return 0 }
        var total = 0
        for source in json["sources"]?.objectValue?.values ?? [:].values {
            for shard in source["shards"]?.objectValue?.values ?? [:].values { total += shard["recordsApplied"]?.intValue ?? 0 }
        }
        return total
    }

    @Test("kill -9 mid-follow twice, --resume --until-idle drains, the target equals the projection and verify MATCHes")
    func killedFollowResumesWithoutLoss() async throws {
        let source = TestEnvironment.uniqueTableName("cli-follow-src")
        try await client.createTable(
            CreateTableInput(
                name: source, keySchema: KeySchema(partitionKey: KeyAttribute(name: "pk", type: .string), sortKey: nil),
                billingMode: .payPerRequest))
        try await client.waitUntilActive(source, pollInterval: .milliseconds(50))
        try await writeAll(client, source, (0..<50).map { item($0, 0) })
        let target = source + "-dst"
        let directory = TestEnvironment.temporaryDirectory("cli-follow")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let mapping = directory.appendingPathComponent("live.yaml")
        try Data(
            """
            version: 1
            tables:
              - source: \(source)
                target: \(target)
                transforms:
                  - filter: { attribute: status, equals: active }
            """.utf8
        ).write(to: mapping)
        let state = directory.appendingPathComponent("state").path
        let common = ["--endpoint-url", localEndpoint, "--state-dir", state]

        // No stream: refused with the command to run (exit 2).
        let refused = try TestEnvironment.runCLI(["migrate", mapping.path, "--follow"] + common, killAfter: 120)
        #expect(refused.status == 2)
        #expect(
            refused.stderr.contains(
                "aws dynamodb update-table --table-name \(source) --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES"))

        // Copy + follow with the stream turned on by the run; changes while it runs.
        let first = try start(["migrate", mapping.path, "--follow", "--enable-streams", "--page-size", "5"] + common)
        // The changes must come once the stream is on (a table without a stream records none).
        let streamDeadline = ContinuousClock.now + .seconds(120)
        while try await client.describeTable(source).stream == nil, first.isRunning, ContinuousClock.now < streamDeadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        try await write(source, 0..<60, seed: 1)
        // Killed once it has applied records (it keeps following: no --until-idle).
        try await killOnceApplied(first, moreThan: 0, state: state)

        // Resumed while the writer goes on, killed again once it has applied more.
        let before = appliedSoFar(state)
        let second = try start(["migrate", mapping.path, "--follow", "--resume"] + common)
        try await write(source, 60..<90, seed: 3)
        try await killOnceApplied(second, moreThan: before, state: state)

        // More changes while nothing runs, then resume until idle.
        try await write(source, 90..<140, seed: 2)
        let metrics = directory.appendingPathComponent("follow.prom").path
        let resumed = try TestEnvironment.runCLI(
            ["migrate", mapping.path, "--follow", "--resume", "--until-idle", "3s", "--metrics", metrics] + common, killAfter: 300)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("drained: every shard caught up and idle"))
        let prometheus = try String(contentsOfFile: metrics, encoding: .utf8)
        #expect(prometheus.contains("dynamo_migrate_follow_drained 1"))
        #expect(prometheus.contains("dynamo_migrate_follow_shard_lag_seconds{source=\"\(source)\",shard="))

        // The target is exactly the active source items.
        let expected = Set(try await scanAll(client, source).filter { $0["status"] == .s("active") })
        let actual = Set(try await scanAll(client, target))
        #expect(actual == expected)
        #expect(!expected.isEmpty)

        let verified = try TestEnvironment.runCLI(["verify", mapping.path] + common, killAfter: 300)
        #expect(verified.status == 0, "\(verified.stdout)\n\(verified.stderr)")
        #expect(verified.stdout.contains("MATCH"))
        #expect(!verified.stdout.contains("MISMATCH"))

        let report = try JSON.parse(Array(try Data(contentsOf: URL(fileURLWithPath: state + "/report.json"))))
        #expect(report["follow"]?["drained"]?.boolValue == true)
        #expect(report["sources"]?.arrayValue?.count == 1, "the copy's report is still there")
        let markdown = try String(contentsOfFile: state + "/report.md", encoding: .utf8)
        #expect(markdown.hasPrefix("# Migration report"))
        #expect(markdown.components(separatedBy: "\n## Follow\n").count == 2, "one follow section, the resumed run's")
        #expect(markdown.contains("- **drained**: every shard caught up, nothing new for the idle period"))
    }

    @Test("follow flags without --follow, and a bad --until-idle, are bad input (exit 2) naming the flag")
    func followFlagsAreChecked() throws {
        let mapping = TestEnvironment.temporaryDirectory("follow-flags").appendingPathComponent("m.yaml")
        try FileManager.default.createDirectory(at: mapping.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("version: 1\ntables: []\n".utf8).write(to: mapping)
        let common = ["--endpoint-url", localEndpoint]
        let idle = try TestEnvironment.runCLI(["migrate", mapping.path, "--until-idle", "60s"] + common, killAfter: 60)
        #expect(idle.status == 2)
        #expect(idle.stderr.contains("--until-idle needs --follow"))
        let metrics = try TestEnvironment.runCLI(["migrate", mapping.path, "--metrics", "/tmp/x.prom"] + common, killAfter: 60)
        #expect(metrics.status == 2)
        #expect(metrics.stderr.contains("--metrics needs --follow"))
        let bad = try TestEnvironment.runCLI(["migrate", mapping.path, "--follow", "--until-idle", "soon"] + common, killAfter: 60)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--until-idle must be a duration such as 60s, 5m or 1h (got 'soon')"))
    }
}
