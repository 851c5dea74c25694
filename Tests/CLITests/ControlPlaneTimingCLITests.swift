import DynamoClient
import DynamoCore
import Foundation
import TestSupport
import Testing

/// The binary meets AWS's control-plane timing, answered by the fault proxy as AWS answers it.
@Suite("control-plane timing, the binary", .serialized, needsLocalServer)
struct ControlPlaneTimingCLITests {
    let client = makeClient(endpoint: localEndpoint)

    @Test("backup enforce --apply: PITR refused right after the table turned ACTIVE is waited out, not a failed change")
    func enforceWaitsOutContinuousBackupsUnavailable() async throws {
        let table = try await makeTable(client, prefix: "pitr-cli-enforce")
        let directory = TestEnvironment.temporaryDirectory("pitr-cli")
        let policy = directory.appendingPathComponent("policy.yaml")
        try Data(
            """
            version: 1
            policies:
              - name: pitr
                tables: ["\(table)"]
                pitr: { required: true }
                rpo: none
                retention: { daily: 0, weekly: 0, monthly: 0 }
            """.utf8
        ).write(to: policy)
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        // One refusal: the binary waits its first second (real time: the binary runs on the system clock).
        proxy.inject(.dynamoError(type: "ContinuousBackupsUnavailableException"), operation: "UpdateContinuousBackups", times: 1)
        let run = try TestEnvironment.runCLI(
            [
                "backup", "enforce", "--policy", policy.path, "--apply",
                "--state-dir", directory.appendingPathComponent("state").path,
                "--endpoint-url", proxy.endpoint,
            ], killAfter: 120)
        #expect(run.status == 0, "stdout: \(run.stdout) stderr: \(run.stderr)")
        #expect(run.stdout.contains("\(table): turn on point-in-time recovery"))
        #expect(proxy.log.filter { $0.operation == "UpdateContinuousBackups" }.count == 2)
        #expect(try await client.describeContinuousBackups(table: table).isPointInTimeRecoveryEnabled)
        try await client.deleteTable(table)
    }
}
