import ArgumentParser
import DynamoClient
import Foundation
import Pipeline
import RunState
import Synchronization
import TableIO

/// `dynamo-migrate migrate`: executes what `plan` shows.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy every source table of a mapping into its target, transforming items on the way.",
        discussion: """
            Creates missing targets (with the mapping's settings, waiting until ACTIVE, PITR on), scans each \
            source in parallel segments, transforms items, and writes them with BatchWriteItem (or conditional \
            puts for keep-existing and fail). Progress is checkpointed in the state directory: after a crash or \
            Ctrl-C, rerun with --resume. Items that cannot be migrated go to dead-letters.jsonl there.
            """)

    @OptionGroup var global: GlobalOptions

    @OptionGroup var arguments: MappingArguments

    @Flag(help: "Continue an interrupted migration from its checkpoint.")
    var resume = false

    @OptionGroup var scan: ScanOptions

    @Option(name: .customLong("page-size"), help: "Scan Limit per page (default: DynamoDB's 1 MB pages).")
    var pageSize: Int?

    @Option(help: "Writer tasks per target table.")
    var writers: Int = 4

    @Option(name: .customLong("max-failures"), help: "Stop once more than this many items are dead-lettered.")
    var maxFailures: Int = 1000

    @Option(name: .customLong("max-read-units"), help: "Read capacity units per second per source table.")
    var maxReadUnits: Double?

    @Option(name: .customLong("max-write-units"), help: "Write capacity units per second per target table.")
    var maxWriteUnits: Double?

    @Option(name: .customLong("read-percent"), help: "Percent of a source's read capacity to use (on-demand: of 40,000 units).")
    var readPercent: Double?

    @Option(name: .customLong("write-percent"), help: "Percent of a target's write capacity to use (on-demand: of 40,000 units).")
    var writePercent: Double?

    @OptionGroup var outputFormat: OutputFormatOptions

    @OptionGroup var live: FollowFlags

    func validate() throws {
        if writers < 1 { throw ValidationError("--writers must be at least 1") }
        for (name, value) in [("--read-percent", readPercent), ("--write-percent", writePercent)] {
            if let value, !(value > 0 && value <= 100) { throw ValidationError("\(name) must be more than 0 and at most 100") }
        }
        for (name, value) in [("--max-read-units", maxReadUnits), ("--max-write-units", maxWriteUnits)] {
            if let value, !(value.isFinite && value >= 1) { throw ValidationError("\(name) must be a number of capacity units per second, at least 1") }
        }
        if let pageSize, pageSize < 1 { throw ValidationError("--page-size must be at least 1") }
        if maxFailures < 0 { throw ValidationError("--max-failures must be 0 or more") }
    }

    func run() async throws {
        try await runReportingErrors {
            let client = try global.makeClient()
            let loaded = try await LoadedMapping.load(path: arguments.mapping, env: arguments.env, client: client)
            let directory = arguments.stateDirectory(effectiveEnv: loaded.document.env)
            var options = MigrationOptions(stateDirectory: directory, planFingerprint: loaded.fingerprint)
            options.resume = resume
            options.segments = scan.segments
            options.scanPageLimit = pageSize
            options.writersPerTarget = writers
            options.maxFailures = maxFailures
            options.maxReadUnits = maxReadUnits
            options.maxWriteUnits = maxWriteUnits
            options.readPercent = readPercent
            options.writePercent = writePercent
            let migrator = Migrator(client: client, mapping: loaded.resolved, options: options, logger: client.logger)
            // Live migration: stream positions are taken here, before any source is scanned.
            let follower = try await live.prepare(client: client, loaded: loaded, directory: directory, resume: resume)

            let interrupts = InterruptHandler {
                printError("stopping: finishing in-flight batches and saving the checkpoint (Ctrl-C again to abort now)")
                migrator.requestStop()
                follower?.requestStop()
            }
            defer { interrupts.cancel() }
            let progress = ProgressPrinter(migrator: migrator, client: client)
            let printer = Task { await progress.run() }
            let report: MigrationReport
            do {
                report = try await migrator.run()
            } catch let error as PipelineError {
                printer.cancel()
                switch error {
                case .fingerprintMismatch, .keySchemaMismatch, .missingTable:
                    throw CLIError.failed(error.description)
                default:
                    let resumable = FileManager.default.fileExists(atPath: FileCheckpointStore(directory: directory).path.path)
                    throw CLIError.failed(
                        error.description + (resumable ? "\nThe checkpoint is in \(directory.path); after fixing the cause, rerun with --resume." : ""))
                }
            } catch let error as MigratorError {
                printer.cancel()
                throw CLIError.usage(error.description)
            } catch let error as CheckpointError {
                printer.cancel()
                throw CLIError.usage(error.description)
            }
            printer.cancel()
            progress.finish()

            if outputFormat.json {
                if follower == nil { print(try jsonText(report)) }
            } else if follower == nil || !report.alreadyComplete {
                printSummary(report)
            }
            if report.interrupted {
                throw CLIError.failed("interrupted; resume with: dynamo-migrate migrate \(arguments.mapping) --resume --state-dir \(directory.path)")
            }
            if report.itemsDeadLettered > 0 {
                throw CLIError.failed("\(report.itemsDeadLettered) items could not be migrated; see \(report.deadLetterFile ?? directory.path)")
            }
            if let follower {
                try await live.run(follower, copy: report, json: outputFormat.json, mappingPath: arguments.mapping)
            }
        }
    }

    func printSummary(_ report: MigrationReport) {
        if report.alreadyComplete {
            print("Nothing to do: this migration already finished (state in \(report.stateDirectory)). Use another --state-dir to run it again.")
            return
        }
        var table = TextTable(["SOURCE", "TARGET", "SEG", "READ", "WRITTEN", "FILTERED", "DEAD", "KEPT"], rightAligned: [2, 3, 4, 5, 6, 7])
        for s in report.sources {
            table.add([
                s.source, s.target, "\(s.segments)", formatCount(s.itemsRead), formatCount(s.itemsWritten),
                formatCount(s.itemsFiltered), formatCount(s.itemsDeadLettered), formatCount(s.itemsKeptExisting),
            ])
        }
        print(table.render())
        if !report.createdTables.isEmpty { print("\ncreated: \(report.createdTables.joined(separator: ", "))") }
        print(
            String(
                format: "\n%@ items read, %@ written in %.1f s (%.0f items/s, %.2f MB/s); %d retries, %d throttles, %d unprocessed items resent",
                formatCount(report.itemsRead), formatCount(report.itemsWritten), report.durationSeconds,
                report.itemsPerSecond, report.megabytesPerSecond, report.retries, report.throttles, report.unprocessedResent))
        print("report: \(report.stateDirectory)/report.md and report.json")
    }
}

