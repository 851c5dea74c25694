import DynamoClient
import DynamoCore
import Foundation
import Mappings
import Pipeline
import RunState
import TableIO
import TestSupport
import Testing

/// Merges (keep-existing, fail) written with batches where that is exact, and with conditional puts
/// where it is not: the targets hold exactly what the policy says, whatever path wrote them.
@Suite(needsLocalServer)
struct MergeSpeedTests {
    let client = makeClient(endpoint: localEndpoint)

    /// Three tables keyed by `pk` of `count` items each, each overlapping the one before by half:
    /// k000..k119, k060..k179, k120..k239 by default.
    func threeSources(_ prefix: String, count: Int = 120, sameContent: Bool = false) async throws -> [String] {
        var tables: [String] = []
        for n in 0..<3 {
            let first = n * count / 2
            let table = try await makeTable(client, prefix: "\(prefix)-\(n)")
            let items: [Item] = (first..<(first + count)).map { i in
                ["pk": .s(String(format: "k%03d", i)), "from": .s(sameContent ? "any" : "source \(n)"), "n": .n(DynamoNumber(i))]
            }
            try await writeAll(client, table, items)
            tables.append(table)
        }
        return tables
    }

    func yaml(target: String, sources: [String], conflict: String) -> String {
        """
        version: 1
        tables:
          - target: \(target)
            conflict: \(conflict)
            sources:
        \(sources.map { "      - table: \($0)" }.joined(separator: "\n"))
        """
    }

    @Test func threeSourceKeepExistingMergeIsExactWithoutOnePutItem() async throws {
        let sources = try await threeSources("merge-keep")
        let target = TestEnvironment.uniqueTableName("merge-keep-target")
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        let viaProxy = makeClient(endpoint: proxy.endpoint)
        let (report, resolved) = try await migrate(
            yaml(target: target, sources: sources, conflict: "keep-existing"), client: viaProxy,
            stateDirectory: TestEnvironment.temporaryDirectory("merge-keep")
        ) { $0.scanPageLimit = 25 }

        try await expectTargetsMatchSources(resolved, client: client)
        #expect(report.itemsWritten == 240)
        #expect(report.itemsKeptExisting == 120, "60 keys of the second source and 60 of the third were there")
        let item = try #require(try await client.getItem(table: target, key: ["pk": .s("k100")]))
        #expect(item["from"] == .s("source 0"))
        let operations = proxy.log.compactMap(\.operation)
        #expect(!operations.contains("PutItem"), "the created target is written with batches")
        #expect(operations.contains("BatchGetItem"), "the later sources are probed")
        for table in sources + [target] { try? await client.deleteTable(table) }
    }

    @Test func threeSourceFailMergeSkipsIdenticalItemsAndStopsAtADifferentOne() async throws {
        let same = try await threeSources("merge-same", sameContent: true)
        // `n` is the same for a key in every table and `from` is "any": the overlaps are identical.
        let target = TestEnvironment.uniqueTableName("merge-same-target")
        let (report, resolved) = try await migrate(
            yaml(target: target, sources: same, conflict: "fail"), client: client,
            stateDirectory: TestEnvironment.temporaryDirectory("merge-same"))
        try await expectTargetsMatchSources(resolved, client: client)
        #expect(report.itemsKeptExisting == 120)

        // One overlapping item of the third source differs: the run stops at it, naming it.
        try await client.putItem(table: same[2], item: ["pk": .s("k150"), "from": .s("changed"), "n": .n(DynamoNumber(150))])
        let other = TestEnvironment.uniqueTableName("merge-differs-target")
        do {
            _ = try await migrate(
                yaml(target: other, sources: same, conflict: "fail"), client: client,
                stateDirectory: TestEnvironment.temporaryDirectory("merge-differs"))
            Issue.record("a different item under one key was not a conflict")
        } catch PipelineError.conflict(let table, let key, let source) {
            #expect(table == other)
            #expect(key == "pk={\"S\":\"k150\"}")
            #expect(source.hasSuffix("/\(same[2])"))
        }
        for table in same + [target, other] { try? await client.deleteTable(table) }
    }

