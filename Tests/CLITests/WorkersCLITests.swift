import AWSAuth
import DynamoClient
import DynamoCore
import Foundation
import RunState
import S3Client
import TestSupport
import Testing

@testable import DynamoMigrateCLI

/// One migration as four worker processes (the real binary) sharing a DynamoDB control table on the
/// local server: exact copies, kill -9 and restart, one index started twice, `--status`, lost answers.
@Suite("migrate --worker I/N, the binary", .serialized, needsLocalServer)
struct WorkersCLITests {
    let client = makeClient(endpoint: localEndpoint)

    /// A worker process running in the background.
    final class Worker: @unchecked Sendable {
        let process = Process()
        let directory = TestEnvironment.temporaryDirectory("worker-run")
        var out: URL { directory.appendingPathComponent("stdout") }
        var err: URL { directory.appendingPathComponent("stderr") }

        init(_ arguments: [String], environment: [String: String] = [:]) throws {
            let binary = try #require(TestEnvironment.cliBinary)
            _ = FileManager.default.createFile(atPath: out.path, contents: nil)
            _ = FileManager.default.createFile(atPath: err.path, contents: nil)
            process.executableURL = binary
            process.arguments = arguments
            process.environment = [
                "HOME": directory.path, "PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": "AKIDTESTTESTTEST",
                "AWS_SECRET_ACCESS_KEY": "test-secret-key", "AWS_REGION": "us-east-1",
            ].merging(environment) { $1 }
            process.standardOutput = try FileHandle(forWritingTo: out)
            process.standardError = try FileHandle(forWritingTo: err)
            try process.run()
        }

