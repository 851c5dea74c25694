import DynamoClient
import DynamoCore
import Foundation
import RunState
import TableIO
import Testing

@testable import Backup

@Suite struct ContentChecksumTests {
    let checksummer = MultisetContentChecksummer()
    let a: Item = [
        "pk": .s("a"), "n": .n(DynamoNumber(unchecked: "1.50")), "ss": .ss(["x", "y"]),
        "m": .m(["k1": .n(DynamoNumber(1)), "k2": .s("v")]),
    ]
    let b: Item = ["pk": .s("b"), "l": .l([.s("1"), .s("2")]), "bs": .bs([[1], [2, 3]])]

    @Test func orderOfItemsMapKeysSetMembersAndNumberFormDoNotMatter() {
        let reordered: Item = [
            "ss": .ss(["y", "x"]), "m": .m(["k2": .s("v"), "k1": .n(DynamoNumber(unchecked: "1E0"))]),
            "n": .n(DynamoNumber(unchecked: "1.5")), "pk": .s("a"),
        ]
        #expect(checksummer.checksum(items: [a, b]) == checksummer.checksum(items: [b, reordered]))
    }

    @Test func anyChangeChangesTheDigest() {
        let base = checksummer.checksum(items: [a, b])
        var changed = b
        changed["l"] = .l([.s("2"), .s("1")])  // list order matters
        #expect(checksummer.checksum(items: [a, changed]).digest != base.digest)
        var typed = a
        typed["pk"] = .b(Array("a".utf8))  // same bytes, different type
        #expect(checksummer.checksum(items: [typed, b]).digest != base.digest)
        #expect(checksummer.checksum(items: [a]).itemCount == 1)
    }

    @Test func combineIsTheChecksumOfTheUnion() {
        #expect(
            checksummer.combine(checksummer.checksum(items: [a]), checksummer.checksum(items: [b]))
                == checksummer.checksum(items: [a, b]))
        #expect(checksummer.combine(checksummer.empty, checksummer.checksum(items: [a])) == checksummer.checksum(items: [a]))
        #expect(checksummer.empty == ContentChecksum(algorithm: "dmc1-sha256-sum128", itemCount: 0, digest: String(repeating: "0", count: 32)))
    }
}

@Suite struct PolicyEngineTests {
    // 2026-11-27 12:00:00 UTC, a Friday (ISO week 48).
    let now = Date(timeIntervalSince1970: 1_795_780_800)
    let rule = BackupRule(
        name: "prod", tables: ["orders-*"], pitrRequired: true, pitrRecoveryPeriodDays: 35, rpoSeconds: 86_400,
        retention: Retention(dailyDays: 7, weeklyWeeks: 4, monthlyMonths: 3))
    let pitrOn = PITRStatus(enabled: true, recoveryPeriodInDays: 35)
    let pitrOff = PITRStatus(enabled: false)

    func backup(daysAgo: Double, type: String = "USER", status: String = "AVAILABLE") -> PolicyBackup {
        PolicyBackup(
            arn: "arn:b/\(daysAgo)", name: "b\(daysAgo)", status: status, type: type,
            creationDate: now.addingTimeInterval(-daysAgo * 86_400))
    }

    @Test func dailyBackupsWithPITRComply() {
        let backups = (0..<120).map { backup(daysAgo: Double($0) + 0.25) }
        let verdict = PolicyEngine.evaluate(table: "orders-eu", rule: rule, pitr: pitrOn, backups: backups, now: now)
        #expect(verdict.violations == [])
        #expect(verdict.backupCount == 120)
        #expect(verdict.newestBackupAgeSeconds == 0.25 * 86_400)
    }

