import AWSAuth
import DynamoClient
import Foundation
import RunState
import S3Client
import TestSupport
import Testing

/// The S3 store against the local server: conditional PUTs (If-Match / If-None-Match) as the fencing,
/// logs as one object per line, lost answers through the fault proxy.
@Suite("S3 state store", .serialized, needsLocalServer)
struct S3StateStoreTests {
    func s3(_ endpoint: String = localEndpoint) -> S3Client {
        var configuration = AWSConfiguration(credentials: testCredentials, region: "us-east-1", endpoint: endpoint, profile: nil)
        configuration.s3Endpoint = endpoint
        return S3Client(configuration: configuration, clock: TestClock())
    }

    func bucket() async throws -> String {
        let name = "state-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
        _ = try await s3().createBucket(name)
        return name
    }

    @Test("documents are compare-and-swapped on their ETag: a stale generation is refused and writes nothing")
    func conditionalReplace() async throws {
        let store = S3StateStore(client: s3(), bucket: try await bucket(), prefix: "jobs/a")
        try await store.prepare()
        #expect(try await store.read("job.json") == nil)
        #expect(try await store.replace("job.json", with: Data("one".utf8), expectedGeneration: 0) == 1)
        await #expect(throws: StateFileError.staleGeneration(path: "s3://\(store.bucket)/jobs/a/job.json", expected: 0, found: 1)) {
            try await store.replace("job.json", with: Data("two".utf8), expectedGeneration: 0)
        }
        #expect(try await store.replace("job.json", with: Data("two".utf8), expectedGeneration: 1) == 2)
        await #expect(throws: StateFileError.staleGeneration(path: "s3://\(store.bucket)/jobs/a/job.json", expected: 1, found: 2)) {
            try await store.replace("job.json", with: Data("stale".utf8), expectedGeneration: 1)
        }
        #expect(try await store.read("job.json") == StoredDocument(data: Data("two".utf8), generation: 2))
        #expect(try await store.replace("job.json", with: Data("three".utf8), expectedGeneration: nil) == 3)
        try await store.append(line: Data("a".utf8), to: "workers/0/events.jsonl")
        try await store.append(line: Data("b".utf8), to: "workers/0/events.jsonl")
        try await S3StateStore(client: s3(), bucket: store.bucket, prefix: "jobs/a").append(line: Data("c".utf8), to: "workers/0/events.jsonl")
        #expect(try await store.lines(of: "workers/0/events.jsonl") == ["a", "b", "c"].map { Data($0.utf8) })
        try await store.replace("workers/0/checkpoint.json", with: Data("{}".utf8), expectedGeneration: nil)
        #expect(try await store.names(in: "workers/0") == ["checkpoint.json"])
        try await store.remove("job.json")
        #expect(try await store.read("job.json") == nil)
    }

    @Test("a lost PUT answer: the retry fails its condition, finds its own token and takes the write as done")
    func lostAnswers() async throws {
        let bucket = try await bucket()
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        let store = S3StateStore(client: s3(proxy.endpoint), bucket: bucket, prefix: "job")
        try await store.replace("workers/0/checkpoint.json", with: Data("one".utf8), expectedGeneration: 0)
        proxy.inject(.resetAfterForwarding, operation: "PutObject", times: 1)
        #expect(try await store.replace("workers/0/checkpoint.json", with: Data("two".utf8), expectedGeneration: 1) == 2)
        proxy.inject(.resetAfterForwarding, operation: "PutObject", times: 1)
        try await store.append(line: Data("once".utf8), to: "log.jsonl")
        #expect(proxy.counters.applied(.resetAfterForwarding) == 2)
        #expect(try await store.read("workers/0/checkpoint.json") == StoredDocument(data: Data("two".utf8), generation: 2))
        #expect(try await store.lines(of: "log.jsonl") == [Data("once".utf8)])
    }
}
