// Two records of two sources touching one target key: their resolutions are written in the order they
// were made, so the later source state wins even when the earlier resolution is slow to write.
import DynamoClient
import DynamoCore
import Follow
import Mappings
import Synchronization
import TestSupport
import Testing

@testable import TableIO

@Suite(needsLocalServer) struct ResolverApplyTests {
    /// The resolver, with its first resolution held back (after reading, before the applier writes it)
    /// until the test opens the gate.
    final class HeldResolver: TargetItemSource {
        let resolver: TargetItemResolver
        let calls = Mutex(0)
        let resolvedFirst: AsyncStream<Void>.Continuation
        let gate: AsyncStream<Void>

        init(_ resolver: TargetItemResolver, resolvedFirst: AsyncStream<Void>.Continuation, gate: AsyncStream<Void>) {
            self.resolver = resolver; self.resolvedFirst = resolvedFirst; self.gate = gate
        }

        func expectedItem(forTargetKey targetKey: Item) async throws -> Item? {
            let call = calls.withLock {
                $0 += 1; return $0
            }
            let item = try await resolver.expectedItem(forTargetKey: targetKey)
            if call == 1 {
                resolvedFirst.yield()
                for await _ in gate { break }
            }
            return item
        }

        func exclusively<T: Sendable>(forTargetKey targetKey: Item, _ body: @Sendable () async throws -> T) async throws -> T {
            try await resolver.exclusively(forTargetKey: targetKey, body)
        }
    }

    final class Flag: Sendable {
        let value = Mutex(false)
        func set() { value.withLock { $0 = true } }
        var isSet: Bool { value.withLock { $0 } }
    }

    @Test func aSlowResolutionIsWrittenBeforeALaterOneOfTheSameKey() async throws {
        let client = makeClient(endpoint: localEndpoint)
        let a = try await makeTable(client, prefix: "held-a"), b = try await makeTable(client, prefix: "held-b")
        let target = try await makeTable(client, prefix: "held-t")
        let yaml = """
            version: 1
            tables:
              - target: \(target)
                conflict: keep-existing
                sources:
                  - table: \(a)
                  - table: \(b)
            """
        let resolved = try #require(try MappingLoader.parse(yaml: yaml, file: "m.yaml", env: nil).resolve(existingTables: [a, b, target]).targets.first)
        let resolver = try await TargetItemResolver.make(client: client, target: resolved)
        let (resolvedFirst, resolvedFirstSignal) = AsyncStream<Void>.makeStream()
        let (gate, openGate) = AsyncStream<Void>.makeStream()
        let held = HeldResolver(resolver, resolvedFirst: resolvedFirstSignal, gate: gate)
        let key = KeySchema(partitionKey: KeyAttribute(name: "pk", type: .string))
        func applier(_ source: ResolvedSource) -> RecordApplier {
            RecordApplier(
                client: client, source: source.table, target: target, transform: source.itemTransform(targetKey: key.spec), targetKey: key,
                resolver: held)
        }

        // a holds k; b's insert of k is resolved (a's item wins) and held before its write.
        let aItem: Item = ["pk": .s("k"), "from": .s("a")]
        let bItem: Item = ["pk": .s("k"), "from": .s("b")]
        try await client.putItem(table: a, item: aItem)
        try await client.putItem(table: b, item: bItem)
        let first = Task {
            try await applier(resolved.sources[1]).apply(StreamRecord(eventName: .insert, keys: ["pk": .s("k")], newImage: bItem, sequenceNumber: "1"))
        }
        for await _ in resolvedFirst { break }
        // Then a deletes k: b's item must end in the target. The second record waits for the first write.
        try await client.deleteItem(table: a, key: ["pk": .s("k")])
        let secondDone = Flag()
        let second = Task {
            defer { secondDone.set() }
            return try await applier(resolved.sources[0]).apply(
                StreamRecord(eventName: .remove, keys: ["pk": .s("k")], oldImage: aItem, sequenceNumber: "2"))
        }
        // (Were the second not held back, it would finish here, and the first would then write a stale item.)
        while await resolver.serializer.waiting(for: ["pk": .s("k")]) == 0, !secondDone.isSet { await Task.yield() }
        openGate.yield()
        _ = try await first.value
        _ = try await second.value
        #expect(try await client.getItem(table: target, key: ["pk": .s("k")]) == bItem)
        for table in [a, b, target] { try await client.deleteTable(table) }
    }
}
