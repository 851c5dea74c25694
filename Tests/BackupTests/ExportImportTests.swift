import DynamoClient
import DynamoCore
import Foundation
import Mappings
import RunState
import TableIO
import TestSupport
import Testing
import ZlibSupport

@testable import Backup

/// Items meant to break an export: every type, 38-digit numbers, every byte value, awkward unicode,
/// deep nesting, empty values, and an item close to DynamoDB's 400 KB limit.
func adversarialItems() -> [Item] {
    var deep: AttributeValue = .s("bottom")
    for level in 0..<30 { deep = level % 2 == 0 ? .m(["k\(level)": deep, "z": .null]) : .l([deep, .n(DynamoNumber(level))]) }
    let allBytes = (0...255).map { UInt8($0) }
    var items: [Item] = [
        [
            "pk": .s("numbers"), "sk": .n(DynamoNumber(0)),
            "big": .n(DynamoNumber(unchecked: "12345678901234567890123456789012345678")),
            "negSmall": .n(DynamoNumber(unchecked: "-0.12345678901234567890123456789012345678")),
            "huge": .n(DynamoNumber(unchecked: "99999999999999999999999999999999999999000000000000")),
            "tiny": .n(DynamoNumber(unchecked: "0.000000000000000000000000000000000000000000000000000000000001")),
            "ns": .ns([DynamoNumber(unchecked: "12345678901234567890123456789012345678"), DynamoNumber(unchecked: "-1"), DynamoNumber(unchecked: "0.5")]),
        ],
        [
            "pk": .s("binary"), "sk": .n(DynamoNumber(1)), "b": .b(allBytes), "empty": .b([]),
            "bs": .bs([allBytes, [0], [255, 254]]),
        ],
        [
            "pk": .s("unicode \u{1F9EA} \"q\" \\ / \u{0}\u{1}\u{1F}\n\t é e\u{301} 中文 \u{FEFF}"), "sk": .n(DynamoNumber(2)),
            "s": .s("\u{2028}\u{2029} ünïcödé \u{10FFFF}"), "emptyString": .s(""),
            "ss": .ss(["a", "\u{1F600}", "é", "e\u{301}"]),
            "name with spaces and \"quotes\"": .bool(false), "t": .bool(true), "nothing": .null,
        ],
        ["pk": .s("nested"), "sk": .n(DynamoNumber(3)), "deep": deep, "emptyMap": .m([:]), "emptyList": .l([])],
        // Canonically equivalent but byte-different names, values and keys: two of each to DynamoDB.
        [
            "pk": .s("\u{E9}"), "sk": .n(DynamoNumber(5)), "\u{E9}": .s("nfc"), "e\u{301}": .s("nfd"),
            "m": .m(["\u{E9}": .n(DynamoNumber(1)), "e\u{301}": .n(DynamoNumber(2))]), "ss": .ss(["\u{E9}", "e\u{301}"]),
        ],
        ["pk": .s("e\u{301}"), "sk": .n(DynamoNumber(5)), "\u{E9}": .s("e\u{301}")],
        // About 390 KB of UTF-8 (two bytes per é): under 400 KB with its names.
        ["pk": .s("large"), "sk": .n(DynamoNumber(4)), "blob": .s(String(repeating: "é", count: 195_000))],
    ]
    items += sampleItems(150, sortKey: true)
    return items
}

func exportFixture(
    _ client: DynamoDBClient, items: [Item], segments: Int = 3, options: ExportOptions? = nil
) async throws -> (table: String, result: ExportResult) {
    let table = try await makeTable(client, prefix: "bk-export", sortKey: KeyAttribute(name: "sk", type: .number))
    try await writeAll(client, table, items)
    let directory = TestEnvironment.temporaryDirectory("bk-export")
    let result = try await TableExporter(client: client).export(
        table: table, to: directory,
        options: options ?? ExportOptions(segments: segments, gzipLevel: 1, maxFileBytes: 4 << 10, pageLimit: 40))
    return (table, result)
}

