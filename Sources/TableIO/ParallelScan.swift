import DynamoClient
import DynamoCore
import RunState

/// A parallel Scan of one table: `totalSegments` segments read concurrently, each paging with
/// `ExclusiveStartKey`. The migrator, checksums and exports all read tables through this.
public struct ParallelScan: Sendable {
    public let client: DynamoDBClient
    public let table: String
    public let totalSegments: Int
    public var pageLimit: Int?
    public var consistentRead: Bool
    public var limiter: RateLimiter?
    /// Segments scanned at the same time; the others wait their turn. Each active segment holds a page
    /// or two in memory, so this bounds memory whatever `totalSegments` is.
    public var maxConcurrentSegments: Int = ParallelScan.defaultConcurrentSegments
    /// When set, pages carry their items as ``ItemPage/rawItems`` with these attributes parsed.
    public var rawKeyAttributes: [AttributeName]?

    /// Enough to keep a client busy; more only adds memory.
    public static let defaultConcurrentSegments = 8

    public init(
        client: DynamoDBClient, table: String, totalSegments: Int, pageLimit: Int? = nil,
        consistentRead: Bool = false, limiter: RateLimiter? = nil
    ) {
        self.client = client
        self.table = table
        self.totalSegments = max(1, totalSegments)
        self.pageLimit = pageLimit
        self.consistentRead = consistentRead
        self.limiter = limiter
    }

    /// Segments to use for a table: one per 128 MB or 5,000 items (DescribeTable's approximate
    /// figures), between 1 and 32.
    public static func defaultSegments(for table: TableDescription) -> Int {
        min(32, max(1, table.sizeBytes / (128 << 20), table.itemCount / 5_000))
    }

