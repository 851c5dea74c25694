import AWSAuth
import Foundation
import RunState
import Testing

@testable import Backup

/// `replicate-to:` in a backup policy and the verdict on a table's newest replica.
@Suite struct ReplicaPolicyTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let sum = ContentChecksum(algorithm: "dmc1-sha256-sum128", itemCount: 3, digest: "ab")

    func replica(ageSeconds: Double, replicaDigest: String = "ab") -> ReplicaRecord {
        let place = ConnectionIdentity(account: "222222222222", arn: nil, region: "us-west-2", endpoint: "https://dynamodb.us-west-2.amazonaws.com")
        return ReplicaRecord(
            table: "orders", source: ConnectionIdentity(account: "111111111111", arn: nil, region: "us-east-1", endpoint: "https://x"),
            destination: place, replicaTable: "orders-replica-1", backupArn: "arn:b", backupName: "orders-replica-1",
            checksumTakenAt: now.addingTimeInterval(-ageSeconds), createdAt: now, itemCount: 3, sourceChecksum: sum,
            replicaChecksum: ContentChecksum(algorithm: sum.algorithm, itemCount: 3, digest: replicaDigest), replicaTableKept: false)
    }

    @Test func parsesReplicateTo() throws {
        let policy = try BackupPolicy.parse(
            yaml: """
                version: 1
                policies:
                  - tables: [orders]
                    replicate-to: { region: us-west-2, profile: dr, role-arn: "arn:aws:iam::222222222222:role/dr", rpo: 6h }
                """, file: "p.yaml")
        #expect(
            policy.rules[0].replicateTo
                == ReplicationRule(
                    connection: Connection(profile: "dr", region: "us-west-2", roleArn: "arn:aws:iam::222222222222:role/dr"), rpoSeconds: 6 * 3600))
    }

    @Test func refusesIncompleteReplicateTo() {
        #expect(throws: BackupPolicyError(file: "p.yaml", line: 4, message: "replicate-to needs `region:` (e.g. us-west-2)")) {
            try BackupPolicy.parse(yaml: "version: 1\npolicies:\n  - tables: [orders]\n    replicate-to: { rpo: 6h }\n", file: "p.yaml")
        }
        #expect(throws: BackupPolicyError(file: "p.yaml", line: 4, message: "replicate-to.rpo must be a duration such as 24h, 90m or 1d")) {
            try BackupPolicy.parse(yaml: "version: 1\npolicies:\n  - tables: [orders]\n    replicate-to: { region: us-west-2, rpo: soon }\n", file: "p.yaml")
        }
    }

    @Test func judgesTheNewestReplica() {
        let rule = ReplicationRule(connection: Connection(region: "us-west-2"), rpoSeconds: 3600)
        #expect(PolicyEngine.evaluateReplica(rule: rule, newest: nil, backupStatus: nil, now: now) == [.noReplica(region: "us-west-2")])
        #expect(PolicyEngine.evaluateReplica(rule: rule, newest: replica(ageSeconds: 60), backupStatus: "AVAILABLE", now: now).isEmpty)
        #expect(
            PolicyEngine.evaluateReplica(rule: rule, newest: replica(ageSeconds: 7200), backupStatus: "AVAILABLE", now: now)
                == [.replicaRPOExceeded(region: "us-west-2", newestAgeSeconds: 7200, rpoSeconds: 3600)])
        #expect(
            PolicyEngine.evaluateReplica(rule: rule, newest: replica(ageSeconds: 60), backupStatus: "missing", now: now)
                == [.replicaUnusable(region: "us-west-2", backupArn: "arn:b", reason: "its backup is missing")])
        let mismatch = PolicyEngine.evaluateReplica(rule: rule, newest: replica(ageSeconds: 60, replicaDigest: "cd"), backupStatus: "AVAILABLE", now: now)
        #expect(mismatch.count == 1)
        if case .replicaUnusable(_, _, let reason)? = mismatch.first {
            #expect(reason.contains("differs from the source's"))
        } else {
            Issue.record("\(mismatch)")
        }
    }
}
