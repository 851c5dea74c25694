import DynamoClient
import DynamoCore
import Foundation
import TestSupport
import Testing

/// A one-to-one copy passes items as the bytes the Scan page carried: on the bench server (which
/// answers items as the bytes it was sent) the target's items are byte for byte the source's.
struct RawCopyTests {
    func rawItems(_ client: DynamoDBClient, _ table: String) async throws -> [[UInt8]] {
        var result: [[UInt8]] = []
        var start: Item?
        repeat {
            let page = try await client.scan(ScanInput(table: table, exclusiveStartKey: start), rawKeyAttributes: ["pk"])
            result += page.rawItems.map { Array($0.bytes) }
            start = page.lastEvaluatedKey
        } while start != nil
        return result.sorted { $0.lexicographicallyPrecedes($1) }
    }

    func copy(_ server: BenchServer, to target: String, extra: [String] = []) throws {
        let directory = TestEnvironment.temporaryDirectory("raw-copy")
        let mapping = directory.appendingPathComponent("m.yaml")
        try "version: 1\ntables:\n  - source: src\n    target: \(target)\n".write(to: mapping, atomically: true, encoding: .utf8)
        let run = try TestEnvironment.runCLI(
            ["migrate", mapping.path, "--endpoint-url", server.endpoint, "--state-dir", directory.appendingPathComponent("state").path, "--segments", "3"] + extra,
            killAfter: 120)
        #expect(run.status == 0, "\(run.stderr)")
    }

    @Test("a one-to-one copy writes every item byte for byte as it was read")
    func byteIdenticalCopy() async throws {
        let server = try await BenchServer(arguments: ["--seed-table", "src", "--items", "3000", "--item-bytes", "700"])
        defer { server.stop() }
        let client = makeClient(endpoint: server.endpoint)
        try copy(server, to: "dst")
        let source = try await rawItems(client, "src")
        #expect(source.count == 3000)
        #expect(try await rawItems(client, "dst") == source)

        // Built and re-encoded instead (--no-raw-items): the same items, though not the same bytes.
        try copy(server, to: "built", extra: ["--no-raw-items"])
        let built = try await rawItems(client, "built")
        #expect(Set(try built.map { try JSONReader.parseItem($0) }) == Set(try source.map { try JSONReader.parseItem($0) }))
        #expect(built != source, "the seeder's fixed attribute order differs from a rebuilt item's")
    }
}
