import AWSAuth
import DynamoClient
import DynamoCore
import Foundation
import S3Client
import TableIO
import TestSupport
import Testing

@testable import Backup

/// A bucket name no other test uses.
func s3TestBucket(_ prefix: String) -> String { "\(prefix)-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))" }

func makeTestS3Client(endpoint: String) -> S3Client {
    var configuration = AWSConfiguration(credentials: testCredentials, region: "us-east-1", endpoint: endpoint, profile: nil)
    configuration.s3Endpoint = endpoint
    return S3Client(configuration: configuration, clock: TestClock())
}

/// Items with incompressible binary payloads: `count` × `bytes` of gzip output, near enough.
func bulkyItems(_ count: Int, bytes: Int, seed: UInt64) -> [Item] {
    var random = SeededRandom(seed: seed)
    return (0..<count).map { i in
        let payload = (0..<bytes).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        return ["pk": .s("bulky-\(i)"), "sk": .n(DynamoNumber(i)), "payload": .b(payload)]
    }
}

/// Exports to S3, verifies from S3 and imports from S3, against moto (and a fault proxy in front of it).
@Suite(.serialized, needsLocalServer) struct S3ExportTests {
    let client = makeClient(endpoint: localEndpoint)

    func publishFixture(
        items: [Item], through endpoint: String = localEndpoint, upload: S3UploadOptions = S3UploadOptions(),
        options: ExportOptions = ExportOptions(segments: 2, gzipLevel: 1, maxFileBytes: 8 << 10, pageLimit: 40)
    ) async throws -> (table: String, export: ExportResult, transfer: S3ExportTransfer, destination: S3Location) {
        let (table, result) = try await exportFixture(client, items: items, options: options)
        let s3 = makeTestS3Client(endpoint: endpoint)
        let destination = S3Location(bucket: s3TestBucket("s3x"), key: "exports/daily")
        try await s3.createBucket(destination.bucket)
        return (table, result, S3ExportTransfer(client: s3, upload: upload), destination)
    }

    @Test func roundTripThroughS3KeepsLayoutChecksumsAndItems() async throws {
        let items = adversarialItems()
        let (table, result, transfer, destination) = try await publishFixture(items: items)
        let folder = try await transfer.publish(result.location, to: destination)
        #expect(folder.description == "s3://\(destination.bucket)/exports/daily/AWSDynamoDB/\(result.location.exportId)")

        // The same layout as the local export, object for object.
        let stored = try await transfer.client.listAllObjects(bucket: destination.bucket, prefix: "exports/")
        let localNames =
            ["_started", "manifest-files.json", "manifest-files.md5", "manifest-summary.json", "manifest-summary.md5"]
            + (try FileManager.default.contentsOfDirectory(atPath: result.location.dataDirectory.path)).map { "data/" + $0 }
        #expect(stored.map(\.key).sorted() == localNames.map { folder.key + "/" + $0 }.sorted())

        // Found by its prefix, downloaded, verified: same checksum as recorded at export time.
        #expect(try await transfer.find(in: destination) == [folder])
        let staging = TestEnvironment.temporaryDirectory("s3x-fetch")
        let local = try await transfer.fetch(try await transfer.findOne(in: destination), into: staging)
        let verification = await ExportVerifier().verify(local)
        #expect(verification.problems == [])
        #expect(verification.contentChecked)
        #expect(verification.contentChecksum == result.summary.dynamoMigrate?.contentChecksum)
        #expect(verification.itemCount == items.count)

        let target = TestEnvironment.uniqueTableName("s3x-import")
        let imported = try await TableImporter(client: client).importExport(
            try ExportReader(location: local), into: target, options: ImportOptions(createTable: true, writers: 3))
        #expect(imported.itemsWritten == items.count)
        #expect(byKey(try await scanAll(client, target)) == byKey(items))
        #expect(try await client.describeTable(target).keySchema == client.describeTable(table).keySchema)
    }

