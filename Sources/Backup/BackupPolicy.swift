import AWSAuth
import DynamoClient
import Foundation
import Mappings
import RunState
import TableIO
import Yams

/// A backup policy file (see docs/backup-policy.md): rules, each for a set of table patterns.
public struct BackupPolicy: Sendable, Equatable {
    public var rules: [BackupRule]
    public var file: String

    /// The first rule whose patterns match `table` (and whose excludes do not), or nil.
    public func rule(for table: String) -> BackupRule? {
        rules.first { rule in
            rule.tables.contains { Glob($0).matches(table) } && !rule.exclude.contains { Glob($0).matches(table) }
        }
    }
}

/// One rule of a policy.
public struct BackupRule: Sendable, Equatable {
    public var name: String
    /// Table name globs (`*`, `?`).
    public var tables: [String]
    public var exclude: [String]
    public var pitrRequired: Bool
    /// Minimum PITR recovery period in days (1-35); nil when not checked.
    public var pitrRecoveryPeriodDays: Int?
    /// The newest AVAILABLE on-demand backup must be younger than this; nil when no on-demand backups are required.
    public var rpoSeconds: Double?
    public var retention: Retention
    /// `replicate-to:`: where the table's replicas (`backup replicate`) must be, and how fresh; nil when not required.
    public var replicateTo: ReplicationRule? = nil

    public init(
        name: String, tables: [String], exclude: [String] = [], pitrRequired: Bool = true,
        pitrRecoveryPeriodDays: Int? = 35, rpoSeconds: Double? = 86400, retention: Retention = Retention()
    ) {
        self.name = name; self.tables = tables; self.exclude = exclude; self.pitrRequired = pitrRequired
        self.pitrRecoveryPeriodDays = pitrRecoveryPeriodDays; self.rpoSeconds = rpoSeconds; self.retention = retention
    }
}

/// `replicate-to:` of a rule: the region (and optionally profile, role and endpoint) a replica must be
/// kept in, and the most its newest replica may lag behind.
public struct ReplicationRule: Sendable, Equatable {
    public var connection: Connection
    public var rpoSeconds: Double
    public init(connection: Connection, rpoSeconds: Double) { self.connection = connection; self.rpoSeconds = rpoSeconds }
    /// The region (required in the file).
    public var region: String { connection.region ?? "" }
}

/// Grandfather-father-son retention: keep the newest backup of each of the last `dailyDays` UTC
/// days, `weeklyWeeks` ISO weeks and `monthlyMonths` calendar months.
public struct Retention: Sendable, Equatable, Codable {
    public var dailyDays: Int
    public var weeklyWeeks: Int
    public var monthlyMonths: Int
    public init(dailyDays: Int = 30, weeklyWeeks: Int = 12, monthlyMonths: Int = 12) {
        self.dailyDays = dailyDays; self.weeklyWeeks = weeklyWeeks; self.monthlyMonths = monthlyMonths
    }
}

/// A problem in a policy file, with its line.
public struct BackupPolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var message: String
    public var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(message)" }
}