@Suite(.serialized, needsLocalServer) struct ExportImportTests {
    let client = makeClient(endpoint: localEndpoint)

    @Test func exportVerifyImportRoundTripIsExact() async throws {
        let items = adversarialItems()
        let (table, result) = try await exportFixture(client, items: items)
        let location = result.location

        // DynamoDB's layout and fields.
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: location.directory.path))
        #expect(names == ["_started", "data", "manifest-summary.json", "manifest-summary.md5", "manifest-files.json", "manifest-files.md5"])
        #expect(location.directory.deletingLastPathComponent().lastPathComponent == "AWSDynamoDB")
        let summaryJSON = try JSON.parse([UInt8](Data(contentsOf: location.summaryFile)))
        for field in [
            "version", "exportArn", "startTime", "endTime", "tableArn", "tableId", "exportTime", "s3Bucket", "s3Prefix",
            "s3SseAlgorithm", "manifestFilesS3Key", "billedSizeBytes", "itemCount", "outputFormat",
        ] {
            #expect(summaryJSON[field] != nil, "manifest-summary.json lacks \(field)")
        }
        #expect(summaryJSON["itemCount"]?.intValue == items.count)
        #expect(summaryJSON["outputFormat"]?.stringValue == "DYNAMODB_JSON")
        #expect(summaryJSON["manifestFilesS3Key"]?.stringValue == "AWSDynamoDB/\(location.exportId)/manifest-files.json")
        #expect(
            result.summary.dynamoMigrate?.keySchema
                == KeySchema(
                    partitionKey: KeyAttribute(name: "pk", type: .string),
                    sortKey: KeyAttribute(name: "sk", type: .number)))
        #expect(result.summary.dynamoMigrate?.contentChecksum == MultisetContentChecksummer().checksum(items: items))
        // Small files: segments were rolled into several parts, every key relative to the export.
        #expect(result.files.count > 3)
        #expect(result.files.allSatisfy { $0.dataFileS3Key.hasPrefix("AWSDynamoDB/\(location.exportId)/data/") })
        #expect(result.files.reduce(0) { $0 + $1.itemCount } == items.count)
        let firstFile = location.dataFile(forKey: result.files[0].dataFileS3Key)
        let plain = try GzipReader.decompress([UInt8](Data(contentsOf: firstFile)))
        #expect(plain.starts(with: Array("{\"Item\":{".utf8)))
        #expect(plain.last == UInt8(ascii: "\n"))

        let verification = await ExportVerifier().verify(location)
        #expect(verification.problems == [])
        #expect(verification.contentChecked)
        #expect(verification.itemCount == items.count)

        let target = TestEnvironment.uniqueTableName("bk-import")
        let reader = try ExportReader.open(location.directory.deletingLastPathComponent().deletingLastPathComponent())
        let imported = try await TableImporter(client: client).importExport(reader, into: target, options: ImportOptions(createTable: true, writers: 3))
        #expect(imported.createdTable)
        #expect(imported.itemsRead == items.count)
        #expect(imported.itemsWritten == items.count)
        let restored = try await scanAll(client, target)
        #expect(restored.count == items.count)
        #expect(byKey(restored) == byKey(items))
        #expect(try await client.describeTable(target).keySchema == client.describeTable(table).keySchema)
    }

    @Test func importAcceptsDynamoDBsOwnExportWithoutOurExtras() async throws {
        let items = sampleItems(40, sortKey: true)
        let (_, result) = try await exportFixture(client, items: items, segments: 2)
        // Rewrite it as DynamoDB would have: no dynamoMigrate, keys under an S3 prefix, .checksum files.
        let location = result.location
        var summary = result.summary
        summary.dynamoMigrate = nil
        summary.s3Bucket = "bucket"
        summary.s3Prefix = "exports/2026"
        summary.manifestFilesS3Key = "exports/2026/AWSDynamoDB/\(location.exportId)/manifest-files.json"
        let files = result.files.map { entry -> ManifestFileEntry in
            var e = entry; e.dataFileS3Key = "exports/2026/" + e.dataFileS3Key; return e
        }
        let filesBytes = files.flatMap { $0.encodedLine() }
        let summaryBytes = try summary.encoded()
        try Data(filesBytes).write(to: location.filesManifest)
        try Data(summaryBytes).write(to: location.summaryFile)
        try FileManager.default.removeItem(at: location.directory.appendingPathComponent("manifest-files.md5"))
        try FileManager.default.removeItem(at: location.directory.appendingPathComponent("manifest-summary.md5"))
        try Data(Digests.md5Base64(filesBytes).utf8).write(to: location.directory.appendingPathComponent("manifest-files.checksum"))
        try Data(Digests.md5Base64(summaryBytes).utf8).write(to: location.directory.appendingPathComponent("manifest-summary.checksum"))

        let verification = await ExportVerifier().verify(location)
        #expect(verification.problems == [])
        #expect(!verification.contentChecked)
        #expect(verification.notes == ["no content checksum recorded (an export DynamoDB wrote): checked files, MD5s and counts only"])

        let reader = try ExportReader(location: location)
        let target = TestEnvironment.uniqueTableName("bk-import-ddb")
        await #expect(throws: BackupError.self) {
            try await TableImporter(client: client).importExport(reader, into: target, options: ImportOptions(createTable: true))
        }
        #expect(try await client.describeTableIfExists(target) == nil)
        let key = KeySchema(partitionKey: KeyAttribute(name: "pk", type: .string), sortKey: KeyAttribute(name: "sk", type: .number))
        let imported = try await TableImporter(client: client).importExport(reader, into: target, options: ImportOptions(createTable: true, keySchema: key))
        #expect(imported.itemsWritten == 40)
        #expect(byKey(try await scanAll(client, target)) == byKey(items))
    }

    @Test func importAppliesAMappingSourcesTransforms() async throws {
        let items = sampleItems(30, sortKey: true)
        let (table, result) = try await exportFixture(client, items: items, segments: 1)
        let document = try MappingLoader.parse(
            yaml: """
                version: 1
                tables:
                  - target: new-orders
                    sources:
                      - table: \(table)
                        key-prefix: "eu#"
                        transforms:
                          - rename: { s: greeting }
                          - drop: [bs]
                          - filter: { attribute: flag, equals: true }
                """, file: "m.yaml", env: nil)
        let target = TestEnvironment.uniqueTableName("bk-import-mapped")
        let reader = try ExportReader(location: result.location)
        let imported = try await TableImporter(client: client).importExport(
            reader, into: target,
            options: ImportOptions(
                createTable: true, transform: { key in document.importTransform(forSource: table, partitionKey: key.partitionKey.name)! }))
        #expect(imported.itemsRead == 30)
        #expect(imported.itemsFiltered == 15)
        #expect(imported.itemsWritten == 15)
        let expected = items.filter { $0["flag"] == .bool(true) }.map { item -> Item in
            var out = item
            out["greeting"] = out.removeValue(forKey: "s")
            out["bs"] = nil
            out["pk"] = .s("eu#" + item["pk"]!.stringValue!)
            return out
        }
        #expect(byKey(try await scanAll(client, target)) == byKey(expected))
    }

    @Test func importIntoAMissingTableWithoutCreateIsRefused() async throws {
        let (_, result) = try await exportFixture(client, items: sampleItems(3, sortKey: true), segments: 1)
        let reader = try ExportReader(location: result.location)
        let missing = TestEnvironment.uniqueTableName("bk-missing")
        do {
            _ = try await TableImporter(client: client).importExport(reader, into: missing)
            Issue.record("expected a refusal")
        } catch let error as BackupError {
            #expect(error.description == "table \(missing) does not exist; pass --create to create it from the export's key schema")
        }
    }
}