    /// Calls `body` with every page, segments in parallel (so `body` runs concurrently and must be
    /// thread-safe); pages of one segment arrive in order. Returning normally from `body` asks for the
    /// next page. `startKeys` resumes segments after the given keys.
    public func forEachPage(
        startKeys: [Int: Item] = [:], segments: [Int]? = nil,
        _ body: @escaping @Sendable (_ segment: Int, _ page: ItemPage) async throws -> Void
    ) async throws {
        let chosen = segments ?? Array(0..<totalSegments)
        try await withThrowingTaskGroup(of: Void.self) { group in
            var started = 0
            for segment in chosen {
                if started >= max(1, maxConcurrentSegments) { try await group.next() }
                started += 1
                group.addTask {
                    try await scanSegment(segment, from: startKeys[segment], prefetch: false) { page in
                        try await body(segment, page)
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Runs the scan, folding each segment's pages into a partial result on that segment's own task;
    /// returns the partials in segment order. Each segment holds at most two pages (the one being folded
    /// and the next one being fetched), so memory stays flat whatever the table's size.
    public func run<Partial: Sendable>(
        makePartial: @escaping @Sendable () -> Partial,
        fold: @escaping @Sendable (inout Partial, [Item]) throws -> Void
    ) async throws -> [Partial] {
        try await withThrowingTaskGroup(of: (Int, Partial).self) { group in
            var results: [(Int, Partial)] = []
            for segment in 0..<totalSegments {
                if segment >= max(1, maxConcurrentSegments), let result = try await group.next() { results.append(result) }
                group.addTask {
                    var partial = makePartial()
                    try await scanSegment(segment, from: nil, prefetch: true) { page in try fold(&partial, page.items) }
                    return (segment, partial)
                }
            }
            for try await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// The one page loop: segment `segment` page by page from `start` (nil: the beginning), each page
    /// handed to `body` in order. With `prefetch` the next page is fetched while `body` works on the
    /// current one (checksums: two pages in memory per segment); without it the next page is asked for
    /// only once `body` returns (the migrator: its bounded queue is the backpressure).
    func scanSegment(
        _ segment: Int, from start: Item?, prefetch: Bool,
        _ body: (ItemPage) async throws -> Void
    ) async throws {
        var keys = SegmentKeys(table: table, segment: segment, totalSegments: totalSegments, start: start)
        var page = try await fetchPage(segment: segment, after: start)
        while true {
            try Task.checkCancellation()
            guard let next = try keys.next(after: page) else {
                try await body(page)
                return
            }
            // The next page will cost about what this one did.
            let estimate = page.consumedCapacity ?? Self.readUnits(responseBytes: page.responseBytes)
            if prefetch {
                async let following = fetchPage(segment: segment, after: next, estimate: estimate)
                try await body(page)
                page = try await following
            } else {
                try await body(page)
                page = try await fetchPage(segment: segment, after: next, estimate: estimate)
            }
        }
    }

    /// One Scan call of the page loop, paced by the rate limiter when there is one: the units are paid
    /// before the call (estimated from the segment's previous page, `estimate`), the difference to what
    /// DynamoDB reports consumed (else half a unit per 4 KB, eventually consistent reads) settled after it.
    /// A throttled Scan comes back to us at once (the client does not retry it on its own), cuts the
    /// limiter's rate, and is sent again when the limiter allows.
    func fetchPage(segment: Int, after start: Item?, estimate known: Double? = nil) async throws -> ItemPage {
        let input = ScanInput(
            table: table, segment: totalSegments > 1 ? segment : nil,
            totalSegments: totalSegments > 1 ? totalSegments : nil, limit: pageLimit,
            exclusiveStartKey: start, consistentRead: consistentRead, returnConsumedCapacity: limiter != nil)
        guard let limiter else { return try await client.scan(input, rawKeyAttributes: rawKeyAttributes) }
        var throttled = 0
        var random = SystemRandomNumberGenerator()
        while true {
            // A segment's first page, and a page sent again, cost about what the scan's pages cost so far.
            let estimate = max(1, known ?? limiter.averageCost)
            let sentAt = try await limiter.acquire(estimate)
            let page: ItemPage
            do {
                page = try await client.scan(input, rawKeyAttributes: rawKeyAttributes, retriesThrottling: false)
            } catch {
                // A table that never lets a read through in this many tries is an error, not a wait.
                guard error.isThrottling, throttled < Self.maxThrottledScans else { throw error }
                throttled += 1
                // The estimate stays paid: the resend waits for it, about as long as the table needs to
                // pay back the page that left it in debt.
                limiter.note(.throttled, sentAt: sentAt)
                try await client.clock.sleep(for: client.retryPolicy.delay(beforeRetry: throttled, using: &random))
                continue
            }
            let consumed = page.consumedCapacity ?? Self.readUnits(responseBytes: page.responseBytes)
            if consumed > estimate { try await limiter.acquire(consumed - estimate) } else { limiter.refund(estimate - consumed) }
            limiter.record(consumed: consumed)
            return page
        }
    }

    /// Throttled answers in a row after which a Scan gives up (each one cuts the limiter's rate).
    static let maxThrottledScans = 60

    /// Read units of a page when the endpoint does not report them: half a unit per 4 KB of the answer.
    static func readUnits(responseBytes: Int) -> Double { Double(max(1, (responseBytes + 8191) / 8192)) }
}

/// The `LastEvaluatedKey`s one segment has paged through. A Scan only moves forward, so a key seen
/// before (the `ExclusiveStartKey` just sent, or any earlier one) means the endpoint is sending the scan
/// round in a circle: without this check the page loop would never end.
struct SegmentKeys {
    let table: String
    let segment: Int
    let totalSegments: Int
    private var seen: Set<Item> = []

    init(table: String, segment: Int, totalSegments: Int, start: Item?) {
        self.table = table; self.segment = segment; self.totalSegments = totalSegments
        if let start { seen.insert(start) }
    }

    /// Where the page after `page` starts, or nil after the last page.
    /// - Throws: ``ScanError/repeatedLastEvaluatedKey(table:segment:totalSegments:key:)`` for a key seen before.
    mutating func next(after page: ItemPage) throws(ScanError) -> Item? {
        guard let key = page.lastEvaluatedKey else { return nil }
        guard seen.insert(key).inserted else {
            throw .repeatedLastEvaluatedKey(
                table: table, segment: segment, totalSegments: totalSegments,
                key: SegmentProgress.encodeKey(key))
        }
        return key
    }
}

/// A Scan the endpoint answers in a way that cannot be followed.
public enum ScanError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The endpoint sent a `LastEvaluatedKey` it had already sent in this segment (`key` is its DynamoDB JSON).
    case repeatedLastEvaluatedKey(table: String, segment: Int, totalSegments: Int, key: String)

    public var description: String {
        switch self {
        case .repeatedLastEvaluatedKey(let table, let segment, let totalSegments, let key):
            "Scan of table \(table), segment \(segment) of \(totalSegments): the endpoint sent LastEvaluatedKey \(key) "
                + "a second time, so the scan would never end; stopped. The endpoint is not behaving like DynamoDB."
        }
    }
}