extension BackupPolicy {
    public static func load(path: String) throws(BackupPolicyError) -> BackupPolicy {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw BackupPolicyError(file: path, line: nil, message: "cannot read the policy file: \(plainReason(error))")
        }
        return try parse(yaml: text, file: path)
    }

    public static func parse(yaml: String, file: String) throws(BackupPolicyError) -> BackupPolicy {
        // Checked first: Yams would overflow the stack building a tree thousands of levels deep.
        if let (line, _) = firstNestingBeyond(maxMappingNesting, in: yaml) {
            throw BackupPolicyError(file: file, line: line, message: "nested more than \(maxMappingNesting) levels deep; is this the right file?")
        }
        let root: Node?
        do { root = try Yams.compose(yaml: yaml) } catch {
            throw BackupPolicyError(file: file, line: nil, message: "not valid YAML: \(error)")
        }
        func fail(_ node: Node?, _ message: String) -> BackupPolicyError {
            BackupPolicyError(file: file, line: node.map { $0.mark.map { $0.line } ?? 0 }, message: message)
        }
        guard let root, let top = root.mapping else { throw fail(root, "the policy must be a mapping with `version: 1` and `policies:`") }
        for (key, _) in top where !["version", "policies"].contains(key.string ?? "") {
            throw fail(key, "unknown key '\(key.string ?? "?")' (expected version, policies)")
        }
        guard top["version"]?.int == 1 else { throw fail(top["version"] ?? root, "`version: 1` is required") }
        guard let list = top["policies"]?.sequence, !list.isEmpty else { throw fail(top["policies"] ?? root, "`policies:` must list at least one rule") }
        var rules: [BackupRule] = []
        let known: Set<String> = ["name", "tables", "exclude", "pitr", "rpo", "retention", "replicate-to"]
        for node in list {
            guard let m = node.mapping else { throw fail(node, "each policy is a mapping") }
            for (key, _) in m where !known.contains(key.string ?? "") {
                throw fail(key, "unknown key '\(key.string ?? "?")' (expected \(known.sorted().joined(separator: ", ")))")
            }
            func strings(_ key: String) throws(BackupPolicyError) -> [String] {
                guard let value = m[key] else { return [] }
                if let s = value.string { return [s] }
                guard let seq = value.sequence else { throw fail(value, "\(key) must be a table pattern or a list of them") }
                var result: [String] = []
                for element in seq {
                    guard let s = element.string else { throw fail(element, "\(key) entries must be strings") }
                    result.append(s)
                }
                return result
            }
            let name = m["name"]?.string ?? "policy-\(rules.count + 1)"
            let tables = try strings("tables")
            guard !tables.isEmpty else { throw fail(node, "policy '\(name)' needs `tables:` (patterns such as orders-*)") }
            var rule = BackupRule(name: name, tables: tables, exclude: try strings("exclude"))
            if let pitr = m["pitr"] {
                guard let pm = pitr.mapping else { throw fail(pitr, "pitr must be a mapping (required, recoveryPeriodDays)") }
                for (key, _) in pm where !["required", "recoveryPeriodDays"].contains(key.string ?? "") {
                    throw fail(key, "unknown key '\(key.string ?? "?")' in pitr (expected required, recoveryPeriodDays)")
                }
                if let r = pm["required"] {
                    guard let b = r.bool else { throw fail(r, "pitr.required must be true or false") }
                    rule.pitrRequired = b
                }
                if let d = pm["recoveryPeriodDays"] {
                    guard let days = d.int, (1...35).contains(days) else { throw fail(d, "pitr.recoveryPeriodDays must be 1 to 35 (DynamoDB's range)") }
                    rule.pitrRecoveryPeriodDays = days
                } else {
                    rule.pitrRecoveryPeriodDays = nil
                }
            }
            if let rpo = m["rpo"] {
                if rpo.null != nil || rpo.string == "none" {
                    rule.rpoSeconds = nil
                } else {
                    guard let text = rpo.string, let seconds = parseDurationSeconds(text), seconds > 0 else {
                        throw fail(rpo, "rpo must be a duration such as 24h, 90m or 1d (or none)")
                    }
                    rule.rpoSeconds = seconds
                }
            }
            if let replicate = m["replicate-to"] {
                guard let rm = replicate.mapping else {
                    throw fail(replicate, "replicate-to must be a mapping (region, rpo, and optionally profile, role-arn, endpoint)")
                }
                let keys = ["region", "rpo", "profile", "role-arn", "endpoint"]
                for (key, _) in rm where !keys.contains(key.string ?? "") {
                    throw fail(key, "unknown key '\(key.string ?? "?")' in replicate-to (expected \(keys.joined(separator: ", ")))")
                }
                func text(_ key: String) throws(BackupPolicyError) -> String? {
                    guard let node = rm[key] else { return nil }
                    guard let value = node.string, !value.trimmingCharacters(in: .whitespaces).isEmpty else {
                        throw fail(node, "replicate-to.\(key) must be text")
                    }
                    return value
                }
                guard let region = try text("region") else { throw fail(replicate, "replicate-to needs `region:` (e.g. us-west-2)") }
                guard let rpoNode = rm["rpo"], let rpoText = rpoNode.string, let seconds = parseDurationSeconds(rpoText), seconds > 0 else {
                    throw fail(rm["rpo"] ?? replicate, "replicate-to.rpo must be a duration such as 24h, 90m or 1d")
                }
                let roleArn = try text("role-arn")
                if let roleArn, let problem = Connection.roleArnProblem(roleArn) { throw fail(rm["role-arn"], "replicate-to.role-arn: \(problem)") }
                rule.replicateTo = ReplicationRule(
                    connection: Connection(profile: try text("profile"), region: region, roleArn: roleArn, endpoint: try text("endpoint")),
                    rpoSeconds: seconds)
            }
            if let retention = m["retention"] {
                guard let rm = retention.mapping else { throw fail(retention, "retention must be a mapping (daily, weekly, monthly)") }
                for (key, _) in rm where !["daily", "weekly", "monthly"].contains(key.string ?? "") {
                    throw fail(key, "unknown key '\(key.string ?? "?")' in retention (expected daily, weekly, monthly)")
                }
                func count(_ key: String, _ unit: String, default value: Int) throws(BackupPolicyError) -> Int {
                    guard let n = rm[key] else { return value }
                    guard let i = n.int, i >= 0 else { throw fail(n, "retention.\(key) must be a whole number of \(unit) (0 turns it off)") }
                    return i
                }
                rule.retention = Retention(
                    dailyDays: try count("daily", "days", default: 30),
                    weeklyWeeks: try count("weekly", "weeks", default: 12),
                    monthlyMonths: try count("monthly", "months", default: 12))
            }
            rules.append(rule)
        }
        return BackupPolicy(rules: rules, file: file)
    }
}

