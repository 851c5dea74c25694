// Provisioned throughput: token buckets per table and side, counted and throttled as DynamoDB does.
import Foundation

/// The server's `--read-capacity`/`--write-capacity`: the capacity every table gets (nil: unlimited).
struct ProvisionedCapacity: Sendable {
    var readUnitsPerSecond: Double?
    var writeUnitsPerSecond: Double?
    /// Unused capacity a table banks, in seconds of its rate (DynamoDB keeps up to 300 s: burst capacity).
    var burstSeconds: Double = 300

    var isLimited: Bool { readUnitsPerSecond != nil || writeUnitsPerSecond != nil }

    /// What DescribeTable reports for a side with no limit: DynamoDB's default per-table quota.
    static let unlimitedUnits = 40_000
}

/// One side (reads or writes) of one table's provisioned throughput: a token bucket filled at
/// `unitsPerSecond` that banks at most `burstSeconds` (at least one second) of unused capacity.
///
/// A new bucket holds one second of capacity and no banked burst, so a benchmark against a table just
/// created or seeded measures the sustained rate, not capacity banked while it sat idle.
final class CapacityBucket: @unchecked Sendable {
    let unitsPerSecond: Double
    let maxTokens: Double
    private var tokens: Double
    private var last: ContinuousClock.Instant
    private let lock = NSLock()

    init(unitsPerSecond: Double, burstSeconds: Double) {
        self.unitsPerSecond = unitsPerSecond
        self.maxTokens = unitsPerSecond * max(1, burstSeconds)
        self.tokens = unitsPerSecond
        self.last = .now
    }

    private func refill() {
        let now = ContinuousClock.now
        let elapsed = now - last
        last = now
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        tokens = min(maxTokens, tokens + seconds * unitsPerSecond)
    }

    /// Takes `units` if the bucket holds them all (a write is admitted only when its units are there).
    func take(_ units: Double) -> Bool {
        lock.lock(); defer { lock.unlock() }
        refill()
        guard tokens >= units else { return false }
        tokens -= units
        return true
    }

    /// Whether a read may start: DynamoDB lets a read in while the bucket is not empty and charges what it
    /// read afterwards (``charge(_:)``), so one large Scan page can leave the bucket in debt.
    func admitsRead() -> Bool {
        lock.lock(); defer { lock.unlock() }
        refill()
        return tokens > 0
    }

    /// Charges units already consumed (reads), possibly below zero.
    func charge(_ units: Double) {
        lock.lock(); defer { lock.unlock() }
        refill()
        tokens -= units
    }
}

/// A table's provisioned throughput, when the server has one.
struct TableCapacity: Sendable {
    var read: CapacityBucket?
    var write: CapacityBucket?

    init(_ capacity: ProvisionedCapacity) {
        read = capacity.readUnitsPerSecond.map { CapacityBucket(unitsPerSecond: $0, burstSeconds: capacity.burstSeconds) }
        write = capacity.writeUnitsPerSecond.map { CapacityBucket(unitsPerSecond: $0, burstSeconds: capacity.burstSeconds) }
    }

    /// Write capacity units of an item: one per started KB.
    static func writeUnits(itemSize: Int) -> Double { Double(max(1, (itemSize + 1023) / 1024)) }

    /// Read capacity units of `bytes` read in one call: one per started 4 KB (at least one), half of that
    /// when the read is eventually consistent. A Scan or Query counts the size of all items it read together.
    static func readUnits(bytes: Int, consistent: Bool) -> Double {
        let units = Double(max(1, (bytes + 4095) / 4096))
        return consistent ? units : units / 2
    }

    /// DynamoDB's answer when a table has no capacity left for a call.
    static let exceeded = APIError(
        type: "ProvisionedThroughputExceededException",
        message:
            "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API."
    )
}
