import DynamoClient
import DynamoCore
import Foundation
import Mappings
import Pipeline
import RunState
import TableIO
import TestSupport
import Testing

/// Runs the real binary, kills it with SIGKILL mid-run, and resumes.
@Suite(needsLocalServer)
struct ResumeAfterKillTests {
    let client = makeClient(endpoint: localEndpoint)

    func run(_ binary: URL, _ arguments: [String], wait: Bool = true) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments + ["--endpoint-url", localEndpoint]
        var environment = ProcessInfo.processInfo.environment
        environment["AWS_ACCESS_KEY_ID"] = "test"
        environment["AWS_SECRET_ACCESS_KEY"] = "test"
        environment["AWS_REGION"] = "us-east-1"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        if wait { process.waitUntilExit() }
        return (process, output)
    }

    func writtenSoFar(_ checkpoint: URL) -> Int {
        guard let data = try? Data(contentsOf: checkpoint),
            let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let sources = json["sources"] as? [String: [String: Any]]
        else { return 0 }
        return sources.values.flatMap { ($0["segments"] as? [[String: Any]]) ?? [] }
            .reduce(0) { $0 + (($1["itemsWritten"] as? Int) ?? 0) }
    }

    @Test func killNineMidRunThenResumeGivesAnExactCopy() async throws {
        let binary = try #require(TestEnvironment.cliBinary, "build the binary first (swift build)")
        let source = try await makeTable(client, prefix: "resume-src")
        let items: [Item] = (0..<1200).map {
            ["pk": .s(String(format: "k%05d", $0)), "n": .n(DynamoNumber($0)), "pad": .s(String(repeating: "r", count: 200))]
        }
        try await writeAll(client, source, items)
        let target = TestEnvironment.uniqueTableName("resume-target")
        let state = TestEnvironment.temporaryDirectory("resume")
        let mapping = state.appendingPathComponent("mapping.yaml")
        try """
        version: 1
        tables:
          - source: \(source)
            target: \(target)
            transforms:
              - set: { copied: true }
        """.write(to: mapping, atomically: true, encoding: .utf8)
        let stateDir = state.appendingPathComponent("state").path
        let arguments = ["migrate", mapping.path, "--state-dir", stateDir, "--segments", "3", "--page-size", "40", "--writers", "1"]

        // Slow enough (150 write units/s) that the kill lands mid-run.
        let (first, _) = try run(binary, arguments + ["--max-write-units", "150"], wait: false)
        let checkpoint = URL(fileURLWithPath: stateDir).appendingPathComponent("checkpoint.json")
        let deadline = Date().addingTimeInterval(60)
        while writtenSoFar(checkpoint) < 200, first.isRunning, Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        try #require(first.isRunning, "the first run ended before it could be killed")
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(first.terminationReason == .uncaughtSignal)
        let durable = writtenSoFar(checkpoint)
        #expect(durable >= 200 && durable < 1200, "killed mid-run with \(durable) items checkpointed")

        // Without --resume the tool refuses to mix runs and says what to do.
        let (refused, refusedOutput) = try run(binary, arguments)
        let refusal = String(decoding: refusedOutput.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(refused.terminationStatus == 2)
        #expect(refusal.contains("rerun with --resume"))

        let (resumed, resumedOutput) = try run(binary, arguments + ["--resume"])
        let text = String(decoding: resumedOutput.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(resumed.terminationStatus == 0, "resume failed: \(text)")
        #expect(text.contains("1,200 items read, 1,200 written"))

        let copied = try await actualItems(target, client: client)
        #expect(copied.count == 1200)
        for item in items {
            var expected = item
            expected["copied"] = .bool(true)
            #expect(copied[["pk": item["pk"]!]] == expected)
        }

        let (again, againOutput) = try run(binary, arguments + ["--resume"])
        #expect(again.terminationStatus == 0)
        #expect(String(decoding: againOutput.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).contains("Nothing to do"))
        try await client.deleteTable(target)
        try await client.deleteTable(source)
    }
}

extension ResumeAfterKillTests {
    @Test func ctrlCStopsCleanlyAndSaysHowToResume() async throws {
        let binary = try #require(TestEnvironment.cliBinary, "build the binary first (swift build)")
        let source = try await makeTable(client, prefix: "sigint-src")
        let items: [Item] = (0..<600).map { ["pk": .s(String(format: "k%05d", $0)), "pad": .s(String(repeating: "s", count: 100))] }
        try await writeAll(client, source, items)
        let target = TestEnvironment.uniqueTableName("sigint-target")
        let state = TestEnvironment.temporaryDirectory("sigint")
        let mapping = state.appendingPathComponent("mapping.yaml")
        try "version: 1\ntables:\n  - source: \(source)\n    target: \(target)\n".write(to: mapping, atomically: true, encoding: .utf8)
        let stateDir = state.appendingPathComponent("state").path
        let arguments = ["migrate", mapping.path, "--state-dir", stateDir, "--page-size", "20", "--writers", "1"]

        let (first, output) = try run(binary, arguments + ["--max-write-units", "60"], wait: false)
        let checkpoint = URL(fileURLWithPath: stateDir).appendingPathComponent("checkpoint.json")
        let deadline = Date().addingTimeInterval(60)
        while writtenSoFar(checkpoint) < 60, first.isRunning, Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        try #require(first.isRunning, "the run ended before Ctrl-C")
        kill(first.processIdentifier, SIGINT)
        first.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(first.terminationReason == .exit)
        #expect(first.terminationStatus == 1)
        #expect(text.contains("stopping: finishing in-flight batches and saving the checkpoint"))
        #expect(text.contains("interrupted; resume with: dynamo-migrate migrate \(mapping.path) --resume --state-dir \(stateDir)"))
        let saved = writtenSoFar(checkpoint)
        #expect(saved >= 60 && saved < 600)
        // Everything the checkpoint counts is in the target (in-flight batches finished before exit).
        #expect(try await scanAll(client, target).count >= saved)

        let (resumed, _) = try run(binary, arguments + ["--resume"])
        #expect(resumed.terminationStatus == 0)
        let copied = try await actualItems(target, client: client)
        #expect(copied.count == 600)
        #expect(Set(copied.values) == Set(items))
        try await client.deleteTable(target)
        try await client.deleteTable(source)
    }
}

/// The omnix-ai estate, seeded by the project's seeder, migrated with the shipped mapping and with the
/// full example of docs/mappings.md. Serialized: each test reseeds (`--reset`) the same 27 tables.
@Suite(needsLocalServer, .serialized)
struct OmnixEstateMigrationTests {
    let client = makeClient(endpoint: localEndpoint)

    /// Seeds the estate at scale 0.3 (seed 42) and returns the seeder's summary file.
    func seedEstate() throws -> URL {
        let seeder = Process()
        seeder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let summary = TestEnvironment.temporaryDirectory("estate-seed").appendingPathComponent("summary.json")
        seeder.arguments = [
            "bash", TestEnvironment.packageRoot.appendingPathComponent("scripts/seed-omnix-estate.sh").path,
            "--endpoint-url", localEndpoint, "--reset", "--quiet", "--scale", "0.3", "--summary-json", summary.path,
        ]
        try seeder.run()
        seeder.waitUntilExit()
        try #require(seeder.terminationStatus == 0, "the estate seeder failed")
        return summary
    }

    /// Deletes the targets an earlier run left (deletion protection on), so this run creates them.
    func deleteTargets(_ mapping: ResolvedMapping) async throws {
        for target in mapping.targets where try await client.describeTableIfExists(target.name) != nil {
            try await client.updateTable(UpdateTableInput(name: target.name, deletionProtection: false))
            try await client.deleteTable(target.name)
            try await client.waitUntilDeleted(target.name, pollInterval: .milliseconds(50))
        }
    }

    /// The docs' full example: a glob entry plus entries naming two of the targets the glob produces.
    /// Env `docs` (the documented `--env` override) keeps its targets apart from the shipped mapping's.
    @Test func theFullExampleOfTheMappingDocsPlansAndMigratesTheEstate() async throws {
        _ = try seedEstate()
        let docs = try String(contentsOf: TestEnvironment.packageRoot.appendingPathComponent("docs/mappings.md"), encoding: .utf8)
        let rest = docs[try #require(docs.range(of: "## A full example")).upperBound...]
        let open = try #require(rest.range(of: "```yaml\n"))
        let close = try #require(rest[open.upperBound...].range(of: "```"))
        let file = TestEnvironment.temporaryDirectory("docs-example").appendingPathComponent("full-example.yaml")
        try String(rest[open.upperBound..<close.lowerBound]).write(to: file, atomically: true, encoding: .utf8)
        let document = try MappingLoader.load(path: file.path, env: "docs")
        try await deleteTargets(try document.resolve(existingTables: try await client.listTables()))
        let resolved = try document.resolve(existingTables: try await client.listTables())
        let cdk = [
            "analytics", "carts", "customer-profiles", "feature-flags", "import-checkpoints", "inventory",
            "orders", "products", "recommendations", "sessions", "users",
        ]
        #expect(resolved.targets.map(\.name) == cdk.map { "omnix-ai-docs-\($0)" })

        // plan: the glob's users and orders tables join the entries naming those targets, and say so.
        let plan = try await Planner(
            client: client, mapping: resolved,
            options: PlanOptions(mappingFile: file.path, env: "docs")
        ).makePlan()
        #expect(plan.problems == [])
        let users = try #require(plan.targets.first { $0.name == "omnix-ai-docs-users" })
        #expect(users.sources.map(\.table) == ["omnix-ai-cdk-users", "omnix-ai-dev-users", "omnix-users"])
        #expect(users.sources.map(\.matchedBy) == ["omnix-ai-cdk-*", nil, nil])
        #expect(users.conflict == "keep-existing")
        #expect(
            users.sources[0].actions.first
                == "matched by source glob 'omnix-ai-cdk-*' (line 7), with that entry's transforms; the entry at line 13 names omnix-ai-docs-users and sets its settings and conflict policy"
        )
        let orders = try #require(plan.targets.first { $0.name == "omnix-ai-docs-orders" })
        #expect(orders.sources.map(\.table) == ["omnix-ai-cdk-orders", "omnix-orders-v1"])
        #expect(orders.sources.map(\.matchedBy) == ["omnix-ai-cdk-*", nil])
        #expect(orders.inheritsFrom == "omnix-ai-cdk-orders")

        // migrate: every item accounted for, each target exactly what its sources make of it.
        var options = MigrationOptions(stateDirectory: TestEnvironment.temporaryDirectory("docs-example-state"), planFingerprint: "docs")
        options.writersPerTarget = 2
        let report = try await Migrator(client: client, mapping: resolved, options: options).run()
        #expect(report.itemsDeadLettered == 0)
        #expect(report.createdTables.count == cdk.count)
        var counts: [String: Int] = [:]
        for target in resolved.targets { counts[target.name] = try await actualItems(target.name, client: client).count }
        // Scale 0.3: users are 36 cdk (written first) + 45 dev, of which the 15 the cdk copy already
        // holds are kept as they are (keep-existing), + 24 legacy under "LEGACY#"; orders 45 cdk + 30 v1.
        #expect(
            counts == [
                "omnix-ai-docs-analytics": 36, "omnix-ai-docs-carts": 12, "omnix-ai-docs-customer-profiles": 36,
                "omnix-ai-docs-feature-flags": 5, "omnix-ai-docs-import-checkpoints": 3, "omnix-ai-docs-inventory": 30,
                "omnix-ai-docs-orders": 75, "omnix-ai-docs-products": 36, "omnix-ai-docs-recommendations": 45,
                "omnix-ai-docs-sessions": 24, "omnix-ai-docs-users": 90,
            ])
        #expect(report.itemsRead == 407)
        #expect(report.itemsKeptExisting == 15)
        #expect(report.itemsFiltered == 0)
        try await expectTargetsMatchSources(resolved, client: client)
        #expect(try await client.describeTable("omnix-ai-docs-users").deletionProtection)
        try await deleteTargets(resolved)
    }

    @Test func theShippedConsolidationMappingMigratesTheEstateExactly() async throws {
        let root = TestEnvironment.packageRoot
        let summary = try seedEstate()

        let document = try MappingLoader.load(path: root.appendingPathComponent("mappings/omnix-ai-consolidation.yaml").path, env: nil)
        let before = try document.resolve(existingTables: try await client.listTables())
        #expect(before.targets.count == 8)
        #expect(before.targets.map(\.name).allSatisfy { $0.hasPrefix("omnix-ai-prod-") })
        let seeded = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: summary)) as? [String: Any])
        let estate = Set(((seeded["tables"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String })
        #expect(estate.count == 27)
        #expect(before.unaccounted.filter(estate.contains).isEmpty, "every estate table is accounted for")
        // Targets left by an earlier run (deletion protection on) go first, so this run creates them.
        try await deleteTargets(before)
        let resolved = try document.resolve(existingTables: try await client.listTables())

        var options = MigrationOptions(stateDirectory: TestEnvironment.temporaryDirectory("estate"), planFingerprint: "estate")
        options.writersPerTarget = 2
        let report = try await Migrator(client: client, mapping: resolved, options: options).run()
        #expect(report.itemsDeadLettered == 0)
        #expect(report.createdTables.count == 8)
        try await expectTargetsMatchSources(resolved, client: client)
        for target in resolved.targets {
            let table = try await client.describeTable(target.name)
            #expect(table.deletionProtection, "\(target.name) is protected")
            #expect(try await client.describeContinuousBackups(table: target.name).isPointInTimeRecoveryEnabled)
        }
    }
}
