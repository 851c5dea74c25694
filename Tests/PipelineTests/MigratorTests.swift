import DynamoClient
import DynamoCore
import Foundation
import Mappings
import Pipeline
import RunState
import TableIO
import TestSupport
import Testing

@Suite(needsLocalServer)
struct MigratorTests {
    let client = makeClient(endpoint: localEndpoint)

    @Test func manySourcesIntoOneTargetWithTransformsAndOverwrite() async throws {
        let fixture = try await MergeFixture.make(client, prefix: "mig-merge")
        let state = TestEnvironment.temporaryDirectory("mig-merge")
        let (report, resolved) = try await migrate(fixture.yaml(), client: client, stateDirectory: state) {
            $0.segments = 3; $0.scanPageLimit = 40
        }

        try await expectTargetsMatchSources(resolved, client: client)
        #expect(report.createdTables == [fixture.target])
        #expect(report.itemsRead == 250)
        #expect(report.itemsFiltered == 10, "ids 100, 110, ..., 190 are deleted in B")
        #expect(report.itemsWritten == 240)
        #expect(report.itemsDeadLettered == 0)
        // Spot checks of the transforms, beyond the generic comparison.
        let fromA = try #require(try await client.getItem(table: fixture.target, key: ["id": .s("u0003")]))
        #expect(fromA["price"] == .n(DynamoNumber(unchecked: "3.50")))
        #expect(fromA["createdAt"] == .s("2023-11-14T22:13:23Z"))
        #expect(fromA["origin"] == .s(fixture.a))
        let overwritten = try #require(try await client.getItem(table: fixture.target, key: ["id": .s("u0101")]))
        #expect(overwritten["name"] == .s("Bob 101"), "the later source wins under overwrite")
        let keptFromA = try #require(try await client.getItem(table: fixture.target, key: ["id": .s("u0110")]))
        #expect(keptFromA["name"] == .s("Ada 110 ✓"), "B's item was filtered out, so A's stays")

        let target = try await client.describeTable(fixture.target)
        #expect(target.keySchema == KeySchema(partitionKey: KeyAttribute(name: "id", type: .string)))
        #expect(try await client.describeContinuousBackups(table: fixture.target).isPointInTimeRecoveryEnabled, "PITR on by default")
        #expect(FileManager.default.fileExists(atPath: state.appendingPathComponent("report.md").path))

        // Running it again is a no-op that says so.
        let rerun = Migrator(
            client: client, mapping: try await resolve(fixture.yaml(), client: client),
            options: MigrationOptions(stateDirectory: state, planFingerprint: "test"))
        let before = client.statistics.requests
        let again = try await rerun.run()
        #expect(again.alreadyComplete)
        #expect(client.statistics.requests == before, "a finished migration sends nothing")
        await fixture.delete(client)
    }

    @Test func keepExistingLetsTheFirstSourceWin() async throws {
        let fixture = try await MergeFixture.make(client, prefix: "mig-keep", countA: 120, countB: 40)
        let state = TestEnvironment.temporaryDirectory("mig-keep")
        let (report, resolved) = try await migrate(fixture.yaml(conflict: "keep-existing"), client: client, stateDirectory: state)
        try await expectTargetsMatchSources(resolved, client: client)
        #expect(report.itemsKeptExisting == 18, "B's active ids 100..<120 minus 100 and 110 collide with A")
        let item = try #require(try await client.getItem(table: fixture.target, key: ["id": .s("u0101")]))
        #expect(item["name"] == .s("Ada 101 ✓"))
        await fixture.delete(client)
    }

    @Test func failPolicyStopsAtTheFirstRealConflict() async throws {
        let fixture = try await MergeFixture.make(client, prefix: "mig-fail", countA: 110, countB: 20)
        let state = TestEnvironment.temporaryDirectory("mig-fail")
        do {
            _ = try await migrate(fixture.yaml(conflict: "fail"), client: client, stateDirectory: state)
            Issue.record("conflicting sources migrated under conflict: fail")
        } catch let error as PipelineError {
            guard case .conflict(let table, let key, let source) = error else { Issue.record("unexpected \(error)"); return }
            #expect(table == fixture.target)
            #expect(key.hasPrefix("id={\"S\":\"u01"))
            #expect(source.hasSuffix("/\(fixture.b)"))
        }
        await fixture.delete(client)
    }

