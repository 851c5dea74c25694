import AWSAuth
import ArgumentParser
import DynamoClient
import DynamoCore
import Foundation
import TestSupport
import Testing

@testable import DynamoMigrateCLI

/// Runs the binary with credentials for the local server and a HOME without AWS config files.
private func run(_ arguments: [String]) throws -> CLIRun {
    try TestEnvironment.runCLI(arguments)
}

private func writeMapping(_ yaml: String, name: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(name).yaml").path
    try Data(yaml.utf8).write(to: URL(fileURLWithPath: path))
    return path
}

private func createTable(_ client: DynamoDBClient, _ name: String, key: KeyAttribute) async throws {
    try await client.createTable(CreateTableInput(name: name, keySchema: KeySchema(partitionKey: key)))
    try await client.waitUntilActive(name, pollInterval: .milliseconds(50))
}

@Suite("dynamo-migrate plan, the binary", needsLocalServer)
struct PlanCommandTests {
    @Test("exit status 0 for a plan without blocking problems, in all three formats; nothing is created")
    func ready() async throws {
        #expect(TestEnvironment.cliBinary != nil, "build the binary first: swift build --build-tests")
        let client = makeClient(endpoint: localEndpoint)
        let p = TestEnvironment.uniqueTableName("plancli")
        try await createTable(client, "\(p)-src", key: KeyAttribute(name: "id", type: .string))
        _ = try await client.batchWriteItem(["\(p)-src": [.put(["id": .s("a"), "n": .s("1")]), .put(["id": .s("b"), "n": .s("x")])]])
        let path = try writeMapping(
            """
            version: 1
            tables:
              - source: \(p)-src
                target: \(p)-new
                transforms:
                  - convert: { n: number }

            """, name: p)

        let text = try run(["plan", path, "--endpoint-url", localEndpoint])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("TARGET 1 of 1: \(p)-new  [create]\n"))
        #expect(
            text.stdout.contains(
                "      #1 written\n         before:  {id: \"a\", n: \"1\"}\n         after:   {id: \"a\", n: 1}\n         changes: ~n: \"1\" → 1\n"))
        #expect(text.stdout.contains("      #2 FAILS: \(path):6:20: convert number: attribute 'n' is \"x\", not a number\n"))
        #expect(text.stdout.contains("\nRESULT: ready. 1 target, 1 source, 0 to decommission; 1 of 2 sampled items fail their transform.\n"))

        let json = try run(["plan", path, "--endpoint-url", localEndpoint, "--json", "--sample", "1", "--write-rate", "4"])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["blocked"] as? Bool == false)
        #expect(object["sampleSize"] as? Int == 1)
        #expect((object["estimate"] as? [String: Any])?["seconds"] as? Double == 0.5)
        let target = try #require((object["targets"] as? [[String: Any]])?.first)
        #expect(target["name"] as? String == "\(p)-new")
        #expect(((target["sources"] as? [[String: Any]])?.first?["samples"] as? [Any])?.count == 1)

        let markdown = try run(["plan", path, "--endpoint-url", localEndpoint, "--markdown"])
        #expect(markdown.status == 0, "\(markdown.stderr)")
        #expect(markdown.stdout.hasPrefix("# Migration plan: \(path)\n\n- Endpoint: `\(localEndpoint)`\n- Status: **ready**\n"))
        #expect(markdown.stdout.contains("- [ ] Settings of `\(p)-new` checked"))

        #expect(try await client.describeTableIfExists("\(p)-new") == nil)
    }

    @Test("a source a glob brings to a target another entry names is marked, in all three formats")
    func sourceFromAGlob() async throws {
        let client = makeClient(endpoint: localEndpoint)
        let p = TestEnvironment.uniqueTableName("planglob")
        try await createTable(client, "\(p)-cdk-users", key: KeyAttribute(name: "id", type: .string))
        try await createTable(client, "\(p)-dev-users", key: KeyAttribute(name: "id", type: .string))
        let path = try writeMapping(
            """
            version: 1
            tables:
              - source: "\(p)-cdk-*"
                target: "\(p)-new-*"
              - target: \(p)-new-users
                conflict: keep-existing
                sources:
                  - table: \(p)-dev-users

            """, name: p)

        let text = try run(["plan", path, "--endpoint-url", localEndpoint])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("  source 1 of 2: \(p)-cdk-users (from glob '\(p)-cdk-*')\n"))
        #expect(
            text.stdout.contains(
                "    → matched by source glob '\(p)-cdk-*' (line 3), with that entry's transforms; the entry at line 5 names \(p)-new-users and sets its settings and conflict policy\n"
            ))
        #expect(text.stdout.contains("  source 2 of 2: \(p)-dev-users\n"))

        let json = try run(["plan", path, "--endpoint-url", localEndpoint, "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let sources = try #require((object["targets"] as? [[String: Any]])?.first?["sources"] as? [[String: Any]])
        #expect(sources.map { $0["table"] as? String } == ["\(p)-cdk-users", "\(p)-dev-users"])
        #expect(sources.map { $0["matchedBy"] as? String } == ["\(p)-cdk-*", nil])

        let markdown = try run(["plan", path, "--endpoint-url", localEndpoint, "--markdown"])
        #expect(markdown.status == 0, "\(markdown.stderr)")
        #expect(markdown.stdout.contains("| 1 | `\(p)-cdk-users` (from glob `\(p)-cdk-*`) |"))

        try await client.deleteTable("\(p)-cdk-users")
        try await client.deleteTable("\(p)-dev-users")
    }

    @Test("exit status 1 when an existing target has another key schema")
    func blocked() async throws {
        let client = makeClient(endpoint: localEndpoint)
        let p = TestEnvironment.uniqueTableName("plancli")
        try await createTable(client, "\(p)-src", key: KeyAttribute(name: "id", type: .string))
        try await createTable(client, "\(p)-dst", key: KeyAttribute(name: "id", type: .number))
        let path = try writeMapping(
            """
            version: 1
            tables:
              - source: \(p)-src
                target: \(p)-dst

            """, name: p)
        let result = try run(["plan", path, "--endpoint-url", localEndpoint])
        #expect(result.status == 1)
        #expect(result.stdout.hasPrefix("Plan for \(path) at \(localEndpoint)\n"))
        #expect(
            result.stdout.contains(
                "BLOCKING PROBLEMS: migrate would refuse or stop\n  ✗ target table \(p)-dst already exists with key schema id(N), but the mapping needs id(S); migrate refuses to write into it\n"
            ))
        #expect(result.stdout.contains("\(p)-dst  KEY MISMATCH"))
        #expect(
            result.stderr == """
                error: the plan found 1 blocking problem; migrate would refuse or stop:
                  - target table \(p)-dst already exists with key schema id(N), but the mapping needs id(S); migrate refuses to write into it

                """)
    }
}

