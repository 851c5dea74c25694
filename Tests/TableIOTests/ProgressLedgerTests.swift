import DynamoCore
import RunState
import TableIO
import Testing

@Suite struct ProgressLedgerTests {
    func ledger() -> ProgressLedger {
        let ledger = ProgressLedger(checkpoint: MigrationCheckpoint(planFingerprint: "test"))
        _ = ledger.ensureSource("t/s", source: "s", target: "t", totalSegments: 2)
        return ledger
    }

    func key(_ n: Int) -> Item { ["pk": .s("k\(n)")] }

    @Test func theResumePointOnlyPassesPagesWhoseItemsAreAllWritten() throws {
        let ledger = ledger()
        let pages = (0..<3).map { PageRef(source: "t/s", segment: 0, sequence: $0) }
        for (i, page) in pages.enumerated() {
            ledger.register(page, lastEvaluatedKey: i == 2 ? nil : key(i), writes: 2, counts: RunCounters(itemsRead: 2))
        }
        // Pages 1 and 2 finish before page 0: nothing may be committed yet.
        ledger.acknowledge(pages[1], count: 2)
        ledger.acknowledge(pages[2], count: 2)
        var segment = ledger.snapshot().0.sources["t/s"]!.segments[0]
        #expect(segment.resumeAfterKey == nil)
        #expect(segment.itemsWritten == 0)
        #expect(segment.done == false)

        ledger.acknowledge(pages[0], count: 1)
        segment = ledger.snapshot().0.sources["t/s"]!.segments[0]
        #expect(segment.itemsWritten == 0, "half a page is not progress")

        ledger.acknowledge(pages[0], count: 1)
        segment = ledger.snapshot().0.sources["t/s"]!.segments[0]
        #expect(segment.done)
        #expect(segment.itemsRead == 6)
        #expect(segment.itemsWritten == 6)
        #expect(ledger.snapshot().0.sources["t/s"]!.segments[1].done == false, "other segment untouched")
    }

    @Test func pagesWithoutWritesCommitAtOnceAndKeepTheirCounts() throws {
        let ledger = ledger()
        let page = PageRef(source: "t/s", segment: 1, sequence: 0)
        ledger.register(page, lastEvaluatedKey: key(9), writes: 0, counts: RunCounters(itemsRead: 5, itemsFiltered: 3, itemsDeadLettered: 2))
        let segment = ledger.snapshot().0.sources["t/s"]!.segments[1]
        #expect(try segment.resumeKey() == key(9))
        #expect(segment.itemsFiltered == 3)
        #expect(segment.itemsDeadLettered == 2)
        #expect(segment.done == false)
    }

    @Test func resumeKeysRoundTripEveryKeyType() throws {
        let key: Item = ["pk": .b([0, 1, 255]), "sk": .n(DynamoNumber(unchecked: "-12.50")), "s": .s("ü\"\n")]
        var progress = SegmentProgress(segment: 0)
        progress.resumeAfterKey = SegmentProgress.encodeKey(key)
        #expect(try progress.resumeKey() == key)
    }
}
