import ArgumentParser
import DynamoClient
import Foundation
import Pipeline
import RunState
import S3Client
import TableIO

/// `migrate --worker I/N --state URL` and `migrate --status --state URL`: one migration run by many
/// workers (a Kubernetes Indexed Job, an AWS Batch array job), with shared state.
struct WorkerOptions: ParsableArguments {
    @Option(
        name: .customLong("worker"),
        help: "Run as worker I of N (0-based: 0/4 to 3/4); each worker copies its share of every source's Scan segments.")
    var worker: String?

    @Option(
        name: .customLong("workers"),
        help: "Run as one of N workers, the index taken from JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or AWS_BATCH_JOB_ARRAY_INDEX.")
    var workers: Int?

    @Option(
        name: .customLong("state"),
        help: "Shared state of a job of many workers: dynamodb://TABLE[/PREFIX] (the control table, created if missing) or a directory all workers share.")
    var state: String?

    @Flag(help: "Show where every worker of the job in --state stands (with --json: as JSON), and do nothing else.")
    var status = false

    /// Whether any of these options was given: the run is a worker's or a status view.
    var selected: Bool { worker != nil || workers != nil || state != nil || status }
}

/// Which worker this process is, from the flags and the scheduler's environment.
struct WorkerIndex: Equatable {
    var index: Int
    var count: Int

    /// Resolves `--worker I/N`, `--workers N` and the schedulers' variables, refusing values that disagree.
    static func resolve(worker: String?, workers: Int?, environment: [String: String]) throws -> WorkerIndex {
        func number(_ name: String) throws -> Int? {
            guard let text = environment[name] else { return nil }
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value >= 0 else {
                throw CLIError.usage("\(name)=\(text) is not a worker index (a whole number, 0 or more)")
            }
            return value
        }
        let kubernetesIndex = try number("JOB_COMPLETION_INDEX")
        let batchIndex = try number("AWS_BATCH_JOB_ARRAY_INDEX")
        let batchSize = try number("AWS_BATCH_JOB_ARRAY_SIZE")
        var resolved: WorkerIndex
        if let worker {
            let parts = worker.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
                throw CLIError.usage("--worker \(worker): expected I/N, the 0-based index of this worker and the number of workers (e.g. 0/4)")
            }
            resolved = WorkerIndex(index: index, count: count)
            if let workers, workers != count {
                throw CLIError.usage("--worker \(worker) says \(count) workers but --workers says \(workers); give one of them")
            }
        } else if let workers {
            guard let index = kubernetesIndex ?? batchIndex else {
                throw CLIError.usage(
                    "--workers \(workers) needs this worker's index: run it as a Kubernetes Indexed Job (JOB_COMPLETION_INDEX) "
                        + "or an AWS Batch array job (AWS_BATCH_JOB_ARRAY_INDEX), or give --worker I/\(workers)")
            }
            resolved = WorkerIndex(index: index, count: workers)
        } else if let batchIndex, let batchSize {
            resolved = WorkerIndex(index: batchIndex, count: batchSize)
        } else {
            resolved = WorkerIndex(index: 0, count: 1)
        }
        guard resolved.count >= 1 else { throw CLIError.usage("the number of workers must be at least 1 (got \(resolved.count))") }
        guard resolved.index < resolved.count else {
            throw CLIError.usage("worker index \(resolved.index) is out of range for \(resolved.count) workers (indexes are 0 to \(resolved.count - 1))")
        }
        if let kubernetesIndex, kubernetesIndex != resolved.index {
            throw CLIError.usage(
                "JOB_COMPLETION_INDEX is \(kubernetesIndex) but this worker was given index \(resolved.index); drop --worker and use --workers N")
        }
        if let batchIndex, kubernetesIndex == nil, batchIndex != resolved.index {
            throw CLIError.usage(
                "AWS_BATCH_JOB_ARRAY_INDEX is \(batchIndex) but this worker was given index \(resolved.index); drop --worker and use --workers N")
        }
        if let batchSize, kubernetesIndex == nil, batchSize != resolved.count {
            throw CLIError.usage("AWS_BATCH_JOB_ARRAY_SIZE is \(batchSize) but this job was given \(resolved.count) workers; the counts must agree")
        }
        return resolved
    }
}