    @Test func zeroItemsLostOrChangedThroughInjectedFaults() async throws {
        let fixture = try await MergeFixture.make(client, prefix: "mig-faults")
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        proxy.inject(.unprocessedItems(fraction: 0.5), operation: "BatchWriteItem", probability: 0.5, seed: 11)
        proxy.inject(.httpStatus(500), operation: "BatchWriteItem", probability: 0.1, seed: 12)
        proxy.inject(.dynamoError(type: "ProvisionedThroughputExceededException"), operation: "BatchWriteItem", probability: 0.1, seed: 13)
        proxy.inject(.resetAfterForwarding, operation: "BatchWriteItem", probability: 0.05, seed: 14)
        proxy.inject(.resetBeforeForwarding, operation: "BatchWriteItem", probability: 0.05, seed: 15)
        proxy.inject(.corruptBody, operation: "Scan", probability: 0.3, seed: 16)
        proxy.inject(.httpStatus(503), operation: "Scan", probability: 0.1, seed: 17)
        proxy.inject(.dynamoError(type: "ThrottlingException"), operation: "Scan", probability: 0.1, seed: 18)
        let faulty = makeClient(endpoint: proxy.endpoint, retryPolicy: RetryPolicy(maxAttempts: 20))

        let state = TestEnvironment.temporaryDirectory("mig-faults")
        let (report, resolved) = try await migrate(fixture.yaml(), client: faulty, stateDirectory: state) {
            $0.segments = 2; $0.scanPageLimit = 30
        }
        try await expectTargetsMatchSources(resolved, client: client)
        #expect(report.itemsWritten == 240)
        #expect(report.unprocessedResent > 0, "UnprocessedItems were injected and resent")
        for kind in [FaultKind.unprocessedItems, .httpStatus, .dynamoError, .corruptBody] {
            #expect(proxy.counters.applied(kind) > 0, "fault \(kind) was exercised")
        }
        await fixture.delete(client)
    }

