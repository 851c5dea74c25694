import AWSAuth
import DynamoClient
import Foundation
@testable import S3Client
import TestSupport
import Testing

/// Faults on the way to S3 (a real proxy in front of moto): retried, followed, or reported clearly,
/// and never a half-written object.
@Suite(needsLocalServer)
struct S3FaultTests {
    let moto: String
    let proxy: FaultProxy

    init() throws {
        guard let endpoint = TestEnvironment.endpoint else { throw S3Error.invalidRequest("no local server") }
        moto = endpoint
        proxy = try FaultProxy(upstream: endpoint)
    }

    func bucketWithFile(_ prefix: String) async throws -> (S3Client, String, URL, [UInt8]) {
        let s3 = makeS3Client(endpoint: proxy.endpoint)
        let bucket = uniqueBucket(prefix)
        try await s3.createBucket(bucket)
        let bytes = randomBytes(11 << 20, seed: 42)
        return (s3, bucket, try writeTemporaryFile(bytes), bytes)
    }

    @Test func partWhoseAnswerIsLostIsSentAgainAndNothingIsLost() async throws {
        defer { proxy.stop() }
        let (s3, bucket, file, bytes) = try await bucketWithFile("s3f-part")
        proxy.inject(.resetAfterForwarding, operation: "UploadPart", times: 1)
        let result = try await s3.uploadFile(file, bucket: bucket, key: "k.bin", options: S3UploadOptions(partSize: 5 << 20, concurrency: 2))
        #expect(result.parts == 3)
        #expect(proxy.counters.faultsApplied == [.resetAfterForwarding: 1])
        #expect(proxy.log.filter { $0.operation == "UploadPart" }.count == 4)
        #expect(try await s3.getObject(bucket: bucket, key: "k.bin") == bytes)
        #expect(try await s3.listMultipartUploads(bucket: bucket, prefix: "").isEmpty)
    }

    @Test func completeAnswered500IsRetried() async throws {
        defer { proxy.stop() }
        let (s3, bucket, file, bytes) = try await bucketWithFile("s3f-complete500")
        proxy.inject(.httpStatus(500), operation: "CompleteMultipartUpload", times: 1)
        _ = try await s3.uploadFile(file, bucket: bucket, key: "k.bin", options: S3UploadOptions(partSize: 5 << 20))
        #expect(proxy.log.filter { $0.operation == "CompleteMultipartUpload" }.map(\.forwarded) == [false, true])
        #expect(try await s3.getObject(bucket: bucket, key: "k.bin") == bytes)
        #expect(s3.statistics.retries == 1)
    }

    @Test func completeAppliedButItsAnswerLostIsConfirmedByTheETag() async throws {
        defer { proxy.stop() }
        let (s3, bucket, file, bytes) = try await bucketWithFile("s3f-completelost")
        proxy.inject(.resetAfterForwarding, operation: "CompleteMultipartUpload", times: 1)
        let result = try await s3.uploadFile(file, bucket: bucket, key: "k.bin", options: S3UploadOptions(partSize: 5 << 20))
        #expect(result.etag.hasSuffix("-3"))
        #expect(try await s3.getObject(bucket: bucket, key: "k.bin") == bytes)
        #expect(try await s3.listMultipartUploads(bucket: bucket, prefix: "").isEmpty)
    }

    @Test func completeThatKeepsFailingAbortsTheUploadAndLeavesNoObject() async throws {
        defer { proxy.stop() }
        let (s3, bucket, file, _) = try await bucketWithFile("s3f-abort")
        proxy.inject(.s3Error(code: "InternalError", status: 500), operation: "CompleteMultipartUpload", times: 100)
        do {
            _ = try await s3.uploadFile(file, bucket: bucket, key: "k.bin", options: S3UploadOptions(partSize: 5 << 20))
            Issue.record("an upload whose completion always fails succeeded")
        } catch {
            #expect(
                "\(error)"
                    == "S3 CompleteMultipartUpload on s3://\(bucket)/k.bin failed: InternalError (HTTP 500): InternalError injected by FaultProxy [request id FAULTPROXY]"
            )
        }
        #expect(proxy.log.filter { $0.operation == "CompleteMultipartUpload" }.count == RetryPolicy.default.maxAttempts)
        #expect(proxy.log.last?.operation == "AbortMultipartUpload")
        proxy.clearFaults()
        #expect(try await s3.headObject(bucket: bucket, key: "k.bin") == nil)
        #expect(try await s3.listMultipartUploads(bucket: bucket, prefix: "").isEmpty)
    }

    @Test func slowDownIsRetriedAsThrottling() async throws {
        defer { proxy.stop() }
        let s3 = makeS3Client(endpoint: proxy.endpoint)
        let bucket = uniqueBucket("s3f-slowdown")
        try await s3.createBucket(bucket)
        proxy.inject(.s3Error(code: "SlowDown", status: 503), operation: "PutObject", times: 2)
        try await s3.putObject(bucket: bucket, key: "k", body: Array("v".utf8))
        #expect(s3.statistics.throttles == 2)
        #expect(try await s3.getObject(bucket: bucket, key: "k") == Array("v".utf8))
    }

    @Test func accessDeniedIsReportedAtOnce() async throws {
        defer { proxy.stop() }
        let s3 = makeS3Client(endpoint: proxy.endpoint)
        let bucket = uniqueBucket("s3f-denied")
        try await s3.createBucket(bucket)
        proxy.inject(.s3Error(code: "AccessDenied", status: 403), operation: "PutObject", times: 5)
        do {
            try await s3.putObject(bucket: bucket, key: "exports/k", body: [1])
            Issue.record("a denied PutObject succeeded")
        } catch {
            #expect(
                error.description
                    == "access denied to s3://\(bucket)/exports/k (PutObject): AccessDenied injected by FaultProxy. Check the identity's S3 permissions and the bucket policy"
            )
        }
        #expect(proxy.counters.faultsApplied == [.s3Error: 1])
    }

    @Test func bucketInAnotherRegionIsFollowedOnce() async throws {
        defer { proxy.stop() }
        let s3 = makeS3Client(endpoint: proxy.endpoint)
        let bucket = uniqueBucket("s3f-region")
        try await s3.createBucket(bucket)
        proxy.inject(.s3Error(code: "PermanentRedirect", status: 301, region: "eu-west-1"), operation: "PutObject", times: 1)
        try await s3.putObject(bucket: bucket, key: "k", body: [1])
        #expect(s3.knownRegion(of: bucket) == "eu-west-1")
        #expect(s3.statistics.retries == 0)

        // A bucket that stays in the wrong region after the redirect: a clear error, not a loop.
        proxy.inject(.s3Error(code: "AuthorizationHeaderMalformed", status: 400, region: "ap-south-1"), operation: "GetObject", times: 2)
        do {
            _ = try await s3.getObject(bucket: bucket, key: "k")
            Issue.record("a bucket that keeps redirecting was read")
        } catch {
            #expect(
                error.description
                    == "S3 bucket \(bucket): requests sent to region ap-south-1, where S3 said the bucket is, were refused as the wrong region again: check the bucket's region and pass it with --region"
            )
        }
    }
}