/// Where shared state lives, as `--state` names it.
enum StateLocation: Equatable {
    case dynamoDB(table: String, prefix: String)
    case s3(S3Location)
    case directory(String)

    static func parse(_ text: String) throws -> StateLocation {
        if text.hasPrefix("dynamodb://") {
            let rest = text.dropFirst("dynamodb://".count)
            let parts = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            let table = String(parts.first ?? "")
            let valid =
                (3...255).contains(table.count)
                && table.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == ".") }
            guard valid else {
                throw CLIError.usage("--state \(text): '\(table)' is not a DynamoDB table name (3 to 255 of a-z, A-Z, 0-9, _ - .)")
            }
            return .dynamoDB(table: table, prefix: parts.count > 1 ? String(parts[1]) : "")
        }
        if text.hasPrefix("s3://") {
            do { return .s3(try S3Location(parsing: text)) } catch { throw CLIError.usage("--state: \(error.description)") }
        }
        if text.contains("://") {
            throw CLIError.usage("--state \(text): expected dynamodb://TABLE[/PREFIX], s3://BUCKET/PREFIX or a directory")
        }
        return .directory(text)
    }

    func makeStore(client: DynamoDBClient, create: Bool) async throws -> any AsyncStateStore {
        switch self {
        case .dynamoDB(let table, let prefix):
            let store = DynamoDBStateStore(client: client, table: table, prefix: prefix)
            if create { try await store.prepare() }
            return store
        case .s3(let location):
            let store = S3StateStore(client: makeS3Client(sharing: client), bucket: location.bucket, prefix: location.key)
            if create { try await store.prepare() }
            return store
        case .directory(let path):
            return LocalDirectoryStateStore(directory: URL(fileURLWithPath: path))
        }
    }
}

extension MigrateCommand {
    func runWorkerMode() async throws {
        guard let stateText = workerOptions.state else {
            throw CLIError.usage(
                workerOptions.status
                    ? "--status needs --state: the shared state of the job to show (dynamodb://TABLE or a directory)"
                    : "--worker and --workers need --state: the state every worker shares (dynamodb://TABLE or a directory)")
        }
        if resume { throw CLIError.usage("--resume is not used with --state: a worker always resumes from its own checkpoint in the shared state") }
        let location = try StateLocation.parse(stateText)
        let client = try global.makeClient()
        if workerOptions.status {
            try await showStatus(location: location, client: client)
            return
        }
        let index = try WorkerIndex.resolve(
            worker: workerOptions.worker, workers: workerOptions.workers, environment: ProcessInfo.processInfo.environment)
        let loaded = try await LoadedMapping.load(path: arguments.mapping, env: arguments.env, client: client)
        let store = try await location.makeStore(client: client, create: true)
        let options = migrationOptions(
            stateDirectory: arguments.stateDirectory(effectiveEnv: loaded.document.env), fingerprint: loaded.fingerprint)
        let migrator: Migrator
        do {
            migrator = try await WorkerRun(
                client: client, mapping: loaded.resolved, options: options, worker: index.index, workers: index.count, store: store,
                logger: client.logger
            ).prepare()
        } catch let error as WorkerError {
            throw CLIError.usage(error.description)
        }
        let interrupts = InterruptHandler {
            printError("stopping: finishing in-flight batches and saving the checkpoint (Ctrl-C again to abort now)")
            migrator.requestStop()
        }
        defer { interrupts.cancel() }
        let progress = ProgressPrinter(migrator: migrator, client: client)
        let printer = Task { await progress.run() }
        let report: MigrationReport
        do {
            report = try await migrator.runAsWorker(store: store)
        } catch let error as WorkerError {
            printer.cancel()
            if case .inconsistentJob = error { throw CLIError.usage(error.description) }
            throw CLIError.failed(error.description)
        } catch let error as PipelineError {
            printer.cancel()
            throw CLIError.failed(
                error.description + "\nWorker \(index.index)/\(index.count)'s checkpoint is in \(stateText); run the worker again to carry on.")
        }
        printer.cancel()
        progress.finish()
        if outputFormat.json {
            print(try jsonText(report))
        } else if report.alreadyComplete {
            print("Nothing to do: worker \(index.index)/\(index.count) already finished its share (state in \(report.stateDirectory)).")
        } else {
            printSummary(report)
        }
        if report.interrupted {
            throw CLIError.failed("interrupted; run worker \(index.index)/\(index.count) again with the same --state to carry on")
        }
        if report.itemsDeadLettered > 0 {
            throw CLIError.failed("\(report.itemsDeadLettered) items could not be migrated; see \(report.deadLetterFile ?? stateText)")
        }
    }

