import DynamoClient
import DynamoCore
import Foundation
import TestSupport
import Testing

/// The binary through a fault proxy that loses one answer (AWS applied the request, the answer never
/// came back): the command still ends as asked, with exit status 0.
@Suite("lost answers, the binary", .serialized, needsLocalServer)
struct LostAnswerCLITests {
    let client = makeClient(endpoint: localEndpoint)

    func write(_ text: String, _ name: String) throws -> String {
        let url = TestEnvironment.temporaryDirectory("lost-cli").appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    @Test("migrate: a lost CreateTable answer adopts the table and applies its TTL and PITR")
    func migrateLostCreateTable() async throws {
        let source = try await makeTable(client, prefix: "lost-cli-src")
        try await writeAll(client, source, sampleItems(10))
        let target = TestEnvironment.uniqueTableName("lost-cli-tgt")
        let mapping = try write(
            """
            version: 1
            tables:
              - source: \(source)
                target: \(target)
                settings:
                  ttl: expiresAt
            """, "mapping.yaml")
        let state = TestEnvironment.temporaryDirectory("lost-cli-state").path
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        proxy.inject(.resetAfterForwarding, operation: "CreateTable", times: 1)
        let run = try TestEnvironment.runCLI(["migrate", mapping, "--state-dir", state, "--endpoint-url", proxy.endpoint])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(proxy.counters.applied(.resetAfterForwarding) == 1)
        #expect(run.stdout.contains("created: \(target)"))
        let ttl = try await client.describeTimeToLive(target)
        #expect(ttl.isEnabled && ttl.attributeName == "expiresAt")
        #expect(try await client.describeContinuousBackups(table: target).isPointInTimeRecoveryEnabled)
        #expect(try await scanAll(client, target).count == 10)
        try await client.deleteTable(target)
        try await client.deleteTable(source)
    }

    @Test("backup enforce --apply: a lost DeleteBackup answer is a delete done, not a failed change")
    func enforceLostDeleteBackup() async throws {
        let table = try await makeTable(client, prefix: "lost-cli-enforce")
        _ = try await client.createBackup(table: table, name: "\(table)-older")
        let newer = try await client.createBackup(table: table, name: "\(table)-newer")
        let policy = try write(
            """
            version: 1
            policies:
              - name: lost
                tables: ["\(table)"]
                pitr: { required: false }
                rpo: none
                retention: { daily: 0, weekly: 0, monthly: 0 }
            """, "policy.yaml")
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        proxy.inject(.resetAfterForwarding, operation: "DeleteBackup", times: 1)
        let run = try TestEnvironment.runCLI([
            "backup", "enforce", "--policy", policy, "--apply",
            "--state-dir", TestEnvironment.temporaryDirectory("lost-cli-bk").path,
            "--endpoint-url", proxy.endpoint,
        ])
        #expect(run.status == 0, "stdout: \(run.stdout) stderr: \(run.stderr)")
        #expect(!run.stderr.contains("failed"))
        #expect(run.stdout.contains("delete \(table)-older"))
        #expect(run.stdout.contains("\(table)-older was already gone"), "the retry met BackupNotFoundException: \(run.stdout)")
        #expect(proxy.counters.applied(.resetAfterForwarding) == 1)
        #expect(try await client.listBackups(table: table).map(\.arn) == [newer.arn])
        try await client.deleteBackup(arn: newer.arn)
        try await client.deleteTable(table)
    }
}
