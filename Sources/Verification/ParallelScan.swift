import DynamoClient
import DynamoCore

/// Scans a whole table with one parallel scan (`Segment`/`TotalSegments`) and folds each segment's
/// items into a partial result on that segment's own task. Each segment holds at most two pages (the
/// one being folded and the next one being fetched), so memory stays flat whatever the table's size.
public struct ParallelScan: Sendable {
    public let client: DynamoDBClient
    public let table: String
    public let totalSegments: Int
    /// Scan `Limit` per page (nil: DynamoDB's 1 MB pages).
    public let pageLimit: Int?

    public init(client: DynamoDBClient, table: String, totalSegments: Int, pageLimit: Int? = nil) {
        self.client = client
        self.table = table
        self.totalSegments = max(1, totalSegments)
        self.pageLimit = pageLimit
    }

    /// Segments for a table of this size when none are given: one per 128 MiB or per 5,000 items
    /// (DescribeTable's approximate figures), at least 1 and at most 32, as the migrator chooses.
    public static func defaultSegments(for table: TableDescription) -> Int {
        let bySize = table.sizeBytes / (128 << 20)
        let byCount = table.itemCount / 5_000
        return min(32, max(1, bySize, byCount))
    }

    /// Runs the scan. `makePartial` makes each segment's starting state; `fold` is called with each
    /// page's items on that segment's task. Returns the partials in segment order.
    public func run<Partial: Sendable>(
        makePartial: @escaping @Sendable () -> Partial,
        fold: @escaping @Sendable (inout Partial, [Item]) throws -> Void
    ) async throws -> [Partial] {
        try await withThrowingTaskGroup(of: (Int, Partial).self) { group in
            for segment in 0..<totalSegments {
                group.addTask {
                    var partial = makePartial()
                    try await scanSegment(segment) { items in try fold(&partial, items) }
                    return (segment, partial)
                }
            }
            var results: [(Int, Partial)] = []
            for try await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// One segment, page by page; the next page is fetched while the current one is folded.
    func scanSegment(_ segment: Int, _ body: ([Item]) throws -> Void) async throws {
        var page = try await fetch(segment: segment, after: nil)
        while true {
            try Task.checkCancellation()
            guard let next = page.lastEvaluatedKey else {
                try body(page.items)
                return
            }
            async let following = fetch(segment: segment, after: next)
            try body(page.items)
            page = try await following
        }
    }

    func fetch(segment: Int, after start: Item?) async throws -> ItemPage {
        do {
            return try await client.scan(ScanInput(
                table: table, segment: totalSegments > 1 ? segment : nil,
                totalSegments: totalSegments > 1 ? totalSegments : nil,
                limit: pageLimit, exclusiveStartKey: start))
        } catch {
            throw VerificationError.client(error)
        }
    }
}
