import DynamoClient
import DynamoCore
import Foundation
import Logging
import RunState
import TableIO

/// What a drill restores from.
public enum DrillSource: Sendable, Equatable {
    /// The newest AVAILABLE on-demand backup of the table.
    case latestBackup
    case backup(arn: String)
    case pointInTime(RestorePoint)
    /// An export folder (ours or DynamoDB's).
    case export(URL)

    public static func == (a: DrillSource, b: DrillSource) -> Bool {
        switch (a, b) {
        case (.latestBackup, .latestBackup): true
        case (.backup(let x), .backup(let y)): x == y
        case (.export(let x), .export(let y)): x == y
        case (.pointInTime(.latest), .pointInTime(.latest)): true
        case (.pointInTime(.at(let x)), .pointInTime(.at(let y))): x == y
        default: false
        }
    }
}

extension DrillSource {
    /// What the drill record calls this kind of source.
    var kind: DrillSourceKind {
        switch self {
        case .latestBackup, .backup: .backup
        case .pointInTime: .pitr
        case .export: .export
        }
    }
}

/// Options of a drill.
public struct DrillOptions: Sendable {
    public var rtoSeconds: Double?
    public var keepScratchTable: Bool
    public var segments: Int
    public var timeout: Duration
    /// Recorded with the drill first (e.g. the region and account it restored in).
    public var notes: [String] = []
    public init(rtoSeconds: Double? = nil, keepScratchTable: Bool = false, segments: Int = 4, timeout: Duration = .seconds(6 * 3600)) {
        self.rtoSeconds = rtoSeconds; self.keepScratchTable = keepScratchTable; self.segments = segments; self.timeout = timeout
    }
}

/// Restores a table into a scratch table, checks the content, times each phase, and cleans up.
public struct RestoreDrill: Sendable {
    public let client: DynamoDBClient
    public let store: BackupStateStore
    public let checksummer: any ContentChecksummer
    public let logger: Logger

    public init(
        client: DynamoDBClient, store: BackupStateStore, checksummer: any ContentChecksummer = MultisetContentChecksummer(),
        logger: Logger = Logger(label: "dynamo-migrate.drill")
    ) {
        self.client = client; self.store = store; self.checksummer = checksummer; self.logger = logger
    }

    /// DynamoDB's longest table name.
    public static let maxTableNameLength = BackupManager.maxNameLength

    /// `<table>-drill-<yyyyMMddHHmmss>` (UTC), cut to DynamoDB's 255 characters: when that is too long,
    /// the table part is cut and followed by 8 hex digits of a hash of the whole table name, so two
    /// long names that share their beginning still get different scratch tables, and the name still
    /// says which table and when.
    public static func scratchName(for table: String, at date: Date) -> String {
        BackupManager.fitted(table, into: "{table}-drill-\(BackupManager.utcStamp(date, format: "yyyyMMddHHmmss"))")
    }

    /// nil when `date` lies in the table's point-in-time recovery window as DescribeContinuousBackups
    /// reports it (or the window is not reported); otherwise the operator's message naming the window.
    public static func outsideRestorableWindow(_ date: Date, of table: String, pitr: ContinuousBackups) -> String? {
        let earliest = pitr.earliestRestorableDate, latest = pitr.latestRestorableDate
        let tooEarly = earliest.map { date < $0 } ?? false
        let tooLate = latest.map { date > $0 } ?? false
        guard tooEarly || tooLate else { return nil }
        let window = "\(earliest.map(ExportJSON.iso8601) ?? "?") to \(latest.map(ExportJSON.iso8601) ?? "?")"
        return
            "--pitr \(ExportJSON.iso8601(date)) is \(tooEarly ? "before" : "after") the point-in-time recovery window of \(table), which is \(window) (EarliestRestorableDateTime to LatestRestorableDateTime): choose a time inside it, or --pitr latest"
    }

    /// The newest AVAILABLE backup of `table`, or nil.
    public func latestBackup(of table: String) async throws -> BackupSummary? {
        do {
            return try await client.listBackups(table: table)
                .filter { $0.status == "AVAILABLE" }
                .max { ($0.creationDate ?? .distantPast) < ($1.creationDate ?? .distantPast) }
        } catch { throw BackupError.client(error) }
    }

