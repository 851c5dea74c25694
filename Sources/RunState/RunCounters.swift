/// The item and byte counts every part of a run keeps: a page in flight, a `Segment`'s checkpointed
/// progress, a source's report line, a run's totals and the live statistics. One type, added with `+`,
/// so a count added in one place cannot be forgotten in another.
///
/// Encoded flat (`itemsRead`, `itemsWritten`, ...): the keys checkpoints and reports have always had.
public struct RunCounters: Sendable, Equatable, Hashable, Codable {
    /// Items the Scan returned.
    public var itemsRead = 0
    /// Items put into the target.
    public var itemsWritten = 0
    /// Items a mapping filter left out.
    public var itemsFiltered = 0
    /// Items that failed a transform or a check, written to the dead-letter file.
    public var itemsDeadLettered = 0
    /// Items whose key was already in the target, left as they were by the conflict policy.
    public var itemsKeptExisting = 0
    /// Bytes of the Scan answers.
    public var bytesRead = 0

    public init(
        itemsRead: Int = 0, itemsWritten: Int = 0, itemsFiltered: Int = 0, itemsDeadLettered: Int = 0,
        itemsKeptExisting: Int = 0, bytesRead: Int = 0
    ) {
        self.itemsRead = itemsRead; self.itemsWritten = itemsWritten; self.itemsFiltered = itemsFiltered
        self.itemsDeadLettered = itemsDeadLettered; self.itemsKeptExisting = itemsKeptExisting; self.bytesRead = bytesRead
    }

    public static let zero = RunCounters()

    /// Field by field.
    public static func + (lhs: RunCounters, rhs: RunCounters) -> RunCounters {
        RunCounters(
            itemsRead: lhs.itemsRead + rhs.itemsRead, itemsWritten: lhs.itemsWritten + rhs.itemsWritten,
            itemsFiltered: lhs.itemsFiltered + rhs.itemsFiltered,
            itemsDeadLettered: lhs.itemsDeadLettered + rhs.itemsDeadLettered,
            itemsKeptExisting: lhs.itemsKeptExisting + rhs.itemsKeptExisting,
            bytesRead: lhs.bytesRead + rhs.bytesRead)
    }

    public static func += (lhs: inout RunCounters, rhs: RunCounters) { lhs = lhs + rhs }
}

extension Sequence {
    /// The sum of the counters of every element.
    public func sum(_ counters: (Element) throws -> RunCounters) rethrows -> RunCounters {
        try reduce(into: RunCounters.zero) { $0 += try counters($1) }
    }
}
