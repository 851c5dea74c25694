import Foundation
import Testing
import TestSupport

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
    @Test(arguments: [["migrate", "m.yaml"], ["verify", "m.yaml"], ["checksum", "t"], ["diff", "a", "b"],
                      ["export", "table", "t", "--to", "/tmp/x"], ["backup", "create", "t"]])
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
        let path = try mapping("""
            version: 1
            tables:
              - source: orders-old
                tranforms: []
                target: orders-new
            """)
        // The endpoint is closed: only a mapping checked before any network call can give this answer.
        let run = try TestEnvironment.runCLI(["migrate", path, "--endpoint-url", "http://127.0.0.1:9"]
                                             , environment: ["AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "AWS_REGION": "us-east-1"])
        #expect(run.status == 2)
        #expect(run.stderr == "error: the mapping file has problems:\n\(path):4:5: unknown key 'tranforms' in table entry; did you mean 'transforms'?\n")
    }

    /// `--match` has the glob syntax of mapping files; shell classes and escapes are refused, not silently
    /// matching nothing (the endpoint is closed: the answer comes before any network call).
    @Test func aMatchGlobWithShellSyntaxIsRefused() throws {
        let env = ["AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "AWS_REGION": "us-east-1"]
        let tables = try TestEnvironment.runCLI(["tables", "--match", "orders-[ab]", "--endpoint-url", "http://127.0.0.1:9"], environment: env)
        #expect(tables.status == 2)
        #expect(tables.stderr == "error: --match 'orders-[ab]': '[' cannot be part of a table name; a glob has * (any run of characters) and ? (one character), nothing else\n")
        let backups = try TestEnvironment.runCLI(["backup", "list", "--match", "orders\\*", "--endpoint-url", "http://127.0.0.1:9",
                                                  "--state-dir", TestEnvironment.temporaryDirectory("match").path], environment: env)
        #expect(backups.status == 2)
        #expect(backups.stderr == "error: --match 'orders\\*': '\\' cannot be part of a table name; a glob has * (any run of characters) and ? (one character), nothing else\n")
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
        let profile = try TestEnvironment.runCLI(["tables", "--profile", "nope", "--endpoint-url", "http://127.0.0.1:9"],
                                                 environment: ["AWS_REGION": "us-east-1"])
        #expect(profile.status == 2)
        #expect(profile.stderr.contains("nope"))
        #expect(!profile.stderr.contains("test-secret-key"))
    }
}
