import Foundation
import RunState
import Testing

@Suite struct RunCountersTests {
    @Test func addsFieldByField() {
        var a = RunCounters(itemsRead: 10, itemsWritten: 7, itemsFiltered: 1, itemsDeadLettered: 1, itemsKeptExisting: 1, bytesRead: 500)
        let b = RunCounters(itemsRead: 3, itemsWritten: 2, itemsFiltered: 0, itemsDeadLettered: 1, itemsKeptExisting: 0, bytesRead: 42)
        let sum = RunCounters(itemsRead: 13, itemsWritten: 9, itemsFiltered: 1, itemsDeadLettered: 2, itemsKeptExisting: 1, bytesRead: 542)
        #expect(a + b == sum)
        #expect(b + a == sum)
        #expect(a + .zero == a)
        a += b
        #expect(a == sum)
        #expect([a, b, .zero].sum { $0 } == sum + b)
    }

    /// A checkpoint as the tool wrote it before the counters were one type: every count comes back, and
    /// encoding it again gives the same keys.
    @Test func anOldCheckpointStillDecodesWithIdenticalCounts() throws {
        let old = #"""
            {
              "endpoint" : "http://127.0.0.1:8000",
              "planFingerprint" : "abc",
              "sources" : {
                "t/s" : {
                  "segments" : [
                    {
                      "bytesRead" : 1234,
                      "done" : true,
                      "itemsDeadLettered" : 2,
                      "itemsFiltered" : 3,
                      "itemsKeptExisting" : 4,
                      "itemsRead" : 50,
                      "itemsWritten" : 41,
                      "segment" : 0
                    },
                    {
                      "bytesRead" : 99,
                      "done" : false,
                      "itemsDeadLettered" : 0,
                      "itemsFiltered" : 0,
                      "itemsKeptExisting" : 0,
                      "itemsRead" : 5,
                      "itemsWritten" : 5,
                      "resumeAfterKey" : "{\"pk\":{\"S\":\"k-5\"}}",
                      "segment" : 1
                    }
                  ],
                  "source" : "s",
                  "target" : "t",
                  "totalSegments" : 2
                }
              },
              "startedAt" : "2026-11-30T07:00:00Z",
              "updatedAt" : "2026-11-30T07:01:00Z"
            }
            """#
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let checkpoint = try decoder.decode(MigrationCheckpoint.self, from: Data(old.utf8))
        let segments = try #require(checkpoint.sources["t/s"]).segments
        #expect(
            segments[0].counts
                == RunCounters(
                    itemsRead: 50, itemsWritten: 41, itemsFiltered: 3, itemsDeadLettered: 2,
                    itemsKeptExisting: 4, bytesRead: 1234))
        #expect(segments[0].done && segments[0].resumeAfterKey == nil)
        #expect(segments[1].counts == RunCounters(itemsRead: 5, itemsWritten: 5, bytesRead: 99))
        #expect(segments[1].resumeAfterKey == #"{"pk":{"S":"k-5"}}"#)
        #expect(segments.sum(\.counts).itemsRead == 55)

        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        let again = try JSONSerialization.jsonObject(with: try encoder.encode(checkpoint)) as? NSDictionary
        let original = try JSONSerialization.jsonObject(with: Data(old.utf8)) as? NSDictionary
        #expect(again == original)
    }
}
