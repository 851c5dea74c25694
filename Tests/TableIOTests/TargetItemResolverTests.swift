import DynamoClient
import DynamoCore
import Mappings
import RunState
import TestSupport
import Testing

@testable import TableIO

/// The item a merged target must hold at one key, recomputed from the sources' current content, agrees
/// with what `verify` expects for the whole table, under each conflict policy. Against moto.
@Suite(needsLocalServer) struct TargetItemResolverTests {
    let client = makeClient(endpoint: localEndpoint)

    /// Sources `a` (key-prefix "x#") and `b` (a filter, and a `from` attribute) into one target.
    struct Fixture {
        var a: String
        var b: String
        var target: ResolvedTarget
    }

    func fixture(_ policy: ConflictPolicy) async throws -> Fixture {
        let a = try await makeTable(client, prefix: "resolver-a")
        let b = try await makeTable(client, prefix: "resolver-b")
        let yaml = """
            version: 1
            tables:
              - target: \(TestEnvironment.uniqueTableName("resolver-t"))
                conflict: \(policy.rawValue)
                sources:
                  - table: \(a)
                    key-prefix: "x#"
                  - table: \(b)
                    transforms:
                      - filter: {attribute: status, not-equals: hidden}
                      - set: {from: b}
            """
        let resolved = try MappingLoader.parse(yaml: yaml, file: "m.yaml", env: nil).resolve(existingTables: [a, b])
        let target = try #require(resolved.targets.first)
        // a's "u1" lands on "x#u1", where b's own "x#u1" collides with it.
        try await writeAll(client, a, [["pk": .s("u1"), "v": n(1)], ["pk": .s("u4"), "v": n(4)]])
        try await writeAll(
            client, b,
            [
                ["pk": .s("x#u1"), "v": n(2)], ["pk": .s("x#u2"), "v": n(3)], ["pk": .s("x#u3"), "status": .s("hidden")],
                ["pk": .s("u1"), "v": n(9)],
            ])
        return Fixture(a: a, b: b, target: target)
    }

    func cleanUp(_ f: Fixture) async throws {
        for table in [f.a, f.b, f.target.name] { _ = try? await client.deleteTable(table) }
    }

    func n(_ value: Int) -> AttributeValue { .n(DynamoNumber(value)) }

    @Test func keepExistingKeepsTheEarlierSourceUntilItDeletesTheKey() async throws {
        let f = try await fixture(.keepExisting)
        let resolver = try await TargetItemResolver.make(client: client, target: f.target)
        #expect(try await resolver.expectedItem(forTargetKey: ["pk": .s("x#u1")]) == ["pk": .s("x#u1"), "v": n(1)])
        #expect(try await resolver.expectedItem(forTargetKey: ["pk": .s("x#u2")]) == ["pk": .s("x#u2"), "v": n(3), "from": .s("b")])
        #expect(try await resolver.expectedItem(forTargetKey: ["pk": .s("x#u3")]) == nil, "filtered out")
        #expect(try await resolver.expectedItem(forTargetKey: ["pk": .s("x#nobody")]) == nil)
        // "u1" has no "x#": a cannot produce it, only b's own "u1".
        #expect(try await resolver.expectedItem(forTargetKey: ["pk": .s("u1")]) == ["pk": .s("u1"), "v": n(9), "from": .s("b")])
        // A later source's change never overwrites the earlier source's item...
        try await client.putItem(table: f.b, item: ["pk": .s("x#u1"), "v": n(20)])
        #expect(try await resolver.expectedItem(forTargetKey: ["pk": .s("x#u1")]) == ["pk": .s("x#u1"), "v": n(1)])
        // ...and when the earlier source deletes the key, the later source's item takes its place.
        try await client.deleteItem(table: f.a, key: ["pk": .s("u1")])
        let resolution = try await resolver.resolve(targetKey: ["pk": .s("x#u1")])
        #expect(resolution.item == ["pk": .s("x#u1"), "v": n(20), "from": .s("b")])
        #expect(resolution.from == f.b)
        #expect(resolution.contributions.map(\.contribution) == [.noItem, .item(["pk": .s("x#u1"), "v": n(20), "from": .s("b")])])
        // An item moving out of b's filter leaves nothing behind.
        try await client.putItem(table: f.b, item: ["pk": .s("x#u1"), "status": .s("hidden")])
        #expect(try await resolver.resolve(targetKey: ["pk": .s("x#u1")]).contributions.map(\.contribution) == [.noItem, .filtered])
        #expect(try await resolver.expectedItem(forTargetKey: ["pk": .s("x#u1")]) == nil)
        try await expectResolverAgreesWithVerify(f, resolver)
        try await cleanUp(f)
    }

