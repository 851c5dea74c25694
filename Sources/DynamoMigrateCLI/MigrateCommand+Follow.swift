import ArgumentParser
import DynamoClient
import Follow
import Foundation
import Pipeline
import RunState
import Synchronization

/// `migrate --follow`: live migration. Stream positions are taken before the copy, the copy runs, then
/// the sources' DynamoDB Streams are applied to the targets until Ctrl-C or `--until-idle`.
struct FollowFlags: ParsableArguments {
    @Flag(help: "Live migration: take stream positions before the copy, then apply the sources' DynamoDB Streams to the targets until Ctrl-C or --until-idle.")
    var follow = false

    @Flag(
        name: .customLong("enable-streams"),
        help: "With --follow: turn on a NEW_AND_OLD_IMAGES stream on sources that have none (a change to the source tables).")
    var enableStreams = false

    @Option(name: .customLong("until-idle"), help: "With --follow: exit 0 once every shard is caught up and no record arrived for this long (e.g. 60s, 5m).")
    var untilIdle: String?

    @Option(name: .customLong("metrics"), help: "With --follow: keep a Prometheus textfile with the lag per shard here (replaced atomically).")
    var metrics: String?

    func validate() throws {
        if !follow {
            for (flag, given) in [("--enable-streams", enableStreams), ("--until-idle", untilIdle != nil), ("--metrics", metrics != nil)] where given {
                throw ValidationError("\(flag) needs --follow")
            }
        }
        if let untilIdle, Self.parseDuration(untilIdle) == nil {
            throw ValidationError("--until-idle must be a duration such as 60s, 5m or 1h (got '\(untilIdle)')")
        }
    }

    /// `90`, `90s`, `5m`, `1h`, `500ms`: a positive duration.
    static func parseDuration(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        var number = trimmed
        var scale = 1.0
        for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
            number = String(trimmed.dropLast(suffix.count))
            scale = factor
            break
        }
        guard let value = Double(number), value.isFinite, value > 0 else { return nil }
        return .milliseconds(Int64((value * scale * 1000).rounded()))
    }

    /// Before the copy: refuses what cannot be followed, makes sure every source has its stream, and takes
    /// (or with --resume, loads) the positions. Nil without --follow.
    func prepare(client: DynamoDBClient, loaded: LoadedMapping, directory: URL, resume: Bool) async throws -> StreamFollower? {
        guard follow else { return nil }
        var options = FollowOptions(stateDirectory: directory, planFingerprint: loaded.fingerprint)
        // The SDKs' service-specific endpoint variable for DynamoDB Streams, unless --endpoint-url names the one
        // endpoint to use; else derived from the DynamoDB endpoint.
        let streamsVariable = ProcessInfo.processInfo.environment["AWS_ENDPOINT_URL_DYNAMODB_STREAMS"].flatMap { $0.isEmpty ? nil : $0 }
        options.streamsEndpoint = client.configuration.endpointSource == "--endpoint-url" ? nil : streamsVariable
        options.untilIdle = untilIdle.flatMap(Self.parseDuration)
        options.metricsFile = metrics.map { URL(fileURLWithPath: $0) }
        // Merged targets (and keep-existing/fail ones) get a TargetItemResolver each, recomputing a key from
        // every source; a target whose keys cannot be traced back to its sources is refused here.
        let follower: StreamFollower
        do {
            let resolvers = try await StreamFollower.makeResolvers(client: client, mapping: loaded.resolved)
            follower = StreamFollower(client: client, mapping: loaded.resolved, options: options, resolvers: resolvers, logger: client.logger)
            try StreamFollower.checkFollowable(loaded.resolved, resolvers: Set(resolvers.keys))
            let arns = try await follower.prepareStreams(enable: enableStreams)
            try await follower.capturePositions(streamArns: arns, resume: resume)
        } catch let error as FollowError {
            throw error.isUsage ? CLIError.usage(error.description) : CLIError.failed(error.description)
        }
        return follower
    }

    /// After the copy: follows until drained or stopped, adds the follow to report.json, prints the outcome.
    func run(_ follower: StreamFollower, copy: MigrationReport, json: Bool, mappingPath: String) async throws {
        if copy.alreadyComplete { printError("the copy had already finished; following the streams from the recorded positions") }
        let interactive = isatty(STDERR_FILENO) == 1
        let printer = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interactive ? .seconds(1) : .seconds(5))
                if Task.isCancelled { break }
                let lines = follower.snapshot().progressLines.map { "[follow] \($0)" }
                FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
            }
        }
        defer { printer.cancel() }
        let report: FollowReport
        do {
            report = try await follower.run()
        } catch let error as FollowError {
            throw error.isUsage ? CLIError.usage(error.description) : CLIError.failed(error.description)
        }
        printer.cancel()
        try recordInReport(report, directory: follower.options.stateDirectory)
        if json {
            struct Combined: Encodable { var migration: MigrationReport; var follow: FollowReport }
            print(try jsonText(Combined(migration: copy, follow: report)))
        } else {
            print(report.progressLine)
            for source in report.sources where source.recordsSkipped > 0 {
                print("\(source.table): \(source.recordsSkipped) records older than the positions skipped (already in the copy)")
            }
        }
        if report.deadLettered > 0 {
            throw CLIError.failed(
                "\(report.deadLettered) changed items could not be projected; see dead-letters.jsonl in \(follower.options.stateDirectory.path)")
        }
        if !report.drained {
            printError(
                "follow stopped before draining; positions saved. Continue with: dynamo-migrate migrate \(mappingPath) --follow --resume --state-dir \(follower.options.stateDirectory.path)"
            )
            if report.interrupted { throw ExitCode(130) }
        } else if !json {
            print("drained: every shard caught up and idle; run `dynamo-migrate verify \(mappingPath)` before switching over")
        }
    }

    /// Adds `follow` to the run's report.json (the copy's report stays as it is).
    func recordInReport(_ report: FollowReport, directory: URL) throws {
        let store = LocalDirectoryStateStore(directory: directory)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        let followObject = try JSONSerialization.jsonObject(with: encoder.encode(report))
        var document: [String: Any] = [:]
        if let existing = try store.read("report.json"),
            let object = try? JSONSerialization.jsonObject(with: existing.data) as? [String: Any]
        {
            document = object
        }
        document["follow"] = followObject
        try store.replace("report.json", with: try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys]))
        // report.md: the copy's report (without an earlier run's follow section), then this follow.
        var markdown = (try store.read("report.md")).map { String(decoding: $0.data, as: UTF8.self) } ?? ""
        if let earlier = markdown.range(of: "\n## Follow\n") { markdown = String(markdown[..<earlier.lowerBound]) + "\n" }
        try store.replace("report.md", with: Data((markdown + "\n" + report.markdown).utf8))
    }
}
