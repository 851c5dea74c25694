import AWSAuth
import DynamoClient
import DynamoCore
import Foundation
import Synchronization
import Testing

// Shared helpers for tests that talk to the local DynamoDB through our own client.

/// Credentials for the local server, which does not check signatures.
public let testCredentials = Credentials(accessKeyId: "AKIDTESTTESTTEST", secretAccessKey: "test-secret-key")

/// A client for the local server (or any endpoint, e.g. a fault proxy in front of it).
public func makeClient(endpoint: String, retryPolicy: RetryPolicy = .default, sleeper: any RunClock = TestClock()) -> DynamoDBClient {
    DynamoDBClient(
        configuration: AWSConfiguration(credentials: testCredentials, region: "us-east-1", endpoint: endpoint, profile: nil),
        retryPolicy: retryPolicy, clock: sleeper)
}

/// A clock tests control: sleeping records the wait and moves the clock forward by it at once (after
/// a yield, so other tasks run), and `advance(by:)` moves it by hand. Retries, waiters and deadlines
/// run instantly and their waits can be asserted exactly.
public final class TestClock: RunClock {
    struct State { var offset: Duration = .zero; var delays: [Duration] = [] }
    let state = Mutex(State())
    let startInstant = ContinuousClock.now
    let startDate: Date

    /// - Parameter date: the wall-clock date the clock starts at.
    public init(date: Date = Date()) { startDate = date }

    public var now: ContinuousClock.Instant { startInstant + state.withLock { $0.offset } }
    public var date: Date {
        let offset = state.withLock { $0.offset }
        return startDate.addingTimeInterval(Double(offset.components.seconds) + Double(offset.components.attoseconds) * 1e-18)
    }

    public func sleep(for duration: Duration) async throws {
        state.withLock {
            $0.delays.append(duration); $0.offset += max(.zero, duration)
        }
        await Task.yield()
    }

    /// Moves the clock forward without a sleep.
    public func advance(by duration: Duration) { state.withLock { $0.offset += duration } }

    /// Every wait so far, in order.
    public var recorded: [Duration] { state.withLock { $0.delays } }
}

/// The system's clock with its dates moved by `offset` seconds: for tests about which record is older,
/// without waiting for time to pass.
public struct ShiftedDateClock: RunClock {
    public var offset: TimeInterval
    public init(by offset: TimeInterval) { self.offset = offset }
    public var now: ContinuousClock.Instant { ContinuousClock.now }
    public var date: Date { Date().addingTimeInterval(offset) }
    public func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}

/// The clock retry tests have always used.
public typealias RecordingSleeper = TestClock

/// The local server's endpoint; tests using it are disabled when it is not set.
public let localEndpoint = TestEnvironment.endpoint ?? "http://127.0.0.1:9"
public let localServerAvailable = TestEnvironment.endpoint != nil
/// For suites that need the local server: skipped, with the reason, when there is none; each skip is
/// counted in the banner the test process ends with.
public let needsLocalServer = Testing.ConditionTrait.enabled(
    Comment(rawValue: "needs a local DynamoDB: \(LocalServer.unavailableReason ?? "none available")")
) {
    LocalServer.availableOrCountSkip()
}

/// Creates a hash(+range) table on the local server and waits until it is ACTIVE.
public func makeTable(
    _ client: DynamoDBClient, prefix: String, sortKey: KeyAttribute? = nil,
    billing: BillingMode = .payPerRequest
) async throws -> String {
    let name = TestEnvironment.uniqueTableName(prefix)
    try await client.createTable(
        CreateTableInput(
            name: name, keySchema: KeySchema(partitionKey: KeyAttribute(name: "pk", type: .string), sortKey: sortKey),
            billingMode: billing))
    try await client.waitUntilActive(name, pollInterval: .milliseconds(50))
    return name
}

/// Items with every attribute type, keyed pk = "item-<i>".
public func sampleItems(_ count: Int, sortKey: Bool = false) -> [Item] {
    (0..<count).map { i in
        var item: Item = [
            "pk": .s("item-\(i)"),
            "n": .n(DynamoNumber(i * 7)),
            "s": .s("héllo \"\(i)\"\n\u{1F600}"),
            "b": .b([UInt8(i % 256), 0, 255]),
            "flag": .bool(i % 2 == 0),
            "nothing": .null,
            "m": .m(["inner": .s("x\(i)"), "deep": .m(["n": .n(DynamoNumber(unchecked: "1.5"))])]),
            "l": .l([.s("a"), .n(DynamoNumber(1)), .bool(true)]),
            "ss": .ss(["a\(i)", "b"]),
            "ns": .ns([DynamoNumber(1), DynamoNumber(i + 2)]),
            "bs": .bs([[1, 2], [3, UInt8(i % 200) + 4]]),
        ]
        if sortKey { item["sk"] = .n(DynamoNumber(i % 5)) }
        return item
    }
}

/// Every item of a table, by full scan.
public func scanAll(_ client: DynamoDBClient, _ table: String, limit: Int? = nil) async throws -> [Item] {
    var items: [Item] = []
    var start: Item?
    repeat {
        let page = try await client.scan(ScanInput(table: table, limit: limit, exclusiveStartKey: start))
        items += page.items
        start = page.lastEvaluatedKey
    } while start != nil
    return items
}

/// Items by `pk` (and `sk`); keys compare by bytes, as DynamoDB's do ("é" and "e\u{301}" are two keys).
public func byKey(_ items: [Item]) -> [AttributeName: Item] {
    Dictionary(
        items.map { item -> (AttributeName, Item) in
            var key = ""
            if case .s(let pk)? = item["pk"] { key = pk }
            if case .n(let sk)? = item["sk"] { key += "#" + sk.canonical }
            return (AttributeName(key), item)
        }, uniquingKeysWith: { a, _ in a })
}

/// Writes items in batches of 25, resending UnprocessedItems.
public func writeAll(_ client: DynamoDBClient, _ table: String, _ items: [Item]) async throws {
    var start = 0
    while start < items.count {
        var pending = Array(items[start..<min(start + 25, items.count)]).map { WriteRequest.put($0) }
        while !pending.isEmpty {
            let output = try await client.batchWriteItem([table: pending])
            pending = output.unprocessedItems[table] ?? []
        }
        start += 25
    }
}