@Suite("dynamo-migrate plan, options and rendering")
struct PlanOptionsTests {
    @Test("exit status 2 for a malformed mapping, naming file, line and column (checked before any request)")
    func malformedMapping() throws {
        let path = try writeMapping(
            """
            version: 1
            tables:
              - target: some-target
                sorce: some-source

            """, name: TestEnvironment.uniqueTableName("plancli-bad"))
        let result = try run(["plan", path, "--endpoint-url", localEndpoint])
        #expect(result.status == 2)
        #expect(result.stdout == "")
        #expect(result.stderr.hasPrefix("error: the mapping file has problems:\n"))
        #expect(result.stderr.contains("\n\(path):4:5: unknown key 'sorce' in table entry; did you mean 'source'?"))
    }

    @Test("--json and --markdown exclude each other; --sample and --write-rate are checked")
    func validation() {
        for (arguments, message) in [
            (["plan", "m.yaml", "--json", "--markdown"], "--json and --markdown cannot be used together"),
            (["plan", "m.yaml", "--sample", "101"], "--sample must be between 0 and 100"),
            (["plan", "m.yaml", "--write-rate", "0"], "--write-rate must be a positive number of items per second"),
        ] {
            #expect(throws: (any Error).self) { try DynamoMigrate.parseAsRoot(arguments) }
            do {
                _ = try DynamoMigrate.parseAsRoot(arguments)
            } catch {
                #expect(DynamoMigrate.message(for: error) == message)
                #expect(DynamoMigrate.exitCode(for: error) == .validationFailure)
            }
        }
    }

    @Test("items render in PartiQL notation with key attributes first")
    func itemText() {
        let item: Item = [
            "sk": .n(DynamoNumber(3)), "pk": .s("a\"b"), "z": .ss(["x", "y"]), "bin": .b([1, 2, 3]),
            "m": .m(["b": .bool(true), "a": .null]), "l": .l([.n(DynamoNumber(unchecked: "1.50"))]),
            "odd name": .ns([DynamoNumber(1)]),
        ]
        let schema = KeySchema(partitionKey: KeyAttribute(name: "pk", type: .string), sortKey: KeyAttribute(name: "sk", type: .number))
        #expect(
            ItemText.render(item, key: schema)
                == #"{pk: "a\"b", sk: 3, bin: b64"AQID", l: [1.50], m: {a: null, b: true}, "odd name": <<1>>, z: <<"x", "y">>}"#)
        #expect(ItemText.key(["pk": .s("a"), "sk": .n(DynamoNumber(3))], schema) == #"pk="a", sk=3"#)
    }

    @Test("changes name renames, removals, additions and changed values")
    func changes() {
        let before: Item = ["user_id": .s("u1"), "price": .s("12.50"), "legacy": .bool(true), "same": .s("x")]
        let after: Item = ["userId": .s("u1"), "price": .n(DynamoNumber(unchecked: "12.5")), "same": .s("x"), "from": .s("t")]
        #expect(
            ItemText.changes(from: before, to: after)
                == ["-legacy", "user_id→userId", "+from: \"t\"", "~price: \"12.50\" → 12.5"])
    }

    @Test("durations read in seconds, minutes or hours")
    func durations() {
        #expect(PlanRenderer.durationText(0.006) == "1 s")
        #expect(PlanRenderer.durationText(59.2) == "1 min")
        #expect(PlanRenderer.durationText(95) == "1 min 35 s")
        #expect(PlanRenderer.durationText(7300) == "2 h 2 min")
    }
}
