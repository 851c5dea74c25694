import DynamoClient
import DynamoCore
import Foundation
import TestSupport
import Testing

/// The binary, end to end: `verify` records each target's mapping fingerprint and `decommission`
/// compares it with the mapping it is given.
@Suite("dynamo-migrate decommission, the binary", needsLocalServer)
struct DecommissionCommandTests {
    /// The case: migrated and verified with a filter (83 of 150 items reach the target), then the
    /// filter is removed and the source listed under decommission:, a backup taken, and `--execute` run.
    @Test("a mapping edited after verify refuses the source (exit 1), naming the target and 're-run verify'")
    func aMappingEditedAfterVerifyIsRefused() async throws {
        let client = makeClient(endpoint: localEndpoint)
        let source = try await makeTable(client, prefix: "cli-dec-source")
        let target = TestEnvironment.uniqueTableName("cli-dec-target")
        try await writeAll(client, source, (0..<150).map { ["pk": .s("item-\($0)"), "keep": .s($0 < 83 ? "yes" : "no")] })
        let directory = TestEnvironment.temporaryDirectory("cli-decommission")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let mapping = directory.appendingPathComponent("orders.yaml")
        let state = directory.appendingPathComponent("state").path
        func write(_ yaml: String) throws { try Data(yaml.utf8).write(to: mapping) }
        let common = ["--endpoint-url", localEndpoint, "--state-dir", state]

        try write(
            """
            version: 1
            tables:
              - target: \(target)
                sources:
                  - table: \(source)
                    transforms:
                      - filter: { attribute: keep, equals: "yes" }
            """)
        let migrated = try TestEnvironment.runCLI(["migrate", mapping.path] + common)
        #expect(migrated.status == 0, "\(migrated.stderr)")
        let verified = try TestEnvironment.runCLI(["verify", mapping.path] + common)
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        let record = try String(contentsOf: URL(fileURLWithPath: state).appendingPathComponent("verification.json"), encoding: .utf8)
        #expect(record.contains("\"mappingFingerprint\" : \""))
        let backup = try await client.createBackup(table: source, name: "\(source)-before-decommission")
        try await client.waitUntilBackupAvailable(backup.arn, pollInterval: .milliseconds(50))

        try write(
            """
            version: 1
            tables:
              - target: \(target)
                sources:
                  - table: \(source)
            decommission: [\(source)]
            """)
        let result = try TestEnvironment.runCLI(["decommission", mapping.path, "--execute", "--yes-delete", source] + common)
        #expect(result.status == 1)
        #expect(result.stdout.contains("\(source): REFUSED\n"))
        #expect(
            result.stdout.contains(
                "  ✘ data accounted for: the mapping's entry for target \(target) (its sources, transforms, filters, key prefixes, conflict policy or env) changed since it was verified: re-run verify\n"
            ))
        #expect(try await client.describeTableIfExists(source) != nil, "the 67 filtered items exist only in the source")

        try? await client.deleteTable(source)
        try? await client.deleteTable(target)
        try? await client.deleteBackup(arn: backup.arn)
    }
}