    @Test func largeDataFilesGoUpAsMultipartUploads() async throws {
        let items = bulkyItems(2_400, bytes: 3_000, seed: 5)
        let (_, result, transfer, destination) = try await publishFixture(
            items: items, upload: S3UploadOptions(partSize: 5 << 20, concurrency: 3),
            options: ExportOptions(segments: 1, gzipLevel: 1, maxFileBytes: 1 << 30))
        #expect(result.files.count == 1)
        let folder = try await transfer.publish(result.location, to: destination)
        let data = try #require(try await transfer.client.headObject(bucket: destination.bucket, key: folder.key + "/data/segment-0000-part-0001.json.gz"))
        #expect(data.etag.hasSuffix("-2"))  // about 7 MiB in parts of 5 MiB
        #expect(data.size > 5 << 20)

        let local = try await transfer.fetch(folder, into: TestEnvironment.temporaryDirectory("s3x-multipart"))
        let verification = await ExportVerifier().verify(local)
        #expect(verification.problems == [])
        #expect(verification.contentChecksum == MultisetContentChecksummer().checksum(items: items))
        #expect(try await transfer.client.listMultipartUploads(bucket: destination.bucket, prefix: "").isEmpty)
    }

    @Test func faultsDuringUploadLoseNothingAndLeaveNoHalfObject() async throws {
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        let items = bulkyItems(2_400, bytes: 3_000, seed: 6)
        let (_, result, transfer, destination) = try await publishFixture(
            items: items, through: proxy.endpoint, upload: S3UploadOptions(partSize: 5 << 20, concurrency: 2),
            options: ExportOptions(segments: 1, gzipLevel: 1, maxFileBytes: 1 << 30))
        proxy.inject(.resetAfterForwarding, operation: "UploadPart", times: 1)
        proxy.inject(.httpStatus(500), operation: "CompleteMultipartUpload", times: 1)
        proxy.inject(.s3Error(code: "SlowDown", status: 503), operation: "PutObject", times: 2)
        let folder = try await transfer.publish(result.location, to: destination)
        #expect(proxy.counters.faultsApplied == [.resetAfterForwarding: 1, .httpStatus: 1, .s3Error: 2])

        let verification = await ExportVerifier().verify(try await transfer.fetch(folder, into: TestEnvironment.temporaryDirectory("s3x-faults")))
        #expect(verification.problems == [])
        #expect(verification.contentChecksum == MultisetContentChecksummer().checksum(items: items))
        #expect(try await transfer.client.listMultipartUploads(bucket: destination.bucket, prefix: "").isEmpty)
    }

    @Test func failedUploadIsCleanedAway() async throws {
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        let (_, result, transfer, destination) = try await publishFixture(
            items: bulkyItems(2_400, bytes: 3_000, seed: 7), through: proxy.endpoint, upload: S3UploadOptions(partSize: 5 << 20),
            options: ExportOptions(segments: 1, gzipLevel: 1, maxFileBytes: 1 << 30))
        proxy.inject(.s3Error(code: "InternalError", status: 500), operation: "CompleteMultipartUpload", times: 1_000)
        await #expect(throws: S3Error.self) { try await transfer.publish(result.location, to: destination) }
        proxy.clearFaults()
        // Nothing under the prefix: no data object, no manifest, no pending multipart upload.
        #expect(try await transfer.client.listAllObjects(bucket: destination.bucket, prefix: "").isEmpty)
        #expect(try await transfer.client.listMultipartUploads(bucket: destination.bucket, prefix: "").isEmpty)
        do {
            _ = try await transfer.find(in: destination)
            Issue.record("an export that was cleaned away was found")
        } catch {
            #expect("\(error)" == "s3://\(destination.bucket)/exports/daily holds no export: expected manifest-summary.json there or in AWSDynamoDB/<export id>/ below it")
        }
    }

    @Test func missingBucketIsSaidBeforeAnythingIsDone() async throws {
        let s3 = makeTestS3Client(endpoint: localEndpoint)
        let bucket = s3TestBucket("s3x-missing")
        do {
            try await S3ExportTransfer(client: s3).checkBucket(S3Location(bucket: bucket, key: "x"))
            Issue.record("a missing bucket passed the check")
        } catch {
            #expect(error.description == "S3 bucket \(bucket) does not exist at \(localEndpoint): create it first, or check the bucket name")
        }
    }
}