    @Test func pitrOffAndShortRecoveryPeriodAreViolations() {
        let backups = [backup(daysAgo: 0.1)]
        #expect(PolicyEngine.evaluate(table: "t", rule: rule, pitr: pitrOff, backups: backups, now: now).violations == [.pitrDisabled])
        var short = pitrOn
        short.recoveryPeriodInDays = 7
        #expect(
            PolicyEngine.evaluate(table: "t", rule: rule, pitr: short, backups: backups, now: now).violations
                == [.recoveryPeriodTooShort(actualDays: 7, requiredDays: 35)])
    }

    @Test func noBackupsAndStaleBackupsAreViolations() {
        #expect(PolicyEngine.evaluate(table: "t", rule: rule, pitr: pitrOn, backups: [], now: now).violations == [.noBackups])
        // Only SYSTEM and failed backups: none that the policy counts.
        let foreign = [backup(daysAgo: 0.1, type: "SYSTEM"), backup(daysAgo: 0.2, status: "DELETED")]
        #expect(PolicyEngine.evaluate(table: "t", rule: rule, pitr: pitrOn, backups: foreign, now: now).violations == [.noBackups])
        let stale = PolicyEngine.evaluate(table: "t", rule: rule, pitr: pitrOn, backups: [backup(daysAgo: 2)], now: now)
        #expect(stale.violations.first == PolicyViolation.rpoExceeded(newestAgeSeconds: 2 * 86_400, rpoSeconds: 86_400))
    }

    @Test func retentionGapsNameTheMissingPeriods() {
        // Daily backups for 60 days except on 2026-11-24 and 2026-11-25; nothing in ISO week 46 (Nov 9-15).
        var backups = (0..<60).map { backup(daysAgo: Double($0) + 0.25) }
        let skipped = Set(["2026-11-24", "2026-11-25"])
        backups.removeAll { skipped.contains(PolicyEngine.dayKey($0.creationDate)) || PolicyEngine.weekKey($0.creationDate) == "2026-W46" }
        let verdict = PolicyEngine.evaluate(table: "t", rule: rule, pitr: pitrOn, backups: backups, now: now)
        let expected: [PolicyViolation] = [
            .retentionGap(level: "daily", missing: ["2026-11-24", "2026-11-25"]),
            .retentionGap(level: "weekly", missing: ["2026-W46"]),
        ]
        #expect(verdict.violations == expected)
    }

    @Test func periodsBeforeTheFirstBackupAreNotGaps() {
        let backups = (0..<3).map { backup(daysAgo: Double($0) + 0.25) }
        #expect(PolicyEngine.evaluate(table: "t", rule: rule, pitr: pitrOn, backups: backups, now: now).violations == [])
    }

    @Test func grandfatherFatherSonKeepsNewestPerPeriodAndNeverTheNewest() {
        // Two backups a day for 200 days.
        let backups = (0..<400).map { backup(daysAgo: Double($0) / 2 + 0.1) }
        let keep = PolicyEngine.retained(backups, retention: rule.retention, now: now)
        let kept = backups.filter { keep.contains($0.arn) }
        let keptDays = Set(kept.map { PolicyEngine.dayKey($0.creationDate) })
        // 7 days, 4 weeks (Mondays' newest are Sundays' backups of earlier weeks), 3 months.
        #expect(
            keptDays == [
                "2026-11-27", "2026-11-26", "2026-11-25", "2026-11-24", "2026-11-23", "2026-11-22", "2026-11-21",
                "2026-11-15", "2026-11-08", "2026-10-31", "2026-09-30",
            ])
        #expect(kept.count == 11)
        // One per kept day, the later of the two.
        #expect(
            kept.allSatisfy { b in
                !backups.contains { $0.creationDate > b.creationDate && PolicyEngine.dayKey($0.creationDate) == PolicyEngine.dayKey(b.creationDate) }
            })
        let pruned = PolicyEngine.prunable(backups, retention: rule.retention, now: now)
        #expect(pruned.count == 389)
        #expect(!pruned.contains { $0.arn == backups[0].arn })
        // A single, ancient backup is still the newest: never pruned.
        #expect(PolicyEngine.prunable([backup(daysAgo: 900)], retention: rule.retention, now: now) == [])
        // SYSTEM backups are never touched.
        #expect(PolicyEngine.prunable([backup(daysAgo: 1), backup(daysAgo: 500, type: "SYSTEM")], retention: rule.retention, now: now) == [])
    }

    @Test func policyFileParsesAndReportsProblemsWithLines() throws {
        let policy = try BackupPolicy.parse(
            yaml: """
                version: 1
                policies:
                  - name: prod
                    tables: ["orders-*", users]
                    exclude: "*-drill-*"
                    pitr: { required: true, recoveryPeriodDays: 14 }
                    rpo: 12h
                    retention: { daily: 10, weekly: 0, monthly: 6 }
                """, file: "p.yaml")
        #expect(
            policy.rules == [
                BackupRule(
                    name: "prod", tables: ["orders-*", "users"], exclude: ["*-drill-*"], pitrRequired: true,
                    pitrRecoveryPeriodDays: 14, rpoSeconds: 43_200,
                    retention: Retention(dailyDays: 10, weeklyWeeks: 0, monthlyMonths: 6))
            ])
        #expect(policy.rule(for: "orders-eu")?.name == "prod")
        #expect(policy.rule(for: "orders-eu-drill-20260101000000") == nil)
        #expect(policy.rule(for: "payments") == nil)

        #expect(throws: BackupPolicyError(file: "p.yaml", line: 4, message: "rpo must be a duration such as 24h, 90m or 1d (or none)")) {
            try BackupPolicy.parse(yaml: "version: 1\npolicies:\n  - tables: [a]\n    rpo: soon\n", file: "p.yaml")
        }
        #expect(throws: BackupPolicyError(file: "p.yaml", line: 4, message: "pitr.recoveryPeriodDays must be 1 to 35 (DynamoDB's range)")) {
            try BackupPolicy.parse(yaml: "version: 1\npolicies:\n  - tables: [a]\n    pitr: {recoveryPeriodDays: 90}\n", file: "p.yaml")
        }
        #expect(
            throws: BackupPolicyError(
                file: "p.yaml", line: 3, message: "unknown key 'tabels' (expected exclude, name, pitr, replicate-to, retention, rpo, tables)")
        ) {
            try BackupPolicy.parse(yaml: "version: 1\npolicies:\n  - tabels: [a]\n", file: "p.yaml")
        }
    }

    @Test func shippedPolicyFileLoads() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("mappings/backup-policy.yaml")
        let policy = try BackupPolicy.load(path: url.path)
        #expect(policy.rules.map(\.name) == ["production"])
        #expect(policy.rules[0].retention == Retention(dailyDays: 30, weeklyWeeks: 12, monthlyMonths: 12))
        #expect(policy.rules[0].rpoSeconds == 86_400)
    }

    @Test func metricsAreValidPrometheusText() {
        let verdicts = [
            TableVerdict(
                table: "orders", rule: "prod", pitrEnabled: true, recoveryPeriodDays: 35, backupCount: 3,
                newestBackupAgeSeconds: 3600, violations: []),
            TableVerdict(
                table: "we\"ird", rule: "prod", pitrEnabled: false, recoveryPeriodDays: nil, backupCount: 0,
                newestBackupAgeSeconds: nil, violations: [.pitrDisabled, .noBackups]),
        ]
        let text = PolicyMetrics.text(verdicts, now: now)
        #expect(text.contains("dynamo_migrate_backup_policy_compliant{table=\"orders\",policy=\"prod\"} 1\n"))
        #expect(text.contains("dynamo_migrate_backup_policy_compliant{table=\"we\\\"ird\",policy=\"prod\"} 0\n"))
        #expect(text.contains("dynamo_migrate_backup_policy_violations{table=\"we\\\"ird\",policy=\"prod\"} 2\n"))
        #expect(text.contains("dynamo_migrate_backup_newest_age_seconds{table=\"orders\",policy=\"prod\"} 3600\n"))
        #expect(!text.contains("dynamo_migrate_backup_newest_age_seconds{table=\"we"))
        #expect(text.hasSuffix("dynamo_migrate_backup_policy_last_run_timestamp_seconds 1795780800\n"))
    }

    @Test func durationsParse() {
        #expect(parseDurationSeconds("4h") == 14_400)
        #expect(parseDurationSeconds("1h30m") == 5_400)
        #expect(parseDurationSeconds("2d") == 172_800)
        #expect(parseDurationSeconds("90") == nil)
        #expect(parseDurationSeconds("4x") == nil)
    }
}

