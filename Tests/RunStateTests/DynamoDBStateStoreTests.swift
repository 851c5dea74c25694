import DynamoClient
import DynamoCore
import Foundation
import RunState
import TestSupport
import Testing

/// The control-table store against the local server: conditional replaces (the fencing workers rely
/// on), logs, listing, the item-size limit, and lost answers through the fault proxy.
@Suite("DynamoDB control-table state store", .serialized, needsLocalServer)
struct DynamoDBStateStoreTests {
    let client = makeClient(endpoint: localEndpoint)

    func store(_ prefix: String = "", client: DynamoDBClient? = nil, table: String? = nil) async throws -> DynamoDBStateStore {
        let store = DynamoDBStateStore(
            client: client ?? self.client, table: table ?? TestEnvironment.uniqueTableName("control"), prefix: prefix)
        try await store.prepare()
        return store
    }

    @Test("the table is created on demand; documents are replaced on their generation, stale writers are refused")
    func conditionalReplace() async throws {
        let store = try await store("job-a")
        #expect(try await store.read("workers/0/checkpoint.json") == nil)
        #expect(try await store.replace("workers/0/checkpoint.json", with: Data("one".utf8), expectedGeneration: 0) == 1)
        #expect(try await store.read("workers/0/checkpoint.json") == StoredDocument(data: Data("one".utf8), generation: 1))
        // A second "first write" loses.
        await #expect(throws: StateFileError.staleGeneration(path: store.location(of: "workers/0/checkpoint.json"), expected: 0, found: 1)) {
            try await store.replace("workers/0/checkpoint.json", with: Data("other".utf8), expectedGeneration: 0)
        }
        #expect(try await store.replace("workers/0/checkpoint.json", with: Data("two".utf8), expectedGeneration: 1) == 2)
        // A writer still holding generation 1 is fenced off and writes nothing.
        await #expect(throws: StateFileError.staleGeneration(path: store.location(of: "workers/0/checkpoint.json"), expected: 1, found: 2)) {
            try await store.replace("workers/0/checkpoint.json", with: Data("stale".utf8), expectedGeneration: 1)
        }
        #expect(try await store.read("workers/0/checkpoint.json")?.data == Data("two".utf8))
        // Unconditional replaces still bump the generation.
        #expect(try await store.replace("workers/0/checkpoint.json", with: Data("three".utf8), expectedGeneration: nil) == 3)
        #expect(store.location(of: "job.json") == "dynamodb://\(store.table)/job-a/job.json")
        // A second store on the same table with another prefix sees nothing of the first.
        let other = DynamoDBStateStore(client: client, table: store.table, prefix: "job-b")
        #expect(try await other.read("workers/0/checkpoint.json") == nil)
        try await store.remove("workers/0/checkpoint.json")
        #expect(try await store.read("workers/0/checkpoint.json") == nil)
        try await client.deleteTable(store.table)
    }

    @Test("logs keep their lines in order; a line over one item is split and joined again")
    func logs() async throws {
        let store = try await store()
        let big = Data((0..<(900 * 1024)).map { UInt8(ascii: "a") + UInt8($0 % 26) })
        try await store.append(line: Data("first".utf8), to: "workers/1/dead-letters.jsonl")
        try await store.append(line: big, to: "workers/1/dead-letters.jsonl")
        // Another process appending to the same log starts after what is there.
        let second = DynamoDBStateStore(client: client, table: store.table)
        try await second.append(line: Data("last".utf8), to: "workers/1/dead-letters.jsonl")
        #expect(try await store.lines(of: "workers/1/dead-letters.jsonl") == [Data("first".utf8), big, Data("last".utf8)])
        #expect(try await store.lines(of: "workers/2/dead-letters.jsonl") == [])
        try await store.replace("workers/1/checkpoint.json", with: Data("{}".utf8), expectedGeneration: nil)
        try await store.replace("workers/0/checkpoint.json", with: Data("{}".utf8), expectedGeneration: nil)
        try await store.replace("job.json", with: Data("{}".utf8), expectedGeneration: nil)
        #expect(try await store.names(in: "workers/1") == ["checkpoint.json"])
        #expect(try await store.names(in: "workers") == [])
        try await client.deleteTable(store.table)
    }

    @Test("a document larger than one item is refused, naming the limit, and nothing is written")
    func tooLarge() async throws {
        let store = try await store()
        let data = Data(count: DynamoDBStateStore.maxDocumentBytes + 1)
        do {
            try await store.replace("job.json", with: data, expectedGeneration: nil)
            Issue.record("a document over the item limit was accepted")
        } catch let error as StateFileError {
            #expect(error.description.contains("over the \(DynamoDBStateStore.maxDocumentBytes) bytes one control-table item holds"), "\(error)")
        }
        #expect(try await store.read("job.json") == nil)
        try await client.deleteTable(store.table)
    }

    @Test("a lost PutItem answer: the retry meets its own write and takes it as done, for documents and log lines")
    func lostAnswers() async throws {
        let table = try await store().table
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        let store = try await store(client: makeClient(endpoint: proxy.endpoint), table: table)
        try await store.replace("workers/0/checkpoint.json", with: Data("one".utf8), expectedGeneration: 0)
        proxy.inject(.resetAfterForwarding, operation: "PutItem", times: 1)
        #expect(try await store.replace("workers/0/checkpoint.json", with: Data("two".utf8), expectedGeneration: 1) == 2)
        proxy.inject(.resetAfterForwarding, operation: "PutItem", times: 1)
        try await store.append(line: Data("only once".utf8), to: "log.jsonl")
        #expect(proxy.counters.applied(.resetAfterForwarding) == 2)
        #expect(try await store.read("workers/0/checkpoint.json") == StoredDocument(data: Data("two".utf8), generation: 2))
        #expect(try await store.lines(of: "log.jsonl") == [Data("only once".utf8)])
        try await client.deleteTable(table)
    }

    @Test("typed records go through it like through the local store")
    func records() async throws {
        let store = try await store()
        let job = WorkerJob(
            planFingerprint: "p", workers: 3, segments: ["t/a": 4, "t/b": 2], order: ["t/a", "t/b"], endpoint: "http://x",
            createdAt: Date(timeIntervalSince1970: 1_795_000_000))
        try await store.saveRecord(job, to: "job.json", expectedGeneration: 0)
        var expected = job
        expected.formatVersion = WorkerJob.currentFormatVersion
        #expect(try await store.loadRecord(WorkerJob.self, from: "job.json")?.record == expected)
        // Segments are dealt round-robin over all sources: 6 segments, 3 workers, 2 each.
        #expect(job.segments(of: "t/a", for: 0) == [0, 3])
        #expect(job.segments(of: "t/a", for: 1) == [1])
        #expect(job.segments(of: "t/b", for: 1) == [0])
        #expect(job.segments(of: "t/b", for: 2) == [1])
        try await client.deleteTable(store.table)
    }
}
