import Foundation
import TestSupport
import Testing

/// Bad input gets a specific message and a non-zero exit; nothing is touched.
@Suite struct InputErrorTests {
    func mapping(_ yaml: String) throws -> String {
        let url = TestEnvironment.temporaryDirectory("input-errors").appendingPathComponent("m.yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func badFlagValuesExitWithTwo() throws {
        let run = try TestEnvironment.runCLI(["migrate", "m.yaml", "--max-read-units", "nan"])
        #expect(run.status == 2)
        #expect(run.stderr.hasPrefix("Error: --max-read-units must be a number of capacity units per second, at least 1"))
        let unknown = try TestEnvironment.runCLI(["tables", "--no-such-flag"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("Unknown option '--no-such-flag'"))
    }

    /// `--segments` is one option: every command that scans refuses the same bad values with the same line
    /// (backup create used to take any number).
    @Test(arguments: [
        ["migrate", "m.yaml"], ["verify", "m.yaml"], ["checksum", "t"], ["diff", "a", "b"],
        ["export", "table", "t", "--to", "/tmp/x"], ["backup", "create", "t"],
    ])
    func badSegmentsExitWithTwoEverywhere(_ command: [String]) throws {
        for bad in ["0", "1000001"] {
            let run = try TestEnvironment.runCLI(command + ["--segments", bad])
            #expect(run.status == 2, "\(command) --segments \(bad)")
            #expect(run.stderr.hasPrefix("Error: --segments must be between 1 and 1000000"), "\(command): \(run.stderr)")
        }
    }

    /// `--json` is one flag everywhere; only plan also takes --markdown, and not both at once.
    @Test func jsonAndMarkdownAreRefusedTogether() throws {
        let run = try TestEnvironment.runCLI(["plan", "m.yaml", "--json", "--markdown"])
        #expect(run.status == 2)
        #expect(run.stderr.hasPrefix("Error: --json and --markdown cannot be used together"))
        let elsewhere = try TestEnvironment.runCLI(["verify", "m.yaml", "--markdown"])
        #expect(elsewhere.status == 2)
        #expect(elsewhere.stderr.contains("Unknown option '--markdown'"))
    }

    @Test func aMalformedMappingIsRefusedBeforeAnyNetworkCall() throws {
        let path = try mapping(
            """
            version: 1
            tables:
              - source: orders-old
                tranforms: []
                target: orders-new
            """)
        // The endpoint is closed: only a mapping checked before any network call can give this answer.
        let run = try TestEnvironment.runCLI(
            ["migrate", path, "--endpoint-url", "http://127.0.0.1:9"],
            environment: ["AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "AWS_REGION": "us-east-1"])
        #expect(run.status == 2)
        #expect(run.stderr == "error: the mapping file has problems:\n\(path):4:5: unknown key 'tranforms' in table entry; did you mean 'transforms'?\n")
    }

    /// `--match` has the glob syntax of mapping files; shell classes and escapes are refused, not silently
    /// matching nothing (the endpoint is closed: the answer comes before any network call).
    @Test func aMatchGlobWithShellSyntaxIsRefused() throws {
        let env = ["AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "AWS_REGION": "us-east-1"]
        let tables = try TestEnvironment.runCLI(["tables", "--match", "orders-[ab]", "--endpoint-url", "http://127.0.0.1:9"], environment: env)
        #expect(tables.status == 2)
        #expect(
            tables.stderr
                == "error: --match 'orders-[ab]': '[' cannot be part of a table name; a glob has * (any run of characters) and ? (one character), nothing else\n"
        )
        let backups = try TestEnvironment.runCLI(
            [
                "backup", "list", "--match", "orders\\*", "--endpoint-url", "http://127.0.0.1:9",
                "--state-dir", TestEnvironment.temporaryDirectory("match").path,
            ], environment: env)
        #expect(backups.status == 2)
        #expect(
            backups.stderr
                == "error: --match 'orders\\*': '\\' cannot be part of a table name; a glob has * (any run of characters) and ? (one character), nothing else\n"
        )
    }

    @Test func anUnreachableEndpointSaysWhichAndExitsWithOne() throws {
        let run = try TestEnvironment.runCLI(["tables", "--endpoint-url", "http://127.0.0.1:9"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("warning") && run.stderr.contains("ListTables: could not connect to http://127.0.0.1:9/"), "retries are announced")
        #expect(run.stderr.contains("error: ListTables failed after 10 attempts: could not connect to http://127.0.0.1:9/"))
        #expect(run.stderr.contains("Is the endpoint right and reachable? (--endpoint-url, AWS_ENDPOINT_URL_DYNAMODB)"))
    }

    @Test func missingCredentialsAndUnknownProfilesAreNamed() throws {
        let none = try TestEnvironment.runCLI(["tables", "--endpoint-url", "http://127.0.0.1:9"], environment: ["AWS_REGION": "us-east-1"])
        #expect(none.status == 2)
        #expect(none.stderr.hasPrefix("error: No AWS credentials found. Looked in:"))
        let profile = try TestEnvironment.runCLI(
            ["tables", "--profile", "nope", "--endpoint-url", "http://127.0.0.1:9"],
            environment: ["AWS_REGION": "us-east-1"])
        #expect(profile.status == 2)
        #expect(profile.stderr.contains("nope"))
        #expect(!profile.stderr.contains("test-secret-key"))
    }
}

/// Flags and files that cannot be right are bad input: one line naming them, exit 2, before any call.
@Suite struct InputValueTests {
    let closed = ["--endpoint-url", "http://127.0.0.1:9"]

    @Test func anOutOfRangePortAnEmptyRegionAndAnEmptyTableNameExitWithTwo() throws {
        let port = try TestEnvironment.runCLI(["tables", "--endpoint-url", "http://127.0.0.1:99999"])
        #expect(port.status == 2)
        #expect(port.stderr.hasPrefix("Error: --endpoint-url http://127.0.0.1:99999: port 99999 is out of range; ports are 1 to 65535\n"), "\(port.stderr)")
        let region = try TestEnvironment.runCLI(["tables", "--region", ""] + closed)
        #expect(region.status == 2)
        #expect(region.stderr.hasPrefix("Error: --region is empty; give a region such as us-east-1, or leave the flag out\n"), "\(region.stderr)")
        for arguments in [
            ["checksum", ""], ["export", "", "--to", "x"], ["backup", "create", ""], ["diff", "a-table", ""],
            ["drill", "", "--latest-backup"], ["import", "x", "--table", ""],
        ] {
            let table = try TestEnvironment.runCLI(arguments + closed)
            #expect(table.status == 2, "\(arguments)")
            #expect(table.stderr.hasPrefix("Error: a table name is empty; DynamoDB table names are 3 to 255 characters\n"), "\(arguments): \(table.stderr)")
        }
    }

    /// Every command, nested ones included, takes --verbose as the README says.
    @Test func everyCommandAcceptsVerbose() throws {
        let root = try TestEnvironment.runCLI(["--help"])
        var pending = [[String]]()
        var leaves = [[String]]()
        func subcommands(of help: String) -> [String] {
            guard let section = help.components(separatedBy: "SUBCOMMANDS:").dropFirst().first else { return [] }
            // "  name   abstract": two spaces, then a lower-case name (continuations are indented further;
            // the closing "See 'dynamo-migrate help …'" is capitalized).
            return section.split(separator: "\n").compactMap { line in
                guard line.hasPrefix("  "), !line.hasPrefix("   "), let name = line.split(separator: " ").first,
                    name.first?.isLowercase == true
                else { return nil }
                return String(name)
            }.filter { $0 != "help" }
        }
        pending = subcommands(of: root.stdout).map { [$0] }
        #expect(pending.count == 12, "\(root.stdout)")
        while let path = pending.popLast(), path.count <= 2 {
            let help = try TestEnvironment.runCLI(path + ["--help"])
            let nested = subcommands(of: help.stdout)
            if nested.isEmpty { leaves.append(path) } else { pending += nested.map { path + [$0] } }
        }
        #expect(leaves.count == 18, "\(leaves)")
        for path in leaves {
            let help = try TestEnvironment.runCLI(path + ["--help"])
            #expect(help.stdout.contains("-v, --verbose"), "\(path.joined(separator: " ")) does not take --verbose")
        }
        // Not only listed: parsed. (The export folder does not exist: a usage error, not an unknown option.)
        let verify = try TestEnvironment.runCLI(["export", "verify", "--verbose", "/nonexistent-export"])
        #expect(!verify.stderr.contains("Unknown option"), "\(verify.stderr)")
        let report = try TestEnvironment.runCLI(["drill", "report", "--verbose", "--state-dir", TestEnvironment.temporaryDirectory("drills").path])
        #expect(report.status == 0, "\(report.stderr)")
    }

    @Test func aMappingNestedTenThousandLevelsDeepIsRefusedWithItsLine() throws {
        let url = TestEnvironment.temporaryDirectory("deep").appendingPathComponent("m.yaml")
        try ("version: 1\ntables: " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "\n")
            .write(to: url, atomically: true, encoding: .utf8)
        let run = try TestEnvironment.runCLI(["plan", url.path] + closed)
        #expect(run.status == 2)
        // The top-level map is level 1, the first '[' (column 9) level 2: level 33 is the '[' in column 40.
        #expect(
            run.stderr
                == "error: the mapping file has problems:\n\(url.path):2:40: nested more than 32 levels deep; a mapping file needs only a few levels; is this the right file?\n"
        )
    }

    @Test func onlyTheFirstFiftyMappingProblemsArePrinted() throws {
        let url = TestEnvironment.temporaryDirectory("many-problems").appendingPathComponent("m.yaml")
        var yaml = "version: 1\ntables:\n  - source: a-source\n    target: a-target\n"
        for i in 0..<60 { yaml += "    unknown\(i): x\n" }
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        let run = try TestEnvironment.runCLI(["plan", url.path] + closed)
        #expect(run.status == 2)
        let lines = run.stderr.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 1 + 50 + 1 + 1, "\(run.stderr)")  // header, 50 problems, the count, the final newline
        #expect(lines[1].hasPrefix("\(url.path):5:5: unknown key 'unknown0'"))
        #expect(lines[50].hasPrefix("\(url.path):54:5: unknown key 'unknown49'"))
        #expect(lines[51] == "… and 10 more problems")
    }
}