        func kill9() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        /// Waits for the process to end (killing it after `seconds`, so a hang fails instead of blocking).
        func finish(within seconds: Double = 300) async throws -> CLIRun {
            let pid = process.processIdentifier
            let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: watchdog)
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                DispatchQueue.global().async {
                    self.process.waitUntilExit()
                    continuation.resume()
                }
            }
            watchdog.cancel()
            return CLIRun(
                status: process.terminationStatus, stdout: String(decoding: try Data(contentsOf: out), as: UTF8.self),
                stderr: String(decoding: try Data(contentsOf: err), as: UTF8.self))
        }
    }

    struct Job {
        var source: String
        var target: String
        var control: String
        var mapping: String
        var items: [Item]
        var state: String { "dynamodb://\(control)/job" }
    }

    func makeJob(_ name: String, items count: Int) async throws -> Job {
        let source = try await makeTable(client, prefix: "\(name)-src")
        let items = sampleItems(count)
        try await writeAll(client, source, items)
        let target = TestEnvironment.uniqueTableName("\(name)-tgt")
        let mapping = TestEnvironment.temporaryDirectory(name).appendingPathComponent("mapping.yaml")
        try Data("version: 1\ntables:\n  - source: \(source)\n    target: \(target)\n".utf8).write(to: mapping)
        return Job(source: source, target: target, control: TestEnvironment.uniqueTableName("\(name)-ctl"), mapping: mapping.path, items: items)
    }

    func arguments(_ job: Job, _ extra: [String], endpoint: String = localEndpoint) -> [String] {
        ["migrate", job.mapping, "--state", job.state, "--endpoint-url", endpoint, "--state-dir", TestEnvironment.temporaryDirectory("unused").path] + extra
    }

    func expectExactCopy(_ job: Job, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let copied = try await scanAll(client, job.target)
        #expect(copied.count == job.items.count, sourceLocation: sourceLocation)
        #expect(Set(copied) == Set(job.items), "the target differs from the source", sourceLocation: sourceLocation)
    }

    func status(_ job: Job) async throws -> WorkerJobStatusView {
        let run = try TestEnvironment.runCLI(["migrate", job.mapping, "--status", "--json", "--state", job.state, "--endpoint-url", localEndpoint])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        return try JSONDecoder().decode(WorkerJobStatusView.self, from: Data(run.stdout.utf8))
    }

    /// What the tests read of `--status --json`.
    struct WorkerJobStatusView: Decodable {
        struct Worker: Decodable { var worker: Int; var state: String; var segmentsDone: Int }
        struct Fenced: Decodable { var worker: Int }
        var workers: Int
        var segmentsTotal: Int
        var segmentsDone: Int
        var workersFinished: Int
        var itemsRead: Int
        var itemsWritten: Int
        var itemsDeadLettered: Int
        var perWorker: [Worker]
        var stragglers: [Int]
        var fencedOff: [Fenced]
    }

    /// Polls the control table until worker `index` has checkpointed at least one page.
    func waitForProgress(_ job: Job, worker index: Int) async throws {
        let store = DynamoDBStateStore(client: client, table: job.control, prefix: "job")
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            if let saved = try? await store.loadRecord(WorkerCheckpoint.self, from: WorkerStateNames.checkpoint(index))?.record,
                saved.checkpoint.sources.values.contains(where: { $0.segments.contains { $0.itemsWritten > 0 } })
            {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("worker \(index) made no progress")
    }

    func cleanUp(_ job: Job) async throws {
        for table in [job.source, job.target, job.control] { try? await client.deleteTable(table) }
    }

    @Test("four workers copy a table exactly; the target is created once; --status counts every segment and item")
    func fourWorkers() async throws {
        let job = try await makeJob("w4", items: 400)
        let workers = try (0..<4).map { try Worker(arguments(job, ["--worker", "\($0)/4", "--segments", "8", "--page-size", "20"])) }
        var runs: [CLIRun] = []
        for worker in workers { runs.append(try await worker.finish()) }
        for (index, run) in runs.enumerated() { #expect(run.status == 0, "worker \(index): \(run.stderr)") }
        #expect(runs.filter { $0.stdout.contains("created: \(job.target)") }.count == 1, "exactly one worker creates the target")
        try await expectExactCopy(job)
        let status = try await status(job)
        #expect(status.workers == 4 && status.workersFinished == 4)
        #expect(status.segmentsTotal == 8 && status.segmentsDone == 8)
        #expect(status.perWorker.map(\.segmentsDone) == [2, 2, 2, 2])
        #expect(status.itemsRead == 400 && status.itemsWritten == 400 && status.itemsDeadLettered == 0)
        #expect(status.stragglers.isEmpty && status.fencedOff.isEmpty)
        // A worker run again after the job finished does nothing and says so.
        let again = try TestEnvironment.runCLI(arguments(job, ["--worker", "3/4"]))
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("Nothing to do: worker 3/4 already finished its share (state in dynamodb://\(job.control)/job/workers/3)."))
        try await cleanUp(job)
    }

    @Test("kill -9 two of four workers mid-run, start them again with the same indexes: exact copy, exact counts")
    func killAndRestart() async throws {
        let job = try await makeJob("wkill", items: 400)
        // 40 write units for the job: 10 per worker, about 10 s of copying each.
        let extra = ["--segments", "8", "--page-size", "5", "--max-write-units", "40"]
        var workers = try (0..<4).map { try Worker(arguments(job, ["--worker", "\($0)/4"] + extra)) }
        for index in [1, 2] {
            try await waitForProgress(job, worker: index)
            workers[index].kill9()
        }
        let during = try await status(job)
        #expect(during.workersFinished < 4)
        for index in [1, 2] { workers[index] = try Worker(arguments(job, ["--worker", "\(index)/4"] + extra)) }
        for (index, worker) in workers.enumerated() {
            let run = try await worker.finish()
            #expect(run.status == 0, "worker \(index) (1 and 2 restarted): \(run.stderr)")
        }
        try await expectExactCopy(job)
        let status = try await status(job)
        #expect(status.workersFinished == 4 && status.segmentsDone == 8)
        #expect(status.itemsRead == 400 && status.itemsWritten == 400, "checkpointed counts count each item once")
        #expect(status.fencedOff.isEmpty)
        // The restarted workers carried on from their checkpoints; the others ran once.
        let store = DynamoDBStateStore(client: client, table: job.control, prefix: "job")
        for index in 0..<4 {
            let kinds = try await store.readRecords(WorkerEvent.self, in: WorkerStateNames.events(index)).records.map(\.kind)
            #expect(kinds == (index == 1 || index == 2 ? [.started, .resumed, .finished] : [.started, .finished]), "worker \(index)")
        }
        try await cleanUp(job)
    }

    @Test("a merged target's sources keep their order across workers: the workers holding only source 2 wait for source 1")
    func mergeOrderAcrossWorkers() async throws {
        // Two sources with the same keys and different values, conflict: overwrite (the last source wins).
        // With 2 segments per source dealt round-robin, workers 0 and 1 copy source 1 and workers 2 and 3
        // source 2. Workers 2 and 3 start first: without waiting they would write source 2, exit, and then
        // source 1 would overwrite it. They must wait until workers 0 and 1 have finished source 1.
        let first = try await makeTable(client, prefix: "wmerge-a")
        let second = try await makeTable(client, prefix: "wmerge-b")
        let keys = (0..<60).map { "item-\($0)" }
        try await writeAll(client, first, keys.map { ["pk": .s($0), "from": .s("first")] })
        let secondItems: [Item] = keys.map { ["pk": .s($0), "from": .s("second")] }
        try await writeAll(client, second, secondItems)
        let target = TestEnvironment.uniqueTableName("wmerge-tgt")
        let mapping = TestEnvironment.temporaryDirectory("wmerge").appendingPathComponent("mapping.yaml")
        try Data(
            """
            version: 1
            tables:
              - target: \(target)
                conflict: overwrite
                sources:
                  - table: \(first)
                  - table: \(second)

            """.utf8
        ).write(to: mapping)
        let job = Job(source: first, target: target, control: TestEnvironment.uniqueTableName("wmerge-ctl"), mapping: mapping.path, items: secondItems)
        defer { Task { [client] in for t in [first, second, target, job.control] { try? await client.deleteTable(t) } } }
        func start(_ index: Int) throws -> Worker {
            try Worker(arguments(job, ["--worker", "\(index)/4", "--segments", "2", "--page-size", "10"]))
        }
        let late = try [start(2), start(3)]
        // Both have taken their index and are waiting (they say so) while source 1 is not copied.
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let said = late.allSatisfy { (try? String(contentsOf: $0.err, encoding: .utf8))?.contains("to finish") == true }
            if said || late.contains(where: { !$0.process.isRunning }) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(late.allSatisfy { $0.process.isRunning }, "workers holding only source 2 must wait for source 1")
        let early = try [start(0), start(1)]
        for (index, worker) in (early + late).enumerated() {
            let run = try await worker.finish()
            #expect(run.status == 0, "worker \(index): \(run.stderr)")
        }
        let copied = try await scanAll(client, target)
        #expect(Set(copied) == Set(secondItems), "overwrite: every key holds the second source's item")
    }

    @Test("the same index started twice: the first is fenced off with a clear message, the second finishes the copy")
    func sameIndexTwice() async throws {
        let job = try await makeJob("wtwice", items: 100)
        let extra = ["--worker", "0/1", "--segments", "2", "--page-size", "5", "--max-write-units", "10"]
        let first = try Worker(arguments(job, extra))
        try await waitForProgress(job, worker: 0)
        let second = try Worker(arguments(job, extra))
        let firstRun = try await first.finish()
        let secondRun = try await second.finish()
        #expect(firstRun.status == 1, "stdout: \(firstRun.stdout) stderr: \(firstRun.stderr)")
        #expect(firstRun.stderr.contains("worker 0/1 was fenced off: another process (pid \(second.process.processIdentifier) on "), "\(firstRun.stderr)")
        #expect(firstRun.stderr.contains("this one stopped without advancing the checkpoint"))
        #expect(secondRun.status == 0, "stderr: \(secondRun.stderr)")
        try await expectExactCopy(job)
        let status = try await status(job)
        #expect(status.workersFinished == 1 && status.itemsWritten == 100)
        #expect(status.fencedOff.map(\.worker) == [0])
        let text = try TestEnvironment.runCLI(["migrate", job.mapping, "--status", "--state", job.state, "--endpoint-url", localEndpoint])
        #expect(text.stdout.contains("1 of 1 workers finished; 2 of 2 segments done; 100 items read, 100 written, 0 dead-lettered"), "\(text.stdout)")
        #expect(text.stdout.contains("fenced off: worker 0, pid \(first.process.processIdentifier) on "))
        try await cleanUp(job)
    }

    @Test("four workers through a proxy that loses answers (control table and data): nothing lost, counts exact")
    func lostAnswers() async throws {
        let job = try await makeJob("wlost", items: 300)
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        proxy.inject(.resetAfterForwarding, operation: "PutItem", probability: 0.3, seed: 15)
        proxy.inject(.resetAfterForwarding, operation: "BatchWriteItem", probability: 0.2, seed: 16)
        proxy.inject(.resetAfterForwarding, operation: "Scan", probability: 0.1, seed: 17)
        let workers = try (0..<4).map {
            try Worker(arguments(job, ["--worker", "\($0)/4", "--segments", "4", "--page-size", "10"], endpoint: proxy.endpoint))
        }
        for (index, worker) in workers.enumerated() {
            let run = try await worker.finish()
            #expect(run.status == 0, "worker \(index): \(run.stderr)")
        }
        #expect(proxy.counters.applied(.resetAfterForwarding) > 0)
        try await expectExactCopy(job)
        let status = try await status(job)
        #expect(status.workersFinished == 4 && status.segmentsDone == 4)
        #expect(status.itemsRead == 300 && status.itemsWritten == 300 && status.fencedOff.isEmpty)
        try await cleanUp(job)
    }

    @Test("verify and decommission take a job's shared state as evidence: refused until every worker has finished, then deleted")
    func sharedEvidence() async throws {
        var job = try await makeJob("wdec", items: 60)
        try Data("version: 1\ntables:\n  - source: \(job.source)\n    target: \(job.target)\ndecommission: [\(job.source)]\n".utf8)
            .write(to: URL(fileURLWithPath: job.mapping))
        job.items = try await scanAll(client, job.source)
        let local = TestEnvironment.temporaryDirectory("wdec-local").path
        let common = ["--endpoint-url", localEndpoint, "--state-dir", local]
        let first = try TestEnvironment.runCLI(arguments(job, ["--worker", "0/2", "--segments", "4"]))
        #expect(first.status == 0, "\(first.stderr)")
        let early = try TestEnvironment.runCLI(["decommission", job.mapping, "--state", job.state] + common)
        #expect(early.stdout.contains("the migration of \(job.source) has not finished"), "\(early.stdout)\(early.stderr)")
        let second = try TestEnvironment.runCLI(arguments(job, ["--worker", "1/2", "--segments", "4"]))
        #expect(second.status == 0, "\(second.stderr)")
        try await expectExactCopy(job)
        let verified = try TestEnvironment.runCLI(["verify", job.mapping, "--state", job.state] + common)
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        let store = DynamoDBStateStore(client: client, table: job.control, prefix: "job")
        #expect(try await store.loadRecord(VerificationRecord.self, from: VerificationRecord.fileName)?.record.matched == true)
        let backup = try await client.createBackup(table: job.source, name: "\(job.source)-before")
        try await client.waitUntilBackupAvailable(backup.arn, pollInterval: .milliseconds(50))
        // The local state directory holds no migration: without --state there is no evidence.
        let withoutState = try TestEnvironment.runCLI(["decommission", job.mapping] + common)
        #expect(withoutState.stdout.contains("no migration recorded in"), "\(withoutState.stdout)")
        let deleted = try TestEnvironment.runCLI(["decommission", job.mapping, "--state", job.state, "--execute", "--yes-delete", job.source] + common)
        #expect(deleted.status == 0, "\(deleted.stdout)\(deleted.stderr)")
        #expect(try await client.describeTableIfExists(job.source) == nil)
        try? await client.deleteBackup(arn: backup.arn)
        try await cleanUp(job)
    }

    @Test("two workers sharing state in S3 (s3://bucket/prefix): exact copy, --status counts")
    func s3State() async throws {
        var job = try await makeJob("ws3", items: 120)
        var configuration = AWSConfiguration(credentials: testCredentials, region: "us-east-1", endpoint: localEndpoint, profile: nil)
        configuration.s3Endpoint = localEndpoint
        let bucket = "ws3-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
        _ = try await S3Client(configuration: configuration).createBucket(bucket)
        let state = "s3://\(bucket)/jobs/ws3"
        let environment = ["AWS_ENDPOINT_URL_S3": localEndpoint]
        func args(_ index: Int) -> [String] {
            ["migrate", job.mapping, "--state", state, "--endpoint-url", localEndpoint, "--worker", "\(index)/2", "--segments", "4", "--page-size", "10"]
        }
        let workers = try (0..<2).map { try Worker(args($0), environment: environment) }
        for (index, worker) in workers.enumerated() {
            let run = try await worker.finish()
            #expect(run.status == 0, "worker \(index): \(run.stderr)")
        }
        job.control = "unused"
        try await expectExactCopy(job)
        let run = try TestEnvironment.runCLI(
            ["migrate", job.mapping, "--status", "--json", "--state", state, "--endpoint-url", localEndpoint],
            environment: [
                "AWS_ACCESS_KEY_ID": "AKIDTESTTESTTEST", "AWS_SECRET_ACCESS_KEY": "test-secret-key", "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL_S3": localEndpoint,
            ])
        #expect(run.status == 0, "\(run.stderr)")
        let status = try JSONDecoder().decode(WorkerJobStatusView.self, from: Data(run.stdout.utf8))
        #expect(status.workersFinished == 2 && status.segmentsDone == 4 && status.itemsWritten == 120)
        try await cleanUp(job)
    }

    @Test("a worker started with another worker count than the job's is refused (exit 2), naming both")
    func inconsistentCount() async throws {
        let job = try await makeJob("wcount", items: 10)
        let run = try TestEnvironment.runCLI(arguments(job, ["--worker", "0/2"]))
        #expect(run.status == 0, "\(run.stderr)")
        let other = try TestEnvironment.runCLI(arguments(job, ["--worker", "1/3"]))
        #expect(other.status == 2)
        #expect(
            other.stderr.contains(
                "error: dynamodb://\(job.control)/job/job.json: the job was started with 2 workers, this worker with 3 (--worker 1/3)"),
            "\(other.stderr)")
        try await cleanUp(job)
    }

    @Test("the worker index from --worker, --workers and the schedulers' variables; inconsistent values are refused")
    func workerIndex() throws {
        #expect(try WorkerIndex.resolve(worker: "2/4", workers: nil, environment: [:]) == WorkerIndex(index: 2, count: 4))
        #expect(try WorkerIndex.resolve(worker: nil, workers: 4, environment: ["JOB_COMPLETION_INDEX": "3"]) == WorkerIndex(index: 3, count: 4))
        #expect(
            try WorkerIndex.resolve(worker: nil, workers: nil, environment: ["AWS_BATCH_JOB_ARRAY_INDEX": "1", "AWS_BATCH_JOB_ARRAY_SIZE": "5"])
                == WorkerIndex(index: 1, count: 5))
        #expect(
            try WorkerIndex.resolve(worker: nil, workers: 5, environment: ["AWS_BATCH_JOB_ARRAY_INDEX": "1", "AWS_BATCH_JOB_ARRAY_SIZE": "5"])
                == WorkerIndex(index: 1, count: 5))
        func refusal(_ worker: String?, _ workers: Int?, _ environment: [String: String]) -> String {
            do {
                _ = try WorkerIndex.resolve(worker: worker, workers: workers, environment: environment)
                return "accepted"
            } catch { return "\(error)" }
        }
        #expect(refusal("4/4", nil, [:]) == "worker index 4 is out of range for 4 workers (indexes are 0 to 3)")
        #expect(refusal("1-4", nil, [:]).hasPrefix("--worker 1-4: expected I/N"))
        #expect(refusal("1/4", 3, [:]) == "--worker 1/4 says 4 workers but --workers says 3; give one of them")
        #expect(refusal(nil, 4, [:]).hasPrefix("--workers 4 needs this worker's index"))
        #expect(refusal("1/4", nil, ["JOB_COMPLETION_INDEX": "2"]).hasPrefix("JOB_COMPLETION_INDEX is 2 but this worker was given index 1"))
        #expect(
            refusal(nil, 4, ["AWS_BATCH_JOB_ARRAY_INDEX": "1", "AWS_BATCH_JOB_ARRAY_SIZE": "5"]).hasPrefix(
                "AWS_BATCH_JOB_ARRAY_SIZE is 5 but this job was given 4 workers"))
        #expect(refusal(nil, 4, ["JOB_COMPLETION_INDEX": "x"]) == "JOB_COMPLETION_INDEX=x is not a worker index (a whole number, 0 or more)")
        #expect(refusal("0/0", nil, [:]) == "the number of workers must be at least 1 (got 0)")
    }

    @Test("--worker without --state, and an unknown --state, are input errors (exit 2)")
    func stateErrors() throws {
        let mapping = TestEnvironment.temporaryDirectory("wstate").appendingPathComponent("m.yaml")
        try Data("version: 1\ntables:\n  - source: a-src\n    target: a-tgt\n".utf8).write(to: mapping)
        let noState = try TestEnvironment.runCLI(["migrate", mapping.path, "--worker", "0/2", "--endpoint-url", localEndpoint])
        #expect(noState.status == 2)
        #expect(noState.stderr.contains("--worker and --workers need --state"), "\(noState.stderr)")
        let bad = try TestEnvironment.runCLI(["migrate", mapping.path, "--worker", "0/2", "--state", "ftp://x", "--endpoint-url", localEndpoint])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--state ftp://x: expected dynamodb://TABLE[/PREFIX], s3://BUCKET/PREFIX or a directory"), "\(bad.stderr)")
    }
}