// MARK: - Evaluation (pure)

/// One way a table falls short of its rule.
public enum PolicyViolation: Sendable, Equatable, Codable, CustomStringConvertible {
    case pitrDisabled
    case recoveryPeriodTooShort(actualDays: Int, requiredDays: Int)
    case noBackups
    case rpoExceeded(newestAgeSeconds: Double, rpoSeconds: Double)
    /// Retention periods (days `2026-11-03`, weeks `2026-W44`, months `2026-10`) with no backup.
    case retentionGap(level: String, missing: [String])
    /// `replicate-to:` names a region with no replica of the table (`backup replicate`).
    case noReplica(region: String)
    /// The newest replica is older than `replicate-to.rpo`.
    case replicaRPOExceeded(region: String, newestAgeSeconds: Double, rpoSeconds: Double)
    /// The newest replica's recorded checksums differ, or its backup is no longer AVAILABLE there.
    case replicaUnusable(region: String, backupArn: String, reason: String)

    public var description: String {
        switch self {
        case .pitrDisabled: return "point-in-time recovery is off"
        case .recoveryPeriodTooShort(let a, let r): return "PITR keeps \(a) days, the policy needs \(r)"
        case .noBackups: return "no AVAILABLE on-demand backup"
        case .rpoExceeded(let age, let rpo): return "newest backup is \(formatSeconds(age)) old, RPO is \(formatSeconds(rpo))"
        case .retentionGap(let level, let missing):
            let shown = missing.prefix(5).joined(separator: ", ")
            return "\(missing.count) \(level) period\(missing.count == 1 ? "" : "s") without a backup (\(shown)\(missing.count > 5 ? ", ..." : ""))"
        case .noReplica(let region): return "no replica in \(region) (take one with `dynamo-migrate backup replicate TABLE --to-region \(region)`)"
        case .replicaRPOExceeded(let region, let age, let rpo):
            return "newest replica in \(region) is \(formatSeconds(age)) old, replication RPO is \(formatSeconds(rpo))"
        case .replicaUnusable(let region, let arn, let reason): return "newest replica in \(region) (\(arn)) cannot be trusted: \(reason)"
        }
    }
}