    /// A run that fails in the second source (its first probe is refused) resumes exactly: the target
    /// is still ours (recorded in the checkpoint), the first source is done, the second continues
    /// from its checkpoint with probed batches.
    @Test(arguments: ["keep-existing", "fail"])
    func aMergeStoppedInALaterSourceResumesExactly(conflict: String) async throws {
        let sources = try await threeSources("merge-resume", count: 60, sameContent: conflict == "fail")
        let target = TestEnvironment.uniqueTableName("merge-resume-target")
        let state = TestEnvironment.temporaryDirectory("merge-resume")
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        proxy.inject(.dynamoError(type: "ValidationException"), operation: "BatchGetItem", times: 1)
        do {
            _ = try await migrate(
                yaml(target: target, sources: sources, conflict: conflict), client: makeClient(endpoint: proxy.endpoint),
                stateDirectory: state
            ) { $0.scanPageLimit = 10 }
            Issue.record("the refused BatchGetItem did not stop the run")
        } catch PipelineError.client {}
        // The same endpoint (a checkpoint is bound to it), with the fault gone.
        proxy.clearFaults()
        let (report, resolved) = try await migrate(
            yaml(target: target, sources: sources, conflict: conflict), client: makeClient(endpoint: proxy.endpoint), stateDirectory: state
        ) {
            $0.resume = true
            $0.scanPageLimit = 10
        }
        #expect(report.sources.filter { !$0.complete }.isEmpty)
        try await expectTargetsMatchSources(resolved, client: client)
        for table in sources + [target] { try? await client.deleteTable(table) }
    }

    /// A transform that may give two items of one source the same key is written with conditional
    /// puts even into a created table: a batch would let the second replace the first.
    @Test func keysThatMayMeetWithinOneSourceAreWrittenConditionally() async throws {
        let source = try await makeTable(client, prefix: "merge-group")
        try await writeAll(client, source, [
            ["pk": .s("a"), "group": .s("g1"), "v": .n(DynamoNumber(1))],
            ["pk": .s("b"), "group": .s("g1"), "v": .n(DynamoNumber(2))],
        ])
        let target = TestEnvironment.uniqueTableName("merge-group-target")
        let yaml = """
            version: 1
            tables:
              - source: \(source)
                target: \(target)
                conflict: fail
                settings:
                  key: { partition: { name: group, type: S } }
            """
        do {
            _ = try await migrate(yaml, client: client, stateDirectory: TestEnvironment.temporaryDirectory("merge-group"))
            Issue.record("two different items under one target key were not a conflict")
        } catch PipelineError.conflict(_, let key, _) {
            #expect(key == "group={\"S\":\"g1\"}")
        }
        for table in [source, target] { try? await client.deleteTable(table) }
    }

    /// A target that existed before the run may have other writers: every item goes through a
    /// conditional put, so an item another writer puts while the merge runs is never replaced,
    /// whether it lands before or after the migration's write of that key.
    @Test func concurrentWritesToAnExistingTargetKeepKeepExistingExact() async throws {
        let sources = try await threeSources("merge-live", count: 40)
        let target = try await makeTable(client, prefix: "merge-live-target")
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        let viaProxy = makeClient(endpoint: proxy.endpoint)
        // Every fifth key of the whole range, written by "the application" while the merge runs.
        let live: [Item] = stride(from: 0, to: 80, by: 5).map { ["pk": .s(String(format: "k%03d", $0)), "from": .s("application")] }
        let resolvedMapping = try await resolve(yaml(target: target, sources: sources, conflict: "keep-existing"), client: client)
        var options = MigrationOptions(stateDirectory: TestEnvironment.temporaryDirectory("merge-live"), planFingerprint: "test")
        options.writersPerTarget = 2
        options.scanPageLimit = 5
        let migrator = Migrator(client: viaProxy, mapping: resolvedMapping, options: options)
        async let report = migrator.run()
        for item in live { try await client.putItem(table: target, item: item) }
        _ = try await report

        var expected: [Item: Item] = [:]
        for n in 0..<3 {
            for i in (n * 20)..<(n * 20 + 40) {
                let key: Item = ["pk": .s(String(format: "k%03d", i))]
                if expected[key] == nil { expected[key] = key.merging(["from": .s("source \(n)"), "n": .n(DynamoNumber(i))]) { a, _ in a } }
            }
        }
        for item in live { expected[["pk": item["pk"]!]] = item }
        #expect(try await actualItems(target, client: client) == expected)
        let operations = proxy.log.compactMap(\.operation)
        #expect(operations.contains("PutItem") && !operations.contains("BatchWriteItem"), "conditional puts only")
        for table in sources + [target] { try? await client.deleteTable(table) }
    }
}