    func showStatus(location: StateLocation, client: DynamoDBClient) async throws {
        if case .dynamoDB(let table, _) = location, try await client.describeTableIfExists(table) == nil {
            throw CLIError.usage("--state \(workerOptions.state ?? ""): there is no control table \(table), so no job to show")
        }
        let store = try await location.makeStore(client: client, create: false)
        guard let status = try await WorkerJobStatus.load(from: store, now: Date()) else {
            throw CLIError.usage("--state \(workerOptions.state ?? ""): no job of many workers is recorded there")
        }
        if outputFormat.json {
            print(try jsonText(status))
            return
        }
        var table = TextTable(["WORKER", "STATE", "SEGMENTS", "READ", "WRITTEN", "DEAD", "UPDATED", "HELD BY"], rightAligned: [0, 2, 3, 4, 5])
        for w in status.perWorker {
            table.add([
                "\(w.worker)", w.state.rawValue, "\(w.segmentsDone)/\(w.segments.count)", formatCount(w.counts.itemsRead),
                formatCount(w.counts.itemsWritten), formatCount(w.counts.itemsDeadLettered),
                w.updatedAt.map { RecordJSON.iso8601($0) } ?? "-", w.owner.map { "pid \($0.pid) on \($0.host)" } ?? "-",
            ])
        }
        print(table.render())
        print(
            "\n\(status.workersFinished) of \(status.workers) workers finished; \(status.segmentsDone) of \(status.segmentsTotal) segments done; "
                + "\(formatCount(status.counts.itemsRead)) items read, \(formatCount(status.counts.itemsWritten)) written, "
                + "\(formatCount(status.counts.itemsDeadLettered)) dead-lettered")
        if !status.stragglers.isEmpty {
            print("stragglers: \(status.stragglers.map { "worker \($0)" }.joined(separator: ", "))")
            for w in status.perWorker where status.stragglers.contains(w.worker) {
                let left = w.segments.filter { !$0.done }.map { "\($0.source)#\($0.segment)" }
                if !left.isEmpty { print("  worker \(w.worker) still has: \(left.joined(separator: ", "))") }
            }
        }
        for f in status.fencedOff {
            print("fenced off: worker \(f.worker), \(f.owner.description), at \(RecordJSON.iso8601(f.at))")
        }
    }
}

/// `--state` for `verify` and `decommission`: the shared state of a job of many workers as evidence.
struct SharedStateOption: ParsableArguments {
    @Option(
        name: .customLong("state"),
        help:
            "Shared state of a job of many workers (dynamodb://TABLE[/PREFIX] or a directory): verify records its result there too; decommission takes the job's checkpoint and verification from it."
    )
    var state: String?

    /// The store, or nil without --state. It is not created: a job must have run there.
    func store(client: DynamoDBClient) async throws -> (any AsyncStateStore)? {
        guard let state else { return nil }
        let location = try StateLocation.parse(state)
        if case .dynamoDB(let table, _) = location, try await client.describeTableIfExists(table) == nil {
            throw CLIError.usage("--state \(state): there is no control table \(table); no job of many workers ran there")
        }
        return try await location.makeStore(client: client, create: false)
    }

    /// The job's evidence, refusing a store that holds no job.
    func evidence(client: DynamoDBClient) async throws -> SharedMigrationEvidence? {
        guard let store = try await store(client: client) else { return nil }
        let evidence = try await SharedMigrationEvidence.load(from: store)
        guard evidence.migration != nil else { throw CLIError.usage("--state \(state ?? ""): no job of many workers is recorded there") }
        return evidence
    }
}