/// The verdict for one table.
public struct TableVerdict: Sendable, Equatable, Codable {
    public var table: String
    public var rule: String
    public var pitrEnabled: Bool
    public var recoveryPeriodDays: Int?
    public var backupCount: Int
    public var newestBackupAgeSeconds: Double?
    public var violations: [PolicyViolation]
    public var compliant: Bool { violations.isEmpty }
}

/// What the policy engine needs to know about a table's point-in-time recovery.
public struct PITRStatus: Sendable, Equatable {
    public var enabled: Bool
    /// Nil when the endpoint does not say (DynamoDB's default is 35 days).
    public var recoveryPeriodInDays: Int?
    public init(enabled: Bool, recoveryPeriodInDays: Int? = nil) { self.enabled = enabled; self.recoveryPeriodInDays = recoveryPeriodInDays }
    public init(_ description: ContinuousBackups) {
        self.init(enabled: description.isPointInTimeRecoveryEnabled, recoveryPeriodInDays: description.recoveryPeriodInDays)
    }
}

/// What the policy engine needs to know about one backup.
public struct PolicyBackup: Sendable, Equatable {
    public var arn: String
    public var name: String
    /// AVAILABLE, CREATING or DELETED.
    public var status: String
    /// USER, SYSTEM or AWS_BACKUP.
    public var type: String
    public var creationDate: Date

    public init(arn: String, name: String, status: String = "AVAILABLE", type: String = "USER", creationDate: Date) {
        self.arn = arn; self.name = name; self.status = status; self.type = type; self.creationDate = creationDate
    }

    /// Nil when ListBackups gave no creation date.
    public init?(_ summary: BackupSummary) {
        guard let date = summary.creationDate else { return nil }
        self.init(arn: summary.arn, name: summary.name, status: summary.status, type: summary.type ?? "USER", creationDate: date)
    }
}

/// Grandfather-father-son bookkeeping over plain lists, so it can be tested without a server.
public enum PolicyEngine {
    static var utc: Calendar {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }

    static func dayKey(_ d: Date) -> String { BackupManager.utcStamp(d, format: "yyyy-MM-dd") }
    static func weekKey(_ d: Date) -> String {
        let c = utc.dateComponents([.yearForWeekOfYear, .weekOfYear], from: d)
        return String(format: "%04d-W%02d", c.yearForWeekOfYear!, c.weekOfYear!)
    }
    static func monthKey(_ d: Date) -> String { BackupManager.utcStamp(d, format: "yyyy-MM") }

    /// The last `count` period keys before the current one (newest first): the current period is
    /// left out because its backup may simply not be due yet (the RPO check covers recency).
    static func previousPeriods(_ count: Int, from now: Date, component: Calendar.Component, key: (Date) -> String) -> [(key: String, start: Date)] {
        var result: [(String, Date)] = []
        var cursor = now
        for _ in 0..<count {
            cursor = utc.date(byAdding: component, value: -1, to: cursor)!
            let start = utc.dateInterval(of: component == .weekOfYear ? .weekOfYear : component, for: cursor)!.start
            result.append((key(cursor), start))
        }
        return result
    }

    /// Only backups the policy manages: on-demand (USER) and AVAILABLE.
    static func managed(_ backups: [PolicyBackup]) -> [PolicyBackup] {
        backups.filter { $0.status == "AVAILABLE" && $0.type == "USER" }
    }