/// Prints progress while a migration runs: a live line on a terminal, a plain line every few seconds otherwise.
final class ProgressPrinter: Sendable {
    let migrator: Migrator
    let client: DynamoDBClient
    let interactive = isatty(STDERR_FILENO) == 1
    let started = ContinuousClock.now
    let linesShown = Mutex(0)

    init(migrator: Migrator, client: DynamoDBClient) {
        self.migrator = migrator
        self.client = client
    }

    func run() async {
        let interval: Duration = interactive ? .milliseconds(500) : .seconds(5)
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            if Task.isCancelled { break }
            emit()
        }
    }

    func emit() {
        let live = migrator.liveStatistics()
        let elapsed = max(0.001, seconds(since: started))
        let read = live.values.reduce(0) { $0 + $1.itemsRead }
        let written = live.values.reduce(0) { $0 + $1.itemsWritten }
        let bytes = live.values.reduce(0) { $0 + $1.bytesWritten }
        let stats = client.statistics
        let expected = migrator.expectedItems
        var eta = ""
        if expected > 0, written > 0, written < expected {
            let seconds = Double(expected - written) / (Double(written) / elapsed)
            eta = String(format: ", ETA %.0f s", seconds)
        }
        let total = String(
            format: "read %@ written %@ of ~%@ | %.0f items/s %.2f MB/s | retries %d throttles %d%@",
            formatCount(read), formatCount(written), formatCount(expected), Double(written) / elapsed,
            Double(bytes) / 1_000_000 / elapsed, stats.retries, stats.throttles, eta)
        let tables = live.sorted(by: { $0.key < $1.key }).filter { $0.value.itemsRead > 0 }.map { key, s in
            String(
                format: "  %@: read %@ written %@ (%.0f items/s)%@", key, formatCount(s.itemsRead), formatCount(s.itemsWritten),
                Double(s.itemsWritten) / elapsed, s.unprocessedResent > 0 ? ", \(s.unprocessedResent) unprocessed resent" : "")
        }
        if interactive {
            // Redraw the block in place: move up over the previous block, clear to the end of the screen.
            var text = linesShown.withLock { $0 } > 0 ? "\u{1B}[\(linesShown.withLock { $0 })A\r\u{1B}[J" : ""
            let lines = [total] + tables
            text += lines.joined(separator: "\n") + "\n"
            linesShown.withLock { $0 = lines.count }
            FileHandle.standardError.write(Data(text.utf8))
        } else {
            let lines = ["[migrate] \(total)"] + tables.map { "[migrate] \($0)" }
            FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        }
    }

    func seconds(since instant: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - instant
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    func finish() {
        let shown = linesShown.withLock { $0 }
        if interactive, shown > 0 { FileHandle.standardError.write(Data("\u{1B}[\(shown)A\r\u{1B}[J".utf8)) }
    }
}

/// Calls `onInterrupt` at the first Ctrl-C (SIGINT or SIGTERM); a second one exits at once.
final class InterruptHandler: Sendable {
    private let sources: Mutex<[DispatchSourceSignal]>

    init(onInterrupt: @escaping @Sendable () -> Void) {
        let count = Mutex(0)
        var made: [DispatchSourceSignal] = []
        // A parent may have started us with these signals blocked (child processes inherit the mask).
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, SIGINT)
        sigaddset(&unblock, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                let n = count.withLock { c in
                    c += 1; return c
                }
                if n == 1 { onInterrupt() } else { exit(130) }
            }
            source.resume()
            made.append(source)
        }
        sources = Mutex(made)
    }

    func cancel() {
        sources.withLock { list in
            list.forEach { $0.cancel() }
            list.removeAll()
        }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
