import DynamoClient
import DynamoCore
import Foundation
import TestSupport
import Testing

@testable import DynamoMigrateCLI

/// `dynamo-migrate plan --follow`, the binary: the follow section in all three formats and the exit status.
@Suite("dynamo-migrate plan --follow, the binary", needsLocalServer)
struct PlanFollowCommandTests {
    @Test("a source without a stream blocks unless --enable-streams is given; text, Markdown and JSON show it")
    func streams() async throws {
        let client = makeClient(endpoint: localEndpoint)
        let p = TestEnvironment.uniqueTableName("planfollow")
        for (name, stream) in [("a", StreamViewType.newAndOldImages), ("b", nil)] {
            try await client.createTable(
                CreateTableInput(name: "\(p)-\(name)", keySchema: KeySchema(partitionKey: KeyAttribute(name: "pk", type: .string)), stream: stream))
            try await client.waitUntilActive("\(p)-\(name)", pollInterval: .milliseconds(50))
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(p).yaml").path
        try Data(
            """
            version: 1
            tables:
              - target: \(p)-t
                conflict: keep-existing
                sources:
                  - table: \(p)-a
                  - table: \(p)-b
                    key-prefix: "b#"

            """.utf8
        ).write(to: URL(fileURLWithPath: path))
        let command = "aws dynamodb update-table --table-name \(p)-b --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES"

        let blocked = try TestEnvironment.runCLI(["plan", path, "--endpoint-url", localEndpoint, "--follow"])
        #expect(blocked.status == 1, "\(blocked.stderr)")
        let problem = "\(p)-b has no stream; migrate --follow needs a NEW_AND_OLD_IMAGES stream: run `\(command)`, or give migrate --enable-streams"
        #expect(blocked.stdout.contains("BLOCKING PROBLEMS: migrate would refuse or stop\n  ✗ \(problem)\n"))
        #expect(blocked.stdout.contains("\nFOLLOW (migrate --follow)\n  streams (DynamoDB keeps stream records 24 h):\n"))
        #expect(
            blocked.stdout.contains(
                "\n    \(p)-b: \(command)\n  copy before follow: about 1 s, well within the 24 h stream window\n  targets:\n    ✓ \(p)-t: each key a record touches is recomputed from all 2 sources' current items under conflict policy keep-existing\n"
            ))
        #expect(blocked.stderr.contains("  - \(problem)"))

        let ready = try TestEnvironment.runCLI(["plan", path, "--endpoint-url", localEndpoint, "--follow", "--enable-streams"])
        #expect(ready.status == 0, "\(ready.stderr)")
        #expect(ready.stdout.contains("\nFOLLOW (migrate --follow --enable-streams)\n"))
        #expect(ready.stdout.contains("migrate turns it on (--enable-streams)"))

        let markdown = try TestEnvironment.runCLI(["plan", path, "--endpoint-url", localEndpoint, "--follow", "--enable-streams", "--markdown"])
        #expect(markdown.status == 0, "\(markdown.stderr)")
        #expect(markdown.stdout.contains("\n## Follow (`migrate --follow` `--enable-streams`)\n"))
        #expect(markdown.stdout.contains("| `\(p)-a` | NEW_AND_OLD_IMAGES | ready |\n| `\(p)-b` | off | migrate turns it on (`--enable-streams`) |\n"))
        #expect(markdown.stdout.contains("- [ ] Stream changes on `\(p)-b` approved (production tables)\n"))

        let json = try TestEnvironment.runCLI(["plan", path, "--endpoint-url", localEndpoint, "--follow", "--json"])
        #expect(json.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let follow = try #require(object["follow"] as? [String: Any])
        #expect(follow["retention"] as? String == "ok")
        #expect((follow["sources"] as? [[String: Any]])?.map { $0["ready"] as? Bool } == [true, false])
        #expect((follow["targets"] as? [[String: Any]])?.first?["exact"] as? Bool == true)
        #expect(try await client.describeTable("\(p)-b").stream == nil, "plan changes nothing")
    }

    @Test("--enable-streams needs --follow")
    func enableStreamsAlone() {
        do {
            _ = try DynamoMigrate.parseAsRoot(["plan", "m.yaml", "--enable-streams"])
            Issue.record("parsed")
        } catch {
            #expect(DynamoMigrate.message(for: error) == "--enable-streams only means something with --follow")
        }
    }
}
