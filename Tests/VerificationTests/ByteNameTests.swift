// Canonically equivalent but byte-different names and strings ("é" and "e\u{301}") are different to
// DynamoDB, so they must be different to checksums, migrate, verify and diff.
import DynamoClient
import DynamoCore
import Foundation
import Pipeline
import RunState
import TableIO
import TestSupport
import Testing

@testable import Verification

private let nfc = "\u{E9}", nfd = "e\u{301}"

/// Items holding both spellings: as names (top level and nested), as string values and set members,
/// and as partition keys (two items).
private func bothSpellings() -> [Item] {
    [
        [
            "pk": .s(nfc), AttributeName(nfc): .s(nfc), AttributeName(nfd): .s(nfd),
            "m": .m([
                AttributeName(nfc): .n(DynamoNumber(1)), AttributeName(nfd): .n(DynamoNumber(2)),
                "inner": .m([AttributeName(nfd): .ss([nfc, nfd])]),
            ]),
        ],
        ["pk": .s(nfd), AttributeName(nfc): .s(nfd), "l": .l([.s(nfc), .s(nfd)])],
        ["pk": .s("plain"), "x": .s("y")],
    ]
}

@Suite struct ByteNameChecksumTests {
    @Test func checksumsTellSpellingsApart() throws {
        let items = bothSpellings()
        let base = localChecksum(items, Vectors.pkOnly)
        #expect(base.itemCount == 3)
        // Canonical bytes keep both names and decode back byte-exact.
        for item in items {
            let decoded = try CanonicalEncoding.decodeItem(CanonicalEncoding.bytes(of: item))
            #expect(decoded == item)
            #expect(CanonicalEncoding.bytes(of: decoded) == CanonicalEncoding.bytes(of: item))
        }
        // Respelling a name, a nested name, a value or a set member changes the checksum.
        var name = items[0]; name[AttributeName(nfd)] = nil; name["x"] = .s(nfd)
        var nfdOnly = items[1]; nfdOnly[AttributeName(nfc)] = nil; nfdOnly[AttributeName(nfd)] = .s(nfd)
        var value = items[1]; value[AttributeName(nfc)] = .s(nfc)
        var nested = items[0]
        nested["m"] = .m([
            AttributeName(nfc): .n(DynamoNumber(2)), AttributeName(nfd): .n(DynamoNumber(1)),
            "inner": .m([AttributeName(nfd): .ss([nfc, nfd])]),
        ])
        var member = items[0]
        member["m"] = .m([
            AttributeName(nfc): .n(DynamoNumber(1)), AttributeName(nfd): .n(DynamoNumber(2)),
            "inner": .m([AttributeName(nfd): .ss([nfc, nfc + "x"])]),
        ])
        for changed in [
            [name, items[1], items[2]], [items[0], nfdOnly, items[2]], [items[0], value, items[2]],
            [nested, items[1], items[2]], [member, items[1], items[2]],
        ] {
            #expect(changed != items)
            #expect(localChecksum(changed, Vectors.pkOnly) != base)
        }
        // The differ names exactly the respelled attribute.
        #expect(TableDiffer.differingAttributes(items[1], nfdOnly) == [nfd, nfc].sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        #expect(TableDiffer.differingAttributes(items[1], value) == [nfc])
        #expect(describeKey(["pk": .s(nfd)]) == "pk={\"S\":\"\(nfd)\"}")
        // Key schemas too: a target keyed on the other spelling is a different key.
        #expect(KeyAttribute(name: nfc, type: .string) != KeyAttribute(name: nfd, type: .string))
        let nfdKey = KeySchema(partitionKey: KeyAttribute(name: nfd, type: .string))
        #expect(nfdKey != KeySchema(partitionKey: KeyAttribute(name: nfc, type: .string)))
        #expect(nfdKey.key(of: items[0]) == [AttributeName(nfd): .s(nfd)])
        #expect(nfdKey.key(of: items[1]) == nil)
    }
}

@Suite(needsLocalServer) struct ByteNameMigrationTests {
    @Test func migrateCopiesBothSpellingsExactlyAndVerifyTellsThemApart() async throws {
        let client = makeClient(endpoint: localEndpoint)
        let source = try await makeTable(client, prefix: "bytes-src")
        let target = TestEnvironment.uniqueTableName("bytes-dst")
        let items = bothSpellings()
        try await writeAll(client, source, items)
        let mapping = try await resolve(
            """
            version: 1
            tables:
              - source: \(source)
                target: \(target)
            """, client)
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var options = MigrationOptions(stateDirectory: directory, planFingerprint: "bytes-test")
        options.segments = 2
        let report = try await Migrator(client: client, mapping: mapping, options: options).run()
        #expect(report.itemsDeadLettered == 0)

        // The target holds every item byte for byte.
        let copied = try await client.scan(ScanInput(table: target)).items
        #expect(copied.count == 3)
        #expect(Set(copied.map { CanonicalEncoding.bytes(of: $0) }) == Set(items.map { CanonicalEncoding.bytes(of: $0) }))
        #expect(Set(copied) == Set(items))

        let verifier = MappingVerifier(checksummer: Checksummer(client: client, segments: 2), mapping: mapping)
        let matched = try await verifier.verify(mappingPath: "bytes.yaml", env: nil)
        #expect(matched.matched)
        #expect(matched.targets.map(\.status) == [.match])
        #expect(matched.targets[0].actual == localChecksum(items, Vectors.pkOnly))

        // The same item in the target with one attribute name in the other normalization form.
        var respelled = items[1]
        respelled[AttributeName(nfc)] = nil
        respelled[AttributeName(nfd)] = .s(nfd)
        try await client.putItem(table: target, item: respelled)
        let mismatched = try await verifier.verify(mappingPath: "bytes.yaml", env: nil)
        #expect(!mismatched.matched)
        #expect(mismatched.targets.map(\.status) == [.mismatch])
        #expect(mismatched.targets[0].differingBuckets == [TableChecksum.bucketName(Int(ItemHasher.bucket(ofKey: ["pk": .s(nfd)])))])

        let diff = try await TableDiffer(checksummer: Checksummer(client: client)).diff(source: source, target: target)
        #expect(diff.missing == [] && diff.extra == [])
        #expect(diff.changed == [ChangedItem(key: ["pk": .s(nfd)], attributes: [nfd, nfc])])

        try await client.deleteTable(source)
        try await client.deleteTable(target)
    }
}
