import AWSAuth
import DynamoClient
import Foundation
@testable import S3Client
import TestSupport
import Testing

/// A bucket name no other test uses (valid: lowercase, digits, hyphens).
func uniqueBucket(_ prefix: String) -> String {
    "\(prefix)-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
}

func makeS3Client(endpoint: String, region: String = "us-east-1", clock: TestClock = TestClock()) -> S3Client {
    S3Client(configuration: configuration(s3Endpoint: endpoint, region: region), clock: clock)
}

/// Random bytes (deterministic per seed): incompressible, so sizes are what they say.
func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var random = SeededRandom(seed: seed)
    var bytes = [UInt8](repeating: 0, count: count)
    var i = 0
    while i < count {
        var word = random.next()
        for _ in 0..<8 where i < count {
            bytes[i] = UInt8(truncatingIfNeeded: word)
            word >>= 8
            i += 1
        }
    }
    return bytes
}

func writeTemporaryFile(_ bytes: [UInt8]) throws -> URL {
    let url = TestEnvironment.temporaryDirectory("s3-upload").appendingPathComponent("data.bin")
    try Data(bytes).write(to: url)
    return url
}

@Suite(needsLocalServer)
struct S3ClientMotoTests {
    let moto: String
    init() throws {
        guard let endpoint = TestEnvironment.endpoint else { throw S3Error.invalidRequest("no local server") }
        moto = endpoint
    }

    @Test func objectsRoundTripWithListingsAndDeletes() async throws {
        let s3 = makeS3Client(endpoint: moto)
        let bucket = uniqueBucket("s3c-objects")
        #expect(try await s3.createBucket(bucket) == true)
        try await s3.createBucket(bucket)  // already ours: not an error (us-east-1 even answers 200)
        try await s3.headBucket(bucket)

        let keys = ["p/a b.json", "p/ü+1.json", "p/c&d.json", "p/sub/e.json", "q/other.json"]
        for (i, key) in keys.enumerated() {
            let body = Array("object \(i)".utf8)
            let etag = try await s3.putObject(bucket: bucket, key: key, body: body)
            #expect(etag == S3Client.hex(S3Client.md5(body)))
        }
        #expect(try await s3.getObject(bucket: bucket, key: "p/ü+1.json") == Array("object 1".utf8))
        let info = try #require(try await s3.headObject(bucket: bucket, key: "p/a b.json"))
        #expect(info.size == 8)
        #expect(info.etagMD5 == S3Client.hex(S3Client.md5(Array("object 0".utf8))))
        #expect(try await s3.headObject(bucket: bucket, key: "p/missing") == nil)

        // Pages of two: three pages, every key once.
        let listed = try await s3.listAllObjects(bucket: bucket, prefix: "p/", pageSize: 2)
        #expect(listed.map(\.key).sorted() == keys.filter { $0.hasPrefix("p/") }.sorted())
        let page = try await s3.listObjectsV2(bucket: bucket, prefix: "p/", delimiter: "/")
        #expect(page.commonPrefixes == ["p/sub/"])

        try await s3.deleteObjects(bucket: bucket, keys: ["p/a b.json", "p/c&d.json"])
        try await s3.deleteObject(bucket: bucket, key: "q/other.json")
        #expect(try await s3.listAllObjects(bucket: bucket, prefix: "").map(\.key).sorted() == ["p/sub/e.json", "p/ü+1.json"])
        do {
            _ = try await s3.getObject(bucket: bucket, key: "p/a b.json")
            Issue.record("a deleted object was read")
        } catch {
            #expect(error.description == "s3://\(bucket)/p/a b.json does not exist")
        }
    }

    @Test func bucketOutsideUSEast1IsCreatedWithItsLocationConstraint() async throws {
        let s3 = makeS3Client(endpoint: moto, region: "eu-west-1")
        let bucket = uniqueBucket("s3c-region")
        try await s3.createBucket(bucket)
        #expect(try await s3.headBucket(bucket) == "eu-west-1")
    }