    /// Runs the drill and appends its record to `drills.jsonl` (also when it fails).
    public func run(table: String, from source: DrillSource, options: DrillOptions = DrillOptions(), now: Date = Date()) async throws -> DrillRecord {
        let scratch = Self.scratchName(for: table, at: now)
        var record = DrillRecord(
            table: table, scratchTable: scratch, sourceKind: source.kind, sourceReference: "", startedAt: now,
            phases: [], measuredRTOSeconds: 0, rtoTargetSeconds: options.rtoSeconds, expectedChecksum: nil,
            expectedFrom: "", actualChecksum: nil, validation: .notCompared,
            kept: options.keepScratchTable, notes: options.notes, error: nil)
        let started = ContinuousClock.now
        var phaseStart = started
        func endPhase(_ name: String) {
            let now = ContinuousClock.now
            record.phases.append(DrillPhase(name: name, seconds: Self.seconds(now - phaseStart)))
            phaseStart = now
        }
        var scratchCreated = false
        await cleanUpLeftScratchTables(notes: &record.notes, timeout: options.timeout)
        /// Refuses a scratch name already taken (never adopt, and later delete, a table that is not
        /// ours), then records the name before asking for it: from then on the table is ours to delete.
        func claimScratch() async throws {
            do {
                if try await client.describeTableIfExists(scratch) != nil {
                    throw BackupError.other("a table named \(scratch) already exists (a kept drill?); delete it or retry in a second")
                }
            } catch let error as DynamoDBError { throw BackupError.client(error) }
            try store.recordScratchTable(scratch, endpoint: client.configuration.endpoint)
            scratchCreated = true
        }
        do {
            var expected: ContentChecksum?
            switch source {
            case .latestBackup, .backup:
                let arn: String
                if case .backup(let given) = source {
                    arn = given
                } else {
                    guard let latest = try await latestBackup(of: table) else {
                        throw BackupError.other("table \(table) has no AVAILABLE on-demand backup; take one with `dynamo-migrate backup create \(table)`")
                    }
                    arn = latest.arn
                }
                record.sourceKind = .backup
                record.sourceReference = arn
                if let recorded = try store.backup(arn: arn) {
                    expected = recorded.contentChecksum
                    record.expectedFrom = "checksum recorded by `backup create` at \(ExportJSON.iso8601(recorded.checksumTakenAt))"
                } else {
                    record.expectedFrom = "none"
                    record.notes.append(
                        "no checksum is recorded for this backup (it was not taken with `dynamo-migrate backup create`, or with another --state-dir): the restore could not be validated"
                    )
                }
                try await claimScratch()
                phaseStart = ContinuousClock.now
                do {
                    // A lost answer makes the retry meet TableAlreadyExistsException: the table is the
                    // one we asked for (the name was free and is recorded), so it is adopted.
                    if try await client.restoreTableFromBackupOrAdopt(backupArn: arn, targetTable: scratch) {
                        record.notes.append("the answer to RestoreTableFromBackup was lost; the scratch table it made was adopted")
                    }
                } catch let error as DynamoDBError {
                    throw BackupError.client(error)
                } catch let error as TableAdoptionError {
                    throw BackupError.other(error.description)
                }
                endPhase("restore requested")
                do { try await client.waitUntilActive(scratch, timeout: options.timeout, pollInterval: .milliseconds(500)) } catch {
                    throw BackupError.client(error)
                }
                endPhase("ACTIVE")
            case .pointInTime(let point):
                record.sourceKind = .pitr
                if case .at(let date) = point { record.sourceReference = ExportJSON.iso8601(date) } else { record.sourceReference = "latest" }
                // A point-in-time restore needs PITR; some servers restore without it, which proves nothing.
                let pitr: ContinuousBackups
                do { pitr = try await client.describeContinuousBackups(table: table) } catch { throw BackupError.client(error) }
                guard pitr.isPointInTimeRecoveryEnabled else {
                    throw BackupError.other(
                        "point-in-time recovery is off for \(table), so it cannot be restored to a point in time; turn it on (`dynamo-migrate backup enforce --apply`) or drill from a backup"
                    )
                }
                // Checked before anything is created: DynamoDB's own refusal does not say what the window is.
                if case .at(let date) = point, let problem = Self.outsideRestorableWindow(date, of: table, pitr: pitr) {
                    throw BackupError.invalidOption(problem)
                }
                try await claimScratch()
                phaseStart = ContinuousClock.now
                do {
                    if try await client.restoreTableToPointInTimeOrAdopt(sourceTable: table, targetTable: scratch, to: point) {
                        record.notes.append("the answer to RestoreTableToPointInTime was lost; the scratch table it made was adopted")
                    }
                } catch let error as DynamoDBError {
                    throw BackupError.client(error)
                } catch let error as TableAdoptionError {
                    throw BackupError.other(error.description)
                }
                endPhase("restore requested")
                do { try await client.waitUntilActive(scratch, timeout: options.timeout, pollInterval: .milliseconds(500)) } catch {
                    throw BackupError.client(error)
                }
                endPhase("ACTIVE")
            case .export(let directory):
                record.sourceKind = .export
                record.sourceReference = directory.path
                let reader: ExportReader
                do { reader = try ExportReader.open(directory) } catch { throw BackupError.format(error) }
                // A drill proves that *this* table can be recovered: an export of another table proves nothing.
                let exportedTable =
                    reader.summary.dynamoMigrate?.tableName
                    ?? reader.summary.tableArn.flatMap { $0.split(separator: "/").dropFirst().first.map(String.init) }
                if let exportedTable, exportedTable != table {
                    throw BackupError.other("the export in \(directory.path) is of table \(exportedTable), not \(table)")
                }
                if let recorded = reader.summary.dynamoMigrate?.contentChecksum {
                    expected = recorded
                    record.expectedFrom = "checksum recorded in the export's manifest-summary.json"
                } else {
                    let verification = await ExportVerifier(checksummer: checksummer).verify(reader.location)
                    if !verification.ok {
                        throw BackupError.other("the export is damaged: " + verification.problems.map(\.description).joined(separator: "; "))
                    }
                    expected = verification.contentChecksum
                    record.expectedFrom = "checksum of the export's data files (DynamoDB's export records none)"
                }
                try await claimScratch()
                phaseStart = ContinuousClock.now
                _ = try await TableImporter(client: client, logger: logger).importExport(
                    reader, into: scratch, options: ImportOptions(createTable: true))
                endPhase("created and imported")
            }

            if case .pointInTime(let point) = source {
                // No checksum is recorded for a point in time: compare with the source as it is now.
                expected = try await checksummer.checksum(table: table, client: client, segments: options.segments)
                record.expectedFrom = "current source table (no checksum is recorded for a point in time)"
                if case .at = point {
                    record.notes.append("restored to a past time but compared with the source as it is now: writes since then show up as differences")
                }
                phaseStart = ContinuousClock.now
            }
            let actual = try await checksummer.checksum(table: scratch, client: client, segments: options.segments)
            record.actualChecksum = actual
            endPhase("validated")
            if let expected {
                record.expectedChecksum = expected
                if expected.algorithm != actual.algorithm {
                    record.notes.append("the expected checksum uses \(expected.algorithm), this version \(actual.algorithm): not comparable")
                } else {
                    record.validation = expected.matches(actual) ? .passed : .failed
                }
            }
        } catch {
            record.error = (error as? BackupError)?.description ?? "\(error)"
        }
        record.measuredRTOSeconds = record.phases.reduce(0) { $0 + $1.seconds }
        if scratchCreated && !options.keepScratchTable {
            do {
                try await deleteScratchTable(scratch, timeout: options.timeout)
                store.forgetScratchTable(scratch)
            } catch {
                record.notes.append(
                    "could not delete the scratch table \(scratch): \(error); the next drill with this --state-dir deletes it, or delete it by hand")
                record.kept = true
            }
        } else if scratchCreated {
            store.forgetScratchTable(scratch)
        }
        try store.appendDrill(record)
        return record
    }