    @Test func itemsThatCannotBeMigratedGoToDeadLetters() async throws {
        let source = try await makeTable(client, prefix: "mig-dead")
        var items: [Item] = (0..<20).map { ["pk": .s("p\($0)"), "price": .s("\($0).5"), "blob": .s("small")] }
        items[3]["price"] = .s("12,50")
        items[7]["price"] = .s("free")
        items[11]["blob"] = .s(String(repeating: "x", count: 250_000))
        try await writeAll(client, source, items)
        let target = TestEnvironment.uniqueTableName("mig-dead-target")
        let yaml = """
            version: 1
            tables:
              - source: \(source)
                target: \(target)
                transforms:
                  - convert: { price: number }
                  - set: { copy: "{blob}" }
            """
        let state = TestEnvironment.temporaryDirectory("mig-dead")
        let (report, resolved) = try await migrate(yaml, client: client, stateDirectory: state)
        #expect(report.itemsDeadLettered == 3)
        #expect(report.itemsWritten == 17)
        try await expectTargetsMatchSources(resolved, client: client)

        let lines = try String(contentsOf: state.appendingPathComponent("dead-letters.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let byKey = Dictionary(
            uniqueKeysWithValues: lines.map { line in
                (((line["key"] as! [String: Any])["pk"] as! [String: String])["S"]!, line["reason"] as! String)
            })
        #expect(Set(byKey.keys) == ["p3", "p7", "p11"])
        #expect(byKey["p3"]!.contains("'price'"))
        #expect(byKey["p3"]!.contains("12,50"))
        #expect(byKey["p11"]!.hasPrefix("transformed item is 5000"))
        #expect(byKey["p11"]!.hasSuffix(" bytes, over DynamoDB's 400 KB item limit"))
        #expect(lines.allSatisfy { $0["source"] as? String == source && $0["item"] != nil })

        // With a limit of 1 failure the same run stops and says where the dead letters are.
        try await client.deleteTable(target)
        try await client.waitUntilDeleted(target, pollInterval: .milliseconds(50))
        do {
            _ = try await migrate(yaml, client: client, stateDirectory: TestEnvironment.temporaryDirectory("mig-dead2")) { $0.maxFailures = 1 }
            Issue.record("--max-failures 1 did not stop the run")
        } catch let error as PipelineError {
            guard case .tooManyFailures(let limit, _) = error else { Issue.record("unexpected \(error)"); return }
            #expect(limit == 1)
        }
        try? await client.deleteTable(target)
        try await client.deleteTable(source)
    }

    @Test func anExistingTargetWithAnotherKeySchemaIsRefused() async throws {
        let source = try await makeTable(client, prefix: "mig-keys")
        try await writeAll(client, source, sampleItems(5))
        let other = try await makeTable(client, prefix: "mig-keys-other")
        let target = try await makeTable(client, prefix: "mig-keys-target", sortKey: KeyAttribute(name: "sk", type: .number))
        let fresh = TestEnvironment.uniqueTableName("mig-keys-fresh")
        let yaml = """
            version: 1
            tables:
              - source: \(other)
                target: \(fresh)
              - source: \(source)
                target: \(target)
            """
        do {
            _ = try await migrate(yaml, client: client, stateDirectory: TestEnvironment.temporaryDirectory("mig-keys"))
            Issue.record("wrote into a target with a different key schema")
        } catch let error as PipelineError {
            #expect(
                error.description
                    == "target table \(target) already exists with key schema pk(S) + sk(N), but the mapping needs pk(S); refusing to write into it")
        }
        #expect(try await scanAll(client, target).isEmpty, "nothing was written")
        #expect(try await client.describeTableIfExists(fresh) == nil, "no target was created before every target was checked")
        try await client.deleteTable(other)
        try await client.deleteTable(target)
        try await client.deleteTable(source)
    }
}

@Suite(needsLocalServer)
struct StateDirectoryTests {
    let client = makeClient(endpoint: localEndpoint)

    @Test func resumeWithoutACheckpointIsRefused() async throws {
        let state = TestEnvironment.temporaryDirectory("no-checkpoint")
        let source = try await makeTable(client, prefix: "state-resume")
        let yaml = "version: 1\ntables:\n  - source: \(source)\n    target: \(source)-copy\n"
        do {
            _ = try await migrate(yaml, client: client, stateDirectory: state) { $0.resume = true }
            Issue.record("--resume started a new migration")
        } catch let error as MigratorError {
            #expect(
                error.description
                    == "--resume was given, but \(state.path) holds no migration to resume; check --state-dir, or drop --resume to start a new migration")
        }
        #expect(try await client.describeTableIfExists("\(source)-copy") == nil, "nothing was created")
        try await client.deleteTable(source)
    }

    @Test func twoRunsCannotShareAStateDirectory() async throws {
        let state = TestEnvironment.temporaryDirectory("locked")
        let held = try StateDirectoryLock(directory: state)
        let source = try await makeTable(client, prefix: "state-lock")
        let yaml = "version: 1\ntables:\n  - source: \(source)\n    target: \(source)-copy\n"
        do {
            _ = try await migrate(yaml, client: client, stateDirectory: state)
            Issue.record("a second run used a locked state directory")
        } catch let error as CheckpointError {
            #expect(
                error.description
                    == "another dynamo-migrate process is using \(state.path) (its lock is held); wait for it to finish, or use another --state-dir")
        }
        withExtendedLifetime(held) {}
        #expect(try await client.describeTableIfExists("\(source)-copy") == nil)
        try await client.deleteTable(source)
    }
}