    /// Judges one table.
    /// - Parameter tableCreated: periods before it are not required to have backups.
    public static func evaluate(
        table: String, rule: BackupRule, pitr: PITRStatus?, backups: [PolicyBackup],
        tableCreated: Date? = nil, now: Date
    ) -> TableVerdict {
        let managed = managed(backups)
        var violations: [PolicyViolation] = []
        let pitrOn = pitr?.enabled ?? false
        if rule.pitrRequired {
            if !pitrOn {
                violations.append(.pitrDisabled)
            } else if let required = rule.pitrRecoveryPeriodDays {
                // Without RecoveryPeriodInDays in the answer the period is DynamoDB's default, 35 days.
                let actual = pitr?.recoveryPeriodInDays ?? 35
                if actual < required { violations.append(.recoveryPeriodTooShort(actualDays: actual, requiredDays: required)) }
            }
        }
        let newest = managed.map(\.creationDate).max()
        let requiresBackups = rule.rpoSeconds != nil || rule.retention.dailyDays + rule.retention.weeklyWeeks + rule.retention.monthlyMonths > 0
        if requiresBackups && newest == nil { violations.append(.noBackups) }
        if let rpo = rule.rpoSeconds, let newest, now.timeIntervalSince(newest) > rpo {
            violations.append(.rpoExceeded(newestAgeSeconds: now.timeIntervalSince(newest), rpoSeconds: rpo))
        }
        if let oldest = managed.map(\.creationDate).min() {
            // Periods before the first backup (or the table) cannot be filled any more: only gaps after it count.
            let since = max(oldest, tableCreated ?? oldest)
            let dates = managed.map(\.creationDate)
            let levels: [(String, Int, Calendar.Component, (Date) -> String)] = [
                ("daily", rule.retention.dailyDays, .day, dayKey),
                ("weekly", rule.retention.weeklyWeeks, .weekOfYear, weekKey),
                ("monthly", rule.retention.monthlyMonths, .month, monthKey),
            ]
            for (level, count, component, key) in levels where count > 0 {
                let have = Set(dates.map(key))
                let sinceKey = key(since)
                let missing = previousPeriods(count, from: now, component: component, key: key)
                    .filter { $0.key >= sinceKey && !have.contains($0.key) }
                    .map(\.key)
                if !missing.isEmpty { violations.append(.retentionGap(level: level, missing: missing.sorted())) }
            }
        }
        return TableVerdict(
            table: table, rule: rule.name, pitrEnabled: pitrOn, recoveryPeriodDays: pitr?.recoveryPeriodInDays,
            backupCount: managed.count, newestBackupAgeSeconds: newest.map { now.timeIntervalSince($0) },
            violations: violations)
    }

    /// The backups grandfather-father-son retention keeps: the newest of each retained day, week and
    /// month (the current one included), and always the newest backup overall.
    public static func retained(_ backups: [PolicyBackup], retention: Retention, now: Date) -> Set<String> {
        let managed = managed(backups).sorted { $0.creationDate > $1.creationDate }
        var keep = Set<String>()
        if let newest = managed.first { keep.insert(newest.arn) }
        let levels: [(Int, Calendar.Component, (Date) -> String)] = [
            (retention.dailyDays, .day, dayKey), (retention.weeklyWeeks, .weekOfYear, weekKey), (retention.monthlyMonths, .month, monthKey),
        ]
        for (count, component, key) in levels where count > 0 {
            let periods = Set([key(now)] + previousPeriods(count - 1, from: now, component: component, key: key).map(\.key))
            var seen = Set<String>()
            for backup in managed {
                let k = key(backup.creationDate)
                if periods.contains(k), seen.insert(k).inserted { keep.insert(backup.arn) }
            }
        }
        return keep
    }

    /// Managed backups retention no longer keeps, oldest first. Never the newest; never backups of
    /// other types (SYSTEM, AWS_BACKUP), which their owners manage.
    public static func prunable(_ backups: [PolicyBackup], retention: Retention, now: Date) -> [PolicyBackup] {
        let keep = retained(backups, retention: retention, now: now)
        return managed(backups).filter { !keep.contains($0.arn) }.sorted { $0.creationDate < $1.creationDate }
    }
}

// MARK: - Metrics

