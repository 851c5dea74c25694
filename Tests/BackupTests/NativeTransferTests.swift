import DynamoClient
import DynamoCore
import Foundation
import S3Client
import TableIO
import TestSupport
import Testing

@testable import Backup

/// DynamoDB's native export (ExportTableToPointInTime) and import (ImportTable) against moto, which
/// writes data files but no manifests: the files are read back and their content checksum compared.
@Suite(.serialized, needsLocalServer) struct NativeTransferTests {
    let client = makeClient(endpoint: localEndpoint)

    func transfers(_ s3: S3Client) -> NativeTransfers {
        NativeTransfers(client: client, s3: s3, waiter: Waiter(timeout: .seconds(60), pollInterval: .milliseconds(100)))
    }

    func fixture(items: [Item], pitr: Bool = true) async throws -> (table: String, s3: S3Client, destination: S3Location) {
        let table = try await makeTable(client, prefix: "bk-native", sortKey: KeyAttribute(name: "sk", type: .number))
        try await writeAll(client, table, items)
        if pitr { try await client.updateContinuousBackups(table: table, pointInTimeRecovery: true) }
        let s3 = makeTestS3Client(endpoint: localEndpoint)
        let destination = S3Location(bucket: s3TestBucket("native"), key: "dynamo/exports")
        try await s3.createBucket(destination.bucket)
        return (table, s3, destination)
    }

    @Test func nativeExportIsReadBackWithTheTablesChecksum() async throws {
        let items = adversarialItems()
        let (table, s3, destination) = try await fixture(items: items)
        let tableChecksum = try await MultisetContentChecksummer().scanChecksum(table: table, client: client)

        let (export, verification) = try await transfers(s3).export(
            table: table, to: destination, kind: .full(at: nil), encryption: nil)
        #expect(export.status == "COMPLETED")
        // moto names the folder differently from the ARN's export id: found by difference, and said.
        #expect(verification.folder.key.hasPrefix("dynamo/exports/AWSDynamoDB/"))
        #expect(verification.notes.first?.contains("not AWSDynamoDB/\(export.exportId)") == true)
        #expect(verification.checksum == tableChecksum)
        #expect(verification.checksum.itemCount == items.count)
        #expect(verification.dataFiles >= 1)
        // moto writes no manifests; the verification says so instead of claiming it checked them.
        #expect(!verification.manifestsChecked)
        #expect(verification.notes.contains { $0.contains("no manifest-summary.json") })
    }

    @Test func nativeImportCreatesTheTableWithTheExportsContent() async throws {
        // moto's ImportTable refuses adversarialItems()' largest item ("Item size has exceeded…"), so this
        // round trip uses ordinary items of every type.
        let items: [Item] = (0..<120).map { i in
            [
                "pk": .s("user-\(i % 7)"), "sk": .n(DynamoNumber(i)), "name": .s("n\(i)"), "tags": .ss(["a", "b\(i)"]),
                "blob": .b([UInt8(i), 0, 255]), "nested": .m(["x": .l([.n(DynamoNumber(i)), .bool(i % 2 == 0), .null])]),
            ]
        }
        let (table, s3, destination) = try await fixture(items: items)
        let tableChecksum = try await MultisetContentChecksummer().scanChecksum(table: table, client: client)
        let (_, verification) = try await transfers(s3).export(table: table, to: destination, kind: .full(at: nil), encryption: nil)

        let target = TestEnvironment.uniqueTableName("bk-native-import")
        let key = try await client.describeTable(table).keySchema
        let imported = try await transfers(s3).importTable(from: verification.folder, into: CreateTableInput(name: target, keySchema: key))
        #expect(imported.import.status == "COMPLETED")
        #expect(imported.table == tableChecksum)
        #expect(byKey(try await scanAll(client, target)) == byKey(items))
    }

    @Test func exportWithoutPointInTimeRecoveryIsRefusedNamingTheFix() async throws {
        let (table, s3, destination) = try await fixture(items: [["pk": .s("a"), "sk": .n(DynamoNumber(1))]], pitr: false)
        await #expect {
            _ = try await transfers(s3).export(table: table, to: destination, kind: .full(at: nil), encryption: nil)
        } throws: { error in
            guard let error = error as? NativeTransferError, case .pointInTimeRecoveryOff(let named) = error else { return false }
            return named == table && error.description.contains("update-continuous-backups --table-name \(table)")
        }
        #expect(try await s3.listAllObjects(bucket: destination.bucket, prefix: "").isEmpty)
    }

    @Test func aDataFileThatIsNotGzipIsReportedByName() async throws {
        let s3 = makeTestS3Client(endpoint: localEndpoint)
        let folder = S3Location(bucket: s3TestBucket("native-bad"), key: "x/AWSDynamoDB/01234567890123-abcdefgh")
        try await s3.createBucket(folder.bucket)
        _ = try await s3.putObject(bucket: folder.bucket, key: folder.appending("data/part-1.json.gz").key, body: Array("not gzip".utf8))
        await #expect {
            _ = try await transfers(s3).verify(folder: folder)
        } throws: { error in
            "\(error)".contains("data/part-1.json.gz") && "\(error)".contains("gzip")
        }
    }

    @Test func importTableRefusesSettingsItCannotCreate() async throws {
        let input = CreateTableInput(
            name: "never-created", keySchema: KeySchema(partitionKey: KeyAttribute(name: "pk", type: .string)), tags: ["team": "x"],
            deletionProtection: true)
        await #expect {
            _ = try await client.importTable(
                NativeImportRequest(source: S3BucketLocation(bucket: "some-bucket", prefix: "p"), table: input, clientToken: "t"))
        } throws: { error in
            "\(error)".contains("ImportTable cannot create never-created with tags, deletion protection")
        }
    }
}