@Suite struct DrillReportTests {
    @Test func reportShowsEveryDrillAndTheTrend() {
        func record(_ at: Double, rto: Double, validation: DrillValidation = .passed, target: Double? = 3600) -> DrillRecord {
            DrillRecord(
                table: "orders", scratchTable: "orders-drill-x", sourceKind: .backup, sourceReference: "arn:x/backup/b1",
                startedAt: Date(timeIntervalSince1970: at), phases: [DrillPhase(name: "ACTIVE", seconds: rto)],
                measuredRTOSeconds: rto, rtoTargetSeconds: target, expectedChecksum: nil, expectedFrom: "",
                actualChecksum:
                    ContentChecksum(algorithm: "fnv1a64-sum", itemCount: 5, digest: "00"),
                validation: validation, kept: false, notes: [], error: nil)
        }
        let text = DrillReport.markdown([record(1_795_000_000, rto: 100), record(1_795_100_000, rto: 150, validation: .failed)])
        #expect(text.contains("| 2026-11-18T11:06:40 | orders | backup b1 | 5 | ACTIVE 1m 40s | 1m 40s | 1h 0m 0s | passed | PASS |"))
        #expect(text.contains("| failed | FAIL |"))
        #expect(
            text.contains(
                "- orders: 1 of 2 drills passed; measured RTO 1m 40s → 2m 30s (+50%, slower), best 1m 40s, worst 2m 30s; latest uses 4% of the 1h 0m 0s target")
        )
        #expect(record(0, rto: 4000).passed == false)  // RTO missed
        #expect(record(0, rto: 4000, target: nil).passed == true)
    }
}