/// Prometheus text exposition for node_exporter's textfile collector.
public enum PolicyMetrics {
    public static func text(_ verdicts: [TableVerdict], now: Date) -> String {
        func label(_ s: String) -> String {
            s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
        }
        var out = ""
        func metric(_ name: String, _ help: String, _ value: (TableVerdict) -> Double?) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
            for v in verdicts {
                guard let x = value(v) else { continue }
                out += "\(name){table=\"\(label(v.table))\",policy=\"\(label(v.rule))\"} \(formatValue(x))\n"
            }
        }
        metric("dynamo_migrate_backup_policy_compliant", "1 when the table meets its backup policy, else 0.") { $0.compliant ? 1 : 0 }
        metric("dynamo_migrate_backup_policy_violations", "Number of backup policy violations of the table.") { Double($0.violations.count) }
        metric("dynamo_migrate_backup_pitr_enabled", "1 when point-in-time recovery is on.") { $0.pitrEnabled ? 1 : 0 }
        metric("dynamo_migrate_backup_count", "AVAILABLE on-demand backups of the table.") { Double($0.backupCount) }
        metric("dynamo_migrate_backup_newest_age_seconds", "Age of the newest AVAILABLE on-demand backup.") { $0.newestBackupAgeSeconds }
        out += "# HELP dynamo_migrate_backup_policy_last_run_timestamp_seconds When the policy was last verified.\n"
        out += "# TYPE dynamo_migrate_backup_policy_last_run_timestamp_seconds gauge\n"
        out += "dynamo_migrate_backup_policy_last_run_timestamp_seconds \(formatValue(now.timeIntervalSince1970.rounded()))\n"
        return out
    }

    static func formatValue(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(format: "%.3f", x)
    }
}

// MARK: - Gathering

/// One table a policy covers, with what the endpoint says about it and the verdict.
public struct AuditedTable: Sendable {
    public var name: String
    public var rule: BackupRule
    public var pitr: PITRStatus
    public var backups: [PolicyBackup]
    public var created: Date?
    public var verdict: TableVerdict
}

/// Reads tables, PITR state and backups from the endpoint and judges them against a policy.
public struct BackupPolicyAuditor: Sendable {
    public let client: DynamoDBClient
    public init(client: DynamoDBClient) { self.client = client }

    /// Every table of the endpoint a rule of `policy` covers, sorted by name.
    public func audit(_ policy: BackupPolicy, now: Date = Date()) async throws -> [AuditedTable] {
        do {
            let names = try await client.listTables().sorted()
            // ListBackups once for all tables (some servers ignore its TableName filter anyway).
            let allBackups = try await client.listBackups()
            var result: [AuditedTable] = []
            for name in names {
                guard let rule = policy.rule(for: name), let description = try await client.describeTableIfExists(name) else { continue }
                let pitr = PITRStatus(try await client.describeContinuousBackups(table: name))
                let backups = allBackups.filter { $0.tableName == name }.compactMap(PolicyBackup.init)
                let verdict = PolicyEngine.evaluate(
                    table: name, rule: rule, pitr: pitr, backups: backups,
                    tableCreated: description.creationDate, now: now)
                result.append(AuditedTable(name: name, rule: rule, pitr: pitr, backups: backups, created: description.creationDate, verdict: verdict))
            }
            return result
        } catch {
            throw BackupError.client(error)
        }
    }
}

extension PolicyEngine {
    /// Judges a table's newest replica against `replicate-to:`: there is one, it is younger than the
    /// rule's RPO (measured from when the source's checksum was taken), its recorded source and replica
    /// checksums are equal, and its backup is still AVAILABLE (`backupStatus`, nil when not looked up).
    public static func evaluateReplica(
        rule: ReplicationRule, newest: ReplicaRecord?, backupStatus: String?, now: Date
    ) -> [PolicyViolation] {
        guard let newest else { return [.noReplica(region: rule.region)] }
        var violations: [PolicyViolation] = []
        let age = now.timeIntervalSince(newest.checksumTakenAt)
        if age > rule.rpoSeconds {
            violations.append(.replicaRPOExceeded(region: rule.region, newestAgeSeconds: age, rpoSeconds: rule.rpoSeconds))
        }
        if newest.sourceChecksum != newest.replicaChecksum {
            violations.append(
                .replicaUnusable(
                    region: rule.region, backupArn: newest.backupArn,
                    reason: "its recorded checksum \(newest.replicaChecksum) differs from the source's \(newest.sourceChecksum)"))
        } else if let backupStatus, backupStatus != "AVAILABLE" {
            violations.append(.replicaUnusable(region: rule.region, backupArn: newest.backupArn, reason: "its backup is \(backupStatus)"))
        }
        return violations
    }
}
