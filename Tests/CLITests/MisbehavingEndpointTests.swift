import DynamoClient
import DynamoCore
import Foundation
import TestSupport
import Testing

/// The binary against an endpoint that answers wrongly, through a real proxy in front of the local
/// server: a broken answer is an error (exit 1) naming the table, never an empty table or an endless scan.
@Suite(needsLocalServer)
struct MisbehavingEndpointTests {
    let direct = makeClient(endpoint: localEndpoint)

    func table(items: Int) async throws -> String {
        let table = try await makeTable(direct, prefix: "misbehaving")
        try await writeAll(direct, table, sampleItems(items))
        return table
    }

    @Test func aScanAnswerWithoutItemsFailsTheChecksum() async throws {
        let table = try await table(items: 3)
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        proxy.inject(.rewriteMember("Items", json: nil), operation: "Scan", times: 1)
        let run = try TestEnvironment.runCLI(["checksum", table, "--segments", "1", "--endpoint-url", proxy.endpoint])
        #expect(run.status == 1, "\(run.stdout)")
        #expect(run.stderr == "error: Scan on table \(table): the endpoint's answer is not valid DynamoDB JSON (the answer has no Items); attempts: 1\n")
        #expect(run.stdout.isEmpty)
        try await direct.deleteTable(table)
    }

    /// Every Scan answer carries the same LastEvaluatedKey: the first page's is new, the second repeats it.
    @Test(arguments: ["checksum", "export"])
    func aRepeatedLastEvaluatedKeyStopsTheScan(command: String) async throws {
        let table = try await table(items: 3)
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        proxy.inject(.rewriteMember("LastEvaluatedKey", json: #"{"pk":{"S":"item-1"}}"#), operation: "Scan", probability: 1, seed: 1)
        let output = TestEnvironment.temporaryDirectory("repeated-key")
        let arguments =
            command == "checksum"
            ? ["checksum", table, "--segments", "1"]  // ParallelScan.run / scanSegment
            : ["export", table, "--to", output.path, "--segments", "1"]  // ParallelScan.forEachPage
        // Without the check the scan never ends: the run is killed after a minute and the test fails.
        let run = try TestEnvironment.runCLI(arguments + ["--endpoint-url", proxy.endpoint], killAfter: 60)
        #expect(run.status == 1)
        #expect(
            run.stderr.contains(
                #"Scan of table \#(table), segment 0 of 1: the endpoint sent LastEvaluatedKey {"pk":{"S":"item-1"}} a second time, so the scan would never end; stopped."#
            ),
            "\(run.stderr)")
        #expect(proxy.log.filter { $0.operation == "Scan" }.count == 2)
        try await direct.deleteTable(table)
    }

    @Test func aMissingTableIsNamedWithRegionAndEndpoint() async throws {
        let missing = TestEnvironment.uniqueTableName("no-such-table")
        let run = try TestEnvironment.runCLI(["checksum", missing, "--endpoint-url", localEndpoint])
        #expect(run.status == 1)
        #expect(
            run.stderr.hasPrefix("error: table \(missing) does not exist in us-east-1 at \(localEndpoint) (DescribeTable failed: ResourceNotFoundException"),
            "\(run.stderr)")
    }

    @Test func anUnwritableExportFolderIsASentence() async throws {
        let table = try await table(items: 1)
        let file = TestEnvironment.temporaryDirectory("export-to-file").appendingPathComponent("plain-file")
        try Data("x".utf8).write(to: file)
        let run = try TestEnvironment.runCLI(["export", table, "--to", file.appendingPathComponent("sub").path, "--endpoint-url", localEndpoint])
        #expect(run.status == 1)
        #expect(run.stderr.hasPrefix("error: \(file.path)/sub/AWSDynamoDB/"), "\(run.stderr)")
        #expect(run.stderr.hasSuffix(": cannot create the export folder: \(file.path) is a file, not a folder\n"), "\(run.stderr)")
        #expect(!run.stderr.contains("NSCocoaErrorDomain"))
        try await direct.deleteTable(table)
    }

    @Test func oneFailedAttemptIsQuietTwoAreAWarningAndVerboseShowsEvery() async throws {
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        proxy.inject(.resetBeforeForwarding, operation: "ListTables", times: 1)
        let once = try TestEnvironment.runCLI(["tables", "--endpoint-url", proxy.endpoint])
        #expect(once.status == 0)
        #expect(once.stderr.isEmpty, "one retry is routine: \(once.stderr)")

        proxy.inject(.resetBeforeForwarding, operation: "ListTables", times: 1)
        let verbose = try TestEnvironment.runCLI(["tables", "--verbose", "--endpoint-url", proxy.endpoint])
        #expect(verbose.status == 0)
        #expect(verbose.stderr.contains("ListTables: ") && verbose.stderr.contains("retrying (attempt 2 of 10)"), "\(verbose.stderr)")

        proxy.inject(.resetBeforeForwarding, operation: "ListTables", times: 2)
        let twice = try TestEnvironment.runCLI(["tables", "--endpoint-url", proxy.endpoint])
        #expect(twice.status == 0)
        #expect(!twice.stderr.contains("attempt 2 of 10"), "\(twice.stderr)")
        #expect(twice.stderr.contains("warning") && twice.stderr.contains("retrying (attempt 3 of 10)"), "\(twice.stderr)")
    }
}