    @Test func overwriteTakesTheLastSourceThatHasTheKey() async throws {
        let f = try await fixture(.overwrite)
        let resolver = try await TargetItemResolver.make(client: client, target: f.target)
        #expect(try await resolver.expectedItem(forTargetKey: ["pk": .s("x#u1")]) == ["pk": .s("x#u1"), "v": n(2), "from": .s("b")])
        try await client.deleteItem(table: f.b, key: ["pk": .s("x#u1")])
        #expect(try await resolver.expectedItem(forTargetKey: ["pk": .s("x#u1")]) == ["pk": .s("x#u1"), "v": n(1)])
        // b's item stops passing its filter: a's shows through again.
        try await client.putItem(table: f.b, item: ["pk": .s("x#u4"), "status": .s("hidden")])
        #expect(try await resolver.expectedItem(forTargetKey: ["pk": .s("x#u4")]) == ["pk": .s("x#u4"), "v": n(4)])
        try await expectResolverAgreesWithVerify(f, resolver)
        try await cleanUp(f)
    }

    @Test func failReportsTwoSourcesWithDifferentItemsAndAcceptsIdenticalOnes() async throws {
        let f = try await fixture(.fail)
        let resolver = try await TargetItemResolver.make(client: client, target: f.target)
        await #expect(
            throws: TargetItemConflict(target: f.target.name, key: "pk={\"S\":\"x#u1\"}", sources: [f.a, f.b])
        ) {
            try await resolver.expectedItem(forTargetKey: ["pk": .s("x#u1")])
        }
        // The same content from both is not a conflict.
        try await client.putItem(table: f.a, item: ["pk": .s("u1"), "v": n(2), "from": .s("b")])
        #expect(try await resolver.expectedItem(forTargetKey: ["pk": .s("x#u1")]) == ["pk": .s("x#u1"), "v": n(2), "from": .s("b")])
        try await expectResolverAgreesWithVerify(f, resolver)
        try await cleanUp(f)
    }

    @Test func aMappingWhoseTargetKeyCannotBeTracedBackIsRefused() async throws {
        let a = try await makeTable(client, prefix: "resolver-lim")
        let yaml = """
            version: 1
            tables:
              - source: \(a)
                target: \(a)-t
                transforms:
                  - set: {pk: "{email}"}
            """
        let target = try #require(try MappingLoader.parse(yaml: yaml, file: "m.yaml", env: nil).resolve(existingTables: [a]).targets.first)
        await #expect(throws: FollowLimitation.self) { try await TargetItemResolver.make(client: client, target: target) }
        try await client.deleteTable(a)
    }

    /// Writes, key by key, what the resolver says into a fresh target, then `verify`'s expectation must
    /// MATCH it: the resolver and verify fold the sources the same way.
    func expectResolverAgreesWithVerify(_ f: Fixture, _ resolver: TargetItemResolver) async throws {
        _ = try? await client.deleteTable(f.target.name)
        try await client.createTable(CreateTableInput(name: f.target.name, keySchema: resolver.targetKeySchema))
        try await client.waitUntilActive(f.target.name, pollInterval: .milliseconds(50))
        var keys: [Item] = []
        for table in [f.a, f.b] {
            for item in try await scanAll(client, table) {
                keys.append(try #require(resolver.targetKey(forSourceKey: ["pk": item["pk"]!], sourceTable: table)))
            }
        }
        for key in Set(keys) {
            if let item = try await resolver.expectedItem(forTargetKey: key) { try await client.putItem(table: f.target.name, item: item) }
        }
        let verification = try await TargetExpectation(checksummer: Checksummer(client: client)).verify(f.target)
        #expect(verification.status == .match, "\(verification.reason)")
    }
}

/// One resolve-and-write per target key at a time; other keys are not held up.
struct TargetKeySerializerTests {
    actor Log {
        var events: [String] = []
        func add(_ e: String) { events.append(e) }
    }

    @Test func bodiesForOneKeyRunOneAfterAnotherInArrivalOrder() async throws {
        let serializer = TargetKeySerializer()
        let log = Log()
        let (gate, open) = AsyncStream<Void>.makeStream()
        // The first body holds key k until the gate opens; the second must wait for it, the one for key j must not.
        let first = Task {
            try await serializer.run(key: ["pk": .s("k")]) {
                await log.add("k1 start")
                for await _ in gate { break }
                await log.add("k1 end")
            }
        }
        while await log.events.isEmpty { await Task.yield() }
        let second = Task { try await serializer.run(key: ["pk": .s("k")]) { await log.add("k2") } }
        while await serializer.waiting(for: ["pk": .s("k")]) == 0 { await Task.yield() }
        try await serializer.run(key: ["pk": .s("j")]) { await log.add("j") }
        open.yield()
        try await first.value
        try await second.value
        #expect(await log.events == ["k1 start", "j", "k1 end", "k2"])
    }
}