    /// Deletes a scratch table if it is there, waiting for a restore still running to finish first
    /// (a table cannot be deleted while it is being created).
    func deleteScratchTable(_ name: String, timeout: Duration) async throws {
        guard let table = try await client.describeTableIfExists(name) else { return }
        if table.status == "DELETING" { return }
        if table.status != "ACTIVE" { try await client.waitUntilActive(name, timeout: timeout) }
        do {
            try await client.deleteTableWhenReady(name, wait: ControlPlaneWait(timeout: timeout))
        } catch  where error.isResourceNotFound {
            // Gone meanwhile (or our own DeleteTable whose answer was lost): that is what we wanted.
        }
    }

    /// Deletes the scratch tables that earlier drills with this state directory recorded on this
    /// endpoint and did not delete (killed, or the delete failed).
    func cleanUpLeftScratchTables(notes: inout [String], timeout: Duration) async {
        for (name, endpoint) in store.scratchTables() where endpoint == client.configuration.endpoint {
            do {
                let existed = try await client.describeTableIfExists(name) != nil
                try await deleteScratchTable(name, timeout: timeout)
                store.forgetScratchTable(name)
                if existed { notes.append("deleted the scratch table \(name) left by an earlier drill") }
            } catch {
                notes.append("could not delete the scratch table \(name) left by an earlier drill: \(error)")
            }
        }
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}

/// `4h`, `30m`, `90s`, `1h30m`, `2d`, `1w` → seconds; nil when not of that form.
public func parseDurationSeconds(_ text: String) -> Double? {
    var total = 0.0
    var number = ""
    var sawUnit = false
    for c in text.trimmingCharacters(in: .whitespaces).lowercased() {
        if c.isNumber || c == "." { number.append(c); continue }
        guard let value = Double(number) else { return nil }
        switch c {
        case "s": total += value
        case "m": total += value * 60
        case "h": total += value * 3600
        case "d": total += value * 86400
        case "w": total += value * 7 * 86400
        default: return nil
        }
        number = ""
        sawUnit = true
    }
    guard number.isEmpty, sawUnit else { return nil }
    return total
}

/// `3723` → `1h 2m 3s`; under a minute with one decimal.
public func formatSeconds(_ s: Double) -> String {
    if s < 60 { return String(format: "%.1fs", s) }
    let whole = Int(s.rounded())
    let h = whole / 3600, m = whole % 3600 / 60, sec = whole % 60
    return h > 0 ? "\(h)h \(m)m \(sec)s" : "\(m)m \(sec)s"
}

/// `drill report`: the drill history as Markdown.
public enum DrillReport {
    public static func markdown(_ records: [DrillRecord]) -> String {
        guard !records.isEmpty else { return "No drills recorded yet. Run `dynamo-migrate drill TABLE --latest-backup`.\n" }
        var out = "# Restore drills\n\n"
        out += "| Started (UTC) | Table | Source | Items | Phases | Measured RTO | Target | Validation | Result |\n"
        out += "|---|---|---|---:|---|---:|---:|---|---|\n"
        for r in records.sorted(by: { $0.startedAt < $1.startedAt }) {
            let phases = r.phases.map { "\($0.name) \(formatSeconds($0.seconds))" }.joined(separator: ", ")
            let items = r.actualChecksum.map { String($0.itemCount) } ?? "-"
            let target = r.rtoTargetSeconds.map(formatSeconds) ?? "-"
            let result = r.passed ? "PASS" : "FAIL" + (r.error != nil ? " (error)" : r.rtoMet == false ? " (RTO missed)" : "")
            let source = r.sourceKind == .backup ? "backup \((r.sourceReference as NSString).lastPathComponent)" : "\(r.sourceKind) \(r.sourceReference)"
            out +=
                "| \(ExportJSON.iso8601(r.startedAt).prefix(19)) | \(r.table) | \(source.replacingOccurrences(of: "|", with: "\\|")) | \(items) | \(phases) | \(formatSeconds(r.measuredRTOSeconds)) | \(target) | \(r.validation) | \(result) |\n"
        }
        out += "\n## Trend\n\n"
        let byTable = Dictionary(grouping: records, by: \.table)
        for table in byTable.keys.sorted() {
            let drills = byTable[table]!.sorted(by: { $0.startedAt < $1.startedAt })
            let passed = drills.filter(\.passed).count
            let rtos = drills.filter { $0.error == nil }.map(\.measuredRTOSeconds)
            var line = "- \(table): \(passed) of \(drills.count) drill\(drills.count == 1 ? "" : "s") passed"
            if let first = rtos.first, let last = rtos.last, rtos.count >= 2 {
                let change = first > 0 ? (last - first) / first * 100 : 0
                let direction = abs(change) < 10 ? "steady" : change > 0 ? "slower" : "faster"
                line += String(
                    format: "; measured RTO %@ → %@ (%+.0f%%, %@), best %@, worst %@", formatSeconds(first), formatSeconds(last),
                    change, direction, formatSeconds(rtos.min()!), formatSeconds(rtos.max()!))
            } else if let only = rtos.first {
                line += "; measured RTO \(formatSeconds(only)) (one drill: no trend yet)"
            }
            if let target = drills.last?.rtoTargetSeconds, let last = rtos.last {
                line += String(format: "; latest uses %.0f%% of the %@ target", last / target * 100, formatSeconds(target))
            }
            out += line + "\n"
        }
        return out
    }
}
