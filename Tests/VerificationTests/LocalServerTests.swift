import AWSAuth
import DynamoClient
import DynamoCore
import Foundation
import Mappings
import Pipeline
import RunState
import TableIO
import TestSupport
import Testing

@testable import Verification

func localChecksum(_ items: [Item], _ schema: KeySchema) -> TableChecksum {
    var hasher = ItemHasher(keySchema: schema)
    var checksum = TableChecksum()
    for item in items { checksum.add(hasher.digest(item)!) }
    return checksum
}

func resolve(_ yaml: String, _ client: DynamoDBClient) async throws -> ResolvedMapping {
    let document = try MappingLoader.parse(yaml: yaml, file: "test.yaml", env: nil)
    return try document.resolve(existingTables: try await client.listTables())
}

func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("verify-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

let pkSk = KeySchema(partitionKey: KeyAttribute(name: "pk", type: .string), sortKey: KeyAttribute(name: "sk", type: .number))

/// Items with every type; numbers in canonical spelling.
func copyItems(_ count: Int) -> [Item] {
    (0..<count).map { i in
        [
            "pk": .s("item-\(i)"), "sk": .n(DynamoNumber(i % 4)),
            "s": .s("héllo \(i) 😀"), "n": .n(DynamoNumber(unchecked: "\(i).5")), "b": .b([UInt8(i % 256), 0]),
            "flag": .bool(i % 2 == 0), "nothing": .null,
            "m": .m(["inner": .s("x\(i)"), "deep": .m(["n": .n(DynamoNumber(unchecked: "1.25"))])]),
            "l": .l([.s("a"), .n(DynamoNumber(i)), .bool(true)]),
            "ss": .ss(["a\(i)", "b", "c"]), "ns": .ns([DynamoNumber(1), DynamoNumber(i + 2)]),
            "bs": .bs([[1, 2], [3, UInt8(i % 200) + 4]]),
        ]
    }
}

/// The same items as DynamoDB sees them, written differently: non-key numbers respelled, sets reversed.
func respelled(_ item: Item) -> Item {
    var copy = item
    if case .n(let number)? = item["n"] { copy["n"] = .n(DynamoNumber(unchecked: number.canonical + "0")) }
    if case .ss(let members)? = item["ss"] { copy["ss"] = .ss(members.reversed()) }
    if case .ns(let members)? = item["ns"] {
        copy["ns"] = .ns(members.reversed().map { DynamoNumber(unchecked: $0.canonical + "E0") })
    }
    if case .bs(let members)? = item["bs"] { copy["bs"] = .bs(members.reversed()) }
    return copy
}

@Suite(needsLocalServer) struct LocalServerTests {
    @Test func copyVerifyTamperAndDiff() async throws {
        let client = makeClient(endpoint: localEndpoint)
        let source = try await makeTable(client, prefix: "verify-src", sortKey: KeyAttribute(name: "sk", type: .number))
        let target = try await makeTable(client, prefix: "verify-dst", sortKey: KeyAttribute(name: "sk", type: .number))
        let items = copyItems(200)
        try await writeAll(client, source, items)
        try await writeAll(client, target, items.map(respelled))

        // The same content, however it is spelled, segmented or scanned.
        let expected = localChecksum(items, pkSk)
        #expect(try await Checksummer(client: client, segments: 1).checksum(table: source) == expected)
        #expect(try await Checksummer(client: client, segments: 3).checksum(table: source) == expected)
        #expect(try await Checksummer(client: client, segments: 4, pageLimit: 17).checksum(table: target) == expected)
        #expect(expected.itemCount == 200)

        let mapping = try await resolve(
            """
            version: 1
            tables:
              - source: \(source)
                target: \(target)
            """, client)
        let verifier = MappingVerifier(checksummer: Checksummer(client: client, segments: 2), mapping: mapping)
        let before = try await verifier.verify(mappingPath: "test.yaml", env: nil)
        #expect(before.matched)
        #expect(before.targets.map(\.status) == [.match])
        #expect(before.targets[0].expected == expected)
        #expect(before.targets[0].actual == expected)
        #expect(before.targets[0].differingBuckets == [])
        #expect(
            before.targets[0].sources == [
                SourceVerification(
                    table: source,
                    exclusions: {
                        // An identity mapping: the source's own hash is the expected target hash.
                        var e = ExclusionCounts(); e.itemsRead = 200; e.sourceHash = expected.hash; return e
                    }())
            ])

        // One item changed, one deleted, one added in the target.
        var tampered = items[3]
        tampered["s"] = .s("héllo 3 😀!")
        try await client.putItem(table: target, item: tampered)
        let deletedKey: Item = ["pk": .s("item-7"), "sk": .n(DynamoNumber(3))]
        try await client.deleteItem(table: target, key: deletedKey)
        let extra: Item = ["pk": .s("extra-1"), "sk": .n(DynamoNumber(0)), "s": .s("new")]
        try await client.putItem(table: target, item: extra)

        let after = try await verifier.verify(mappingPath: "test.yaml", env: nil)
        #expect(!after.matched)
        let result = after.targets[0]
        #expect(result.status == .mismatch)
        #expect(result.expected == expected)
        #expect(result.actual.itemCount == 200)
        let changedKey: Item = ["pk": .s("item-3"), "sk": .n(DynamoNumber(3))]
        let touched = Set(
            [changedKey, deletedKey, ["pk": .s("extra-1"), "sk": .n(DynamoNumber(0))]].map {
                TableChecksum.bucketName(Int(ItemHasher.bucket(ofKey: $0)))
            })
        #expect(Set(result.differingBuckets) == touched)
        #expect(
            result.reason
                == "expected 200 items (\(expected.canonicalBytes) canonical bytes), the target holds 200 (\(result.actual.canonicalBytes)); \(touched.count) of 256 buckets differ"
        )

        // The record survives a round trip through verification.json.
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try after.write(to: directory)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let read = try decoder.decode(
            VerificationRecord.self,
            from: Data(contentsOf: directory.appendingPathComponent("verification.json")))
        #expect(read.matched == false)
        #expect(read.targets.map(\.expected) == [expected])
        #expect(read.targets.map(\.actual) == [result.actual])
        #expect(read.format == "dmc1")

        // Diff names exactly the three keys, with and without the mapping.
        for transform in [nil, mapping.targets[0].sources[0]] {
            let diff = try await TableDiffer(checksummer: Checksummer(client: client, segments: 2))
                .diff(source: source, target: target, transform: transform)
            #expect(diff.missing == [deletedKey])
            #expect(diff.extra == [["pk": .s("extra-1"), "sk": .n(DynamoNumber(0))]])
            #expect(diff.changed == [ChangedItem(key: changedKey, attributes: ["s"])])
            #expect(diff.differingBuckets.map(TableChecksum.bucketName) == touched.sorted())
            #expect(diff.expected == expected.totals)
            #expect(!diff.isIdentical)
        }
        // A table against itself.
        let same = try await TableDiffer(checksummer: Checksummer(client: client)).diff(source: source, target: source)
        #expect(same.isIdentical)
        #expect(same.expected == expected.totals)

        try await client.deleteTable(source)
        try await client.deleteTable(target)
    }

    /// Source A: k-0...k-59. Source B: k-40...k-99; every tenth inactive (filtered), k-77 has an amount
    /// that is not a number (its transform fails).
    func mergeSources(_ client: DynamoDBClient) async throws -> (a: String, b: String) {
        let a = try await makeTable(client, prefix: "verify-a")
        let b = try await makeTable(client, prefix: "verify-b")
        try await writeAll(
            client, a,
            (0..<60).map { i in
                ["pk": .s("k-\(i)"), "status": .s("active"), "amount": .n(DynamoNumber(i)), "name": .s("a-\(i)")]
            })
        try await writeAll(
            client, b,
            (40..<100).map { i in
                [
                    "pk": .s("k-\(i)"), "status": .s(i % 10 == 0 ? "inactive" : "active"),
                    "amount": .s(i == 77 ? "abc" : "\(i).50"), "name": .s("b-\(i)"),
                ]
            })
        return (a, b)
    }

    func mergeYAML(target: String, a: String, b: String, conflict: String) -> String {
        """
        version: 1
        tables:
          - target: \(target)
            conflict: \(conflict)
            sources:
              - table: \(a)
                transforms:
                  - set: { origin: "{source}" }
              - table: \(b)
                transforms:
                  - filter: { attribute: status, equals: active }
                  - convert: { amount: number }
                  - set: { origin: "{source}" }
        """
    }

    /// What the merged target should hold, built by hand: A's items, and B's where `bWins` says so.
    func expectedMerge(a: String, b: String, bWinsOverlap: Bool) -> [Item] {
        var merged: [String: Item] = [:]
        for i in 0..<60 {
            merged["k-\(i)"] = [
                "pk": .s("k-\(i)"), "status": .s("active"), "amount": .n(DynamoNumber(i)),
                "name": .s("a-\(i)"), "origin": .s(a),
            ]
        }
        for i in 40..<100 where i % 10 != 0 && i != 77 {
            if i < 60 && !bWinsOverlap { continue }
            merged["k-\(i)"] = [
                "pk": .s("k-\(i)"), "status": .s("active"), "amount": .n(DynamoNumber(unchecked: "\(i).5")),
                "name": .s("b-\(i)"), "origin": .s(b),
            ]
        }
        return Array(merged.values)
    }

    @Test func manyToOneAfterTheMigrator() async throws {
        let client = makeClient(endpoint: localEndpoint)
        let (a, b) = try await mergeSources(client)
        let target = TestEnvironment.uniqueTableName("verify-merged")
        let mapping = try await resolve(mergeYAML(target: target, a: a, b: b, conflict: "overwrite"), client)
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var options = MigrationOptions(stateDirectory: directory, planFingerprint: "verify-test")
        options.segments = 2
        let report = try await Migrator(client: client, mapping: mapping, options: options).run()
        #expect(report.itemsDeadLettered == 1)
        #expect(report.itemsFiltered == 6)

        let verifier = MappingVerifier(checksummer: Checksummer(client: client, segments: 3), mapping: mapping)
        let record = try await verifier.verify(mappingPath: "merge.yaml", env: nil)
        let result = try #require(record.targets.first)
        let expected = localChecksum(expectedMerge(a: a, b: b, bWinsOverlap: true), Vectors.pkOnly)
        #expect(record.matched)
        #expect(result.status == .match)
        #expect(result.expected == expected)
        #expect(result.actual == expected)
        #expect(expected.itemCount == 95)
        #expect(result.duplicateKeys == 18)
        #expect(result.conflictCount == 0)
        #expect(result.sources.map(\.table) == [a, b])
        #expect(result.sources.map(\.exclusions.itemsRead) == [60, 60])
        #expect(result.sources.map(\.exclusions.itemsFiltered) == [0, 6])
        #expect(result.sources.map(\.exclusions.itemsFailed) == [0, 1])
        #expect(result.sources[1].exclusions.failureSamples.count == 1)
        #expect(result.sources[1].exclusions.failureSamples[0].hasPrefix("pk={\"S\":\"k-77\"}: "))

        // Tampering with one merged item breaks the match, in that item's bucket only.
        try await client.putItem(
            table: target,
            item: [
                "pk": .s("k-45"), "status": .s("active"),
                "amount": .n(DynamoNumber(unchecked: "45.5")), "name": .s("b-45"),
                "origin": .s(a),
            ])
        let tampered = try await verifier.verify(mappingPath: "merge.yaml", env: nil)
        #expect(!tampered.matched)
        #expect(tampered.targets[0].status == .mismatch)
        #expect(tampered.targets[0].differingBuckets == [TableChecksum.bucketName(Int(ItemHasher.bucket(ofKey: ["pk": .s("k-45")])))])
        #expect(tampered.targets[0].actual.itemCount == 95)

        // Diff of source B through its transforms: its item k-45 changed; A's 42 own keys are extra.
        let diff = try await TableDiffer(checksummer: Checksummer(client: client))
            .diff(source: b, target: target, transform: mapping.targets[0].sources[1])
        #expect(diff.missing == [])
        #expect(diff.changed == [ChangedItem(key: ["pk": .s("k-45")], attributes: ["origin"])])
        #expect(diff.extra.count == 42)
        #expect(diff.exclusions.itemsFiltered == 6)
        #expect(diff.exclusions.itemsFailed == 1)

        for table in [a, b, target] { try await client.deleteTable(table) }
    }

    @Test func mergePoliciesWithoutMigrating() async throws {
        let client = makeClient(endpoint: localEndpoint)
        let (a, b) = try await mergeSources(client)
        let target = TestEnvironment.uniqueTableName("verify-absent")

        // keep-existing: A's items win the 18 overlapping keys. The target does not exist: a mismatch.
        let keep = try await resolve(mergeYAML(target: target, a: a, b: b, conflict: "keep-existing"), client)
        let kept = try await MappingVerifier(checksummer: Checksummer(client: client), mapping: keep)
            .verify(mappingPath: "m.yaml", env: nil)
        #expect(kept.targets[0].expected == localChecksum(expectedMerge(a: a, b: b, bWinsOverlap: false), Vectors.pkOnly))
        #expect(kept.targets[0].status == .mismatch)
        #expect(kept.targets[0].targetExists == false)
        #expect(kept.targets[0].actual == TableChecksum())
        #expect(kept.targets[0].reason == "target table \(target) does not exist")
        #expect(kept.targets[0].keySchema == "pk(S)")

        // fail: the 18 overlapping keys differ (name, amount, origin), so all are conflicts.
        let failing = try await resolve(mergeYAML(target: target, a: a, b: b, conflict: "fail"), client)
        var verifier = MappingVerifier(checksummer: Checksummer(client: client), mapping: failing)
        verifier.maxListedConflicts = 3
        let failed = try await verifier.verify(mappingPath: "m.yaml", env: nil)
        #expect(failed.targets[0].conflictCount == 18)
        #expect(failed.targets[0].conflicts.count == 3)
        #expect(failed.targets[0].status == .mismatch)
        #expect(failed.matched == false)

        for table in [a, b] { try await client.deleteTable(table) }
    }

    /// The writer and `verify` merge through the same rule: a many-to-one target migrated under each
    /// policy verifies MATCH, and under `fail` both stop at the same keys.
    @Test func writerAndVerifyAgreeUnderEachPolicy() async throws {
        let client = makeClient(endpoint: localEndpoint)
        // a: k-0..<30. b: k-20..<50, where k-20..<25 are identical to a's and k-25..<30 differ.
        // c: k-20..<40, where every shared key (k-20..<30) is identical to a's.
        let a = try await makeTable(client, prefix: "agree-a")
        let b = try await makeTable(client, prefix: "agree-b")
        let c = try await makeTable(client, prefix: "agree-c")
        try await writeAll(client, a, (0..<30).map { ["pk": .s("k-\($0)"), "v": .s("a-\($0)")] })
        try await writeAll(client, b, (20..<50).map { ["pk": .s("k-\($0)"), "v": .s($0 < 25 ? "a-\($0)" : "b-\($0)")] })
        try await writeAll(client, c, (20..<40).map { ["pk": .s("k-\($0)"), "v": .s($0 < 30 ? "a-\($0)" : "c-\($0)")] })
        func yaml(_ target: String, _ policy: ConflictPolicy, _ second: String) -> String {
            """
            version: 1
            tables:
              - target: \(target)
                conflict: \(policy)
                sources:
                  - table: \(a)
                  - table: \(second)
            """
        }
        func migrateAndVerify(_ policy: ConflictPolicy, _ second: String) async throws -> (Error?, TargetVerification, String) {
            let target = TestEnvironment.uniqueTableName("agree-\(policy)")
            let mapping = try await resolve(yaml(target, policy, second), client)
            let directory = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            var thrown: Error?
            do {
                _ = try await Migrator(
                    client: client, mapping: mapping,
                    options: MigrationOptions(stateDirectory: directory, planFingerprint: "agree")
                ).run()
            } catch { thrown = error }
            let record = try await MappingVerifier(checksummer: Checksummer(client: client), mapping: mapping)
                .verify(mappingPath: "m.yaml", env: nil)
            return (thrown, record.targets[0], target)
        }

        for (policy, winner) in [(ConflictPolicy.overwrite, "b-27"), (.keepExisting, "a-27")] {
            let (error, result, target) = try await migrateAndVerify(policy, b)
            #expect(error == nil, "\(policy)")
            #expect(result.status == .match, "\(policy): \(result.reason)")
            #expect(result.conflictPolicy == policy)
            #expect(result.duplicateKeys == 10)
            #expect(result.actual.itemCount == 50)
            #expect(try await client.getItem(table: target, key: ["pk": .s("k-27")])?["v"] == .s(winner))
            try await client.deleteTable(target)
        }

        // fail with identical shared keys: no conflict for either.
        let (identicalError, identical, identicalTarget) = try await migrateAndVerify(.fail, c)
        #expect(identicalError == nil)
        #expect(identical.status == .match, "\(identical.reason)")
        #expect(identical.conflictCount == 0)
        #expect(identical.actual.itemCount == 40)
        try await client.deleteTable(identicalTarget)

        // fail with five differing shared keys: the writer stops at one of them, verify counts exactly them.
        let (conflictError, conflicting, conflictTarget) = try await migrateAndVerify(.fail, b)
        let stopped = try #require(conflictError as? PipelineError)
        guard case .conflict(_, let key, let source) = stopped else { Issue.record("\(stopped)"); return }
        #expect(source == "\(conflictTarget)/\(b)")
        #expect(conflicting.conflictCount == 5)
        #expect(conflicting.conflicts == (25..<30).map { #"pk={"S":"k-\#($0)"}"# })
        #expect(conflicting.conflicts.contains(key), "writer stopped at \(key)")
        #expect(conflicting.status == .mismatch)
        try await client.deleteTable(conflictTarget)

        for table in [a, b, c] { try await client.deleteTable(table) }
    }
}