    @Test func streamedDownloadIsCheckedAgainstItsMD5() async throws {
        let s3 = makeS3Client(endpoint: moto)
        let bucket = uniqueBucket("s3c-download")
        try await s3.createBucket(bucket)
        let bytes = randomBytes(300_000, seed: 7)
        try await s3.putObject(bucket: bucket, key: "big.bin", body: bytes)
        var received: [UInt8] = []
        var chunks = 0
        let (info, md5) = try await s3.downloadObject(bucket: bucket, key: "big.bin", chunkSize: 1 << 16) { chunk in
            received += chunk
            chunks += 1
        }
        #expect(received == bytes)
        #expect(chunks == 5)  // 300 000 bytes in ranges of 65 536
        #expect(info.size == 300_000)
        #expect(S3Client.hex(md5) == S3Client.hex(S3Client.md5(bytes)))

        let file = TestEnvironment.temporaryDirectory("s3-download").appendingPathComponent("big.bin")
        try await s3.downloadObject(bucket: bucket, key: "big.bin", to: file)
        #expect([UInt8](try Data(contentsOf: file)) == bytes)
    }

    @Test func multipartUploadInParallelPartsStoresTheWholeFile() async throws {
        let s3 = makeS3Client(endpoint: moto)
        let bucket = uniqueBucket("s3c-multipart")
        try await s3.createBucket(bucket)
        let bytes = randomBytes(11 << 20, seed: 11)
        let file = try writeTemporaryFile(bytes)
        let result = try await s3.uploadFile(file, bucket: bucket, key: "data/file.bin", options: S3UploadOptions(partSize: 5 << 20, concurrency: 2))
        #expect(result.parts == 3)
        let partMD5s = [bytes[0..<(5 << 20)], bytes[(5 << 20)..<(10 << 20)], bytes[(10 << 20)...]].map { S3Client.md5(Array($0)) }
        #expect(result.etag == S3Client.multipartETag(partMD5s))
        #expect(try await s3.getObject(bucket: bucket, key: "data/file.bin") == bytes)
        #expect(try await s3.listMultipartUploads(bucket: bucket, prefix: "").isEmpty)
    }

    @Test func smallFilesGoUpInOnePutObject() async throws {
        let s3 = makeS3Client(endpoint: moto)
        let bucket = uniqueBucket("s3c-single")
        try await s3.createBucket(bucket)
        let bytes = randomBytes(1000, seed: 3)
        let result = try await s3.uploadFile(try writeTemporaryFile(bytes), bucket: bucket, key: "small.bin", options: S3UploadOptions(partSize: 5 << 20))
        #expect(result == S3UploadResult(etag: S3Client.hex(S3Client.md5(bytes)), size: 1000, parts: 0))
        await #expect(throws: S3Error.self) {
            try await s3.uploadFile(try writeTemporaryFile(bytes), bucket: bucket, key: "x", options: S3UploadOptions(partSize: 1 << 20))
        }
    }

    @Test func missingBucketIsNamed() async throws {
        let s3 = makeS3Client(endpoint: moto)
        let bucket = uniqueBucket("s3c-missing")
        for call in 0..<3 {
            do {
                switch call {
                case 0: _ = try await s3.putObject(bucket: bucket, key: "k", body: [1])
                case 1: try await s3.headBucket(bucket)
                default: _ = try await s3.listObjectsV2(bucket: bucket, prefix: "")
                }
                Issue.record("call \(call) on a missing bucket succeeded")
            } catch {
                #expect(error.description == "S3 bucket \(bucket) does not exist at \(moto): create it first, or check the bucket name")
            }
        }
    }

    @Test func repeatedContinuationTokenStopsTheListing() async throws {
        let page =
            "<?xml version=\"1.0\"?><ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>a</Key><Size>1</Size><ETag>\"x\"</ETag></Contents>"
            + "<NextContinuationToken>same</NextContinuationToken></ListBucketResult>"
        let server = try CannedHTTPServer(
            textResponses: ["HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: \(page.utf8.count)\r\n\r\n\(page)"])
        defer { server.stop() }
        let s3 = makeS3Client(endpoint: server.endpoint)
        do {
            _ = try await s3.listAllObjects(bucket: "some-bucket", prefix: "")
            Issue.record("a listing that repeats its token ended")
        } catch {
            #expect(
                error.description
                    == "S3 ListObjectsV2 on bucket some-bucket: S3 returned the continuation token same twice; stopping instead of listing the same objects forever")
        }
        #expect(server.connectionsAccepted == 2)
    }
}