@Suite(.serialized, needsLocalServer) struct ExportTamperTests {
    let client = makeClient(endpoint: localEndpoint)

    /// Copies the export, flips one byte of `file` (relative to the export folder) at `offset`, verifies.
    func verifyWithFlippedByte(_ location: ExportLocation, file: String, offset: (Int) -> Int) async throws -> ExportVerification {
        let copy = TestEnvironment.temporaryDirectory("bk-tamper").appendingPathComponent(location.exportId)
        try FileManager.default.copyItem(at: location.directory, to: copy)
        let url = copy.appendingPathComponent(file)
        var bytes = [UInt8](try Data(contentsOf: url))
        let at = offset(bytes.count)
        bytes[at] = bytes[at] == UInt8(ascii: "7") ? UInt8(ascii: "8") : UInt8(ascii: "7")
        try Data(bytes).write(to: url)
        return await ExportVerifier().verify(ExportLocation(directory: copy))
    }

    @Test func aOneByteChangeInAnyFileIsCaughtAndNamed() async throws {
        let (_, result) = try await exportFixture(client, items: sampleItems(120, sortKey: true), segments: 2)
        let location = result.location
        #expect(await ExportVerifier().verify(location).ok)
        let dataFile = "data/" + (result.files[0].dataFileS3Key as NSString).lastPathComponent

        // The middle of a data file: its MD5 no longer matches (and usually the gzip CRC neither).
        let data = try await verifyWithFlippedByte(location, file: dataFile, offset: { $0 / 2 })
        #expect(!data.ok)
        #expect(data.problems.contains { $0.file == dataFile && $0.message.hasPrefix("MD5 is ") })
        #expect(data.problems.allSatisfy { $0.file == dataFile })

        // The gzip trailer (stored length): caught by the MD5 even if zlib did not notice.
        let trailer = try await verifyWithFlippedByte(location, file: dataFile, offset: { $0 - 1 })
        #expect(trailer.problems.first?.file == dataFile)

        // Each manifest and each checksum file.
        for file in ["manifest-summary.json", "manifest-files.json"] {
            let result = try await verifyWithFlippedByte(location, file: file, offset: { $0 / 3 })
            #expect(result.problems.contains { $0.file == file }, "a change in \(file) must be named: \(result.problems)")
        }
        for (checksumFile, manifest) in [("manifest-summary.md5", "manifest-summary.json"), ("manifest-files.md5", "manifest-files.json")] {
            let result = try await verifyWithFlippedByte(location, file: checksumFile, offset: { _ in 3 })
            #expect(result.problems.count == 1)
            #expect(result.problems.first?.file == manifest)
            #expect(result.problems.first?.message.contains("\(checksumFile) says") == true)
        }
    }

