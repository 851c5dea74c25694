// Splitting a BatchWriteItem request for the fault proxy's `unprocessedItems` fault.
import Foundation

/// A BatchWriteItem body split into the part to forward and the part answered as `UnprocessedItems`.
struct BatchWriteSplit {
    /// The request body with only the forwarded write requests; nil when none are left to forward.
    let forwardBody: [UInt8]?
    /// Held-back write requests by table, in their original order and JSON shape.
    let heldBack: [String: [Any]]
    let heldBackCount: Int

    /// How many of a table's `count` write requests are held back.
    static func heldBackCount(of count: Int, fraction: Double) -> Int {
        guard fraction > 0, count > 0 else { return 0 }
        var held = Int((Double(count) * min(fraction, 1)).rounded(.down))
        if held == 0 && count >= 2 { held = 1 }
        return min(held, count)
    }

    /// Nil when `body` is not a BatchWriteItem request with `RequestItems`.
    init?(body: [UInt8], fraction: Double) {
        guard var request = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any],
            let requestItems = request["RequestItems"] as? [String: Any]
        else { return nil }
        var forwarded: [String: Any] = [:]
        var heldBack: [String: [Any]] = [:]
        var heldBackCount = 0
        for (table, value) in requestItems {
            guard let writes = value as? [Any] else { return nil }
            let held = Self.heldBackCount(of: writes.count, fraction: fraction)
            let keep = writes.count - held
            if keep > 0 { forwarded[table] = Array(writes[..<keep]) }
            if held > 0 { heldBack[table] = Array(writes[keep...]) }
            heldBackCount += held
        }
        self.heldBack = heldBack
        self.heldBackCount = heldBackCount
        if forwarded.isEmpty {
            forwardBody = nil
        } else {
            request["RequestItems"] = forwarded
            guard let data = Self.serialize(request) else { return nil }
            forwardBody = data
        }
    }

    /// The upstream's answer with the held-back requests added to its `UnprocessedItems`.
    func merge(intoAnswer body: [UInt8]) -> [UInt8]? {
        guard var answer = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else { return nil }
        var unprocessed = answer["UnprocessedItems"] as? [String: Any] ?? [:]
        for (table, writes) in heldBack {
            unprocessed[table] = (unprocessed[table] as? [Any] ?? []) + writes
        }
        answer["UnprocessedItems"] = unprocessed
        return Self.serialize(answer)
    }

    /// The answer when every write request was held back.
    func unprocessedOnlyAnswer() -> [UInt8] {
        Self.serialize(["UnprocessedItems": heldBack]) ?? Array(#"{"UnprocessedItems":{}}"#.utf8)
    }

    static func serialize(_ object: Any) -> [UInt8]? {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return nil }
        return Array(data)
    }
}
