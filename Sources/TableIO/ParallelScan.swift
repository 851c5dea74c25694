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
            if prefetch {
                async let following = fetchPage(segment: segment, after: next)
                try await body(page)
                page = try await following
            } else {
                try await body(page)
                page = try await fetchPage(segment: segment, after: next)
            }
        }
    }

    /// One Scan call of the page loop, paying the rate limiter: DynamoDB's reported consumed capacity,
    /// else half a unit per 4 KB (eventually consistent reads). Throttling the client retried by itself
    /// still means: read more slowly.
    func fetchPage(segment: Int, after start: Item?) async throws -> ItemPage {
        let throttlesBefore = client.statistics.throttles
        let page = try await client.scan(
            ScanInput(
                table: table, segment: totalSegments > 1 ? segment : nil,
                totalSegments: totalSegments > 1 ? totalSegments : nil, limit: pageLimit,
                exclusiveStartKey: start, consistentRead: consistentRead, returnConsumedCapacity: limiter != nil),
            rawKeyAttributes: rawKeyAttributes)
        if let limiter {
            if client.statistics.throttles > throttlesBefore { limiter.noteThrottle() }
            try await limiter.acquire(page.consumedCapacity ?? Double(max(1, (page.responseBytes + 8191) / 8192)))
        }
        return page
    }
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