    @Test func forgedDataWithMatchingMD5sIsCaughtByTheContentChecksum() async throws {
        let (_, result) = try await exportFixture(client, items: sampleItems(20, sortKey: true), segments: 1)
        try forgeOneItem(in: result)
        let verification = await ExportVerifier().verify(result.location)
        #expect(verification.problems.count == 1)
        #expect(verification.problems.first?.file == "manifest-summary.json")
        #expect(verification.problems.first?.message.hasPrefix("content checksum of the data files is dmc1-sha256-sum128:20:") == true)
    }
}

/// Changes one item of an export's first data file and rewrites its MD5s so only the content checksum can tell.
func forgeOneItem(in result: ExportResult) throws {
    let location = result.location
    let entry = result.files[0]
    let url = location.dataFile(forKey: entry.dataFileS3Key)
    let plain = try GzipReader.decompress([UInt8](Data(contentsOf: url)))
    var text = String(decoding: plain, as: UTF8.self)
    let range = try #require(text.range(of: "\"x"))
    text.replaceSubrange(range, with: "\"y")  // the inner string of the "m" map of one item
    let gz = try GzipWriter.compress(Array(text.utf8))
    try Data(gz).write(to: url)
    var files = result.files
    files[0].md5Checksum = Digests.md5Base64(gz)
    files[0].etag = Digests.hex(Base64.decode(files[0].md5Checksum)!)
    let filesBytes = files.flatMap { $0.encodedLine() }
    try Data(filesBytes).write(to: location.filesManifest)
    try Data(Digests.md5Base64(filesBytes).utf8).write(to: location.directory.appendingPathComponent("manifest-files.md5"))
}
