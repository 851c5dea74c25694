// A steady write load inside the server, for following benchmarks: the application that keeps writing to a
// source while `migrate --follow` copies and follows it. Runs on its own thread at a fixed rate for a fixed
// time, then stops by itself; every write goes through the same table code as a client's, so each one is a
// stream record.
import DynamoCore
import Foundation

struct WriteLoad: Sendable {
    /// Changes per second per table.
    var rate: Int
    /// How long the load runs.
    var seconds: Double

    /// Starts the load on `table` (seeded with `items` items by ``Seeder``) on a thread of its own.
    ///
    /// Each change is, in a fixed pseudo-random order: 8 in 10 a MODIFY of one of the first half of the seeded
    /// items (its `rev` attribute counts the load's writes), 1 in 10 an INSERT of a new `load-<n>` item, 1 in 10
    /// a REMOVE of the next item of the second half (a MODIFY once none is left). Every change therefore
    /// changes the table: exactly `rate × seconds` stream records. Prints one line when done.
    func start(on table: Table, items: Int) {
        let thread = Thread {
            var state: UInt64 = 0x2545_F491_4F6C_DD1D
            var written = 0, inserted = 0, deleted = 0
            let total = Int((Double(rate) * seconds).rounded())
            let started = Date()
            let half = max(1, items / 2)
            while written < total {
                // Pace: the writes due by now, in 10 ms steps.
                let due = min(total, Int(Date().timeIntervalSince(started) * Double(rate)) + 1)
                if written >= due {
                    Thread.sleep(forTimeInterval: 0.01)
                    continue
                }
                table.lock.lock()
                while written < due {
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    let roll = Int(state >> 60) % 10
                    if roll == 0 {
                        let key = String(format: "load-%09d", inserted)
                        inserted += 1
                        Self.put(table, ["pk": .s(key), "rev": .n(DynamoNumber(written)), "origin": .s("write-load")])
                    } else if roll == 1 && half + deleted < items {
                        let key = String(format: "item-%09d", half + deleted)
                        deleted += 1
                        if let position = try? table.position(of: ["pk": .s(key)], exact: true) { table.delete(position) }
                    } else {
                        let key = String(format: "item-%09d", Int((state >> 20) % UInt64(half)))
                        if let position = try? table.position(of: ["pk": .s(key)], exact: true), let current = table.get(position),
                            var item = try? JSONReader.parseItem(current.bytes)
                        {
                            item["rev"] = .n(DynamoNumber(written))
                            Self.put(table, item)
                        }
                    }
                    written += 1
                }
                table.lock.unlock()
            }
            FileHandle.standardError.write(
                Data(
                    String(
                        format: "write load on %@ done: %d changes (%d inserts, %d removals) in %.1f s\n", table.name, written, inserted, deleted,
                        Date().timeIntervalSince(started)
                    ).utf8))
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Stores an item (callers hold the table's lock).
    static func put(_ table: Table, _ item: Item) {
        var writer = JSONWriter(capacity: 512)
        writer.item(item)
        guard let position = try? table.position(of: item, exact: false) else { return }
        table.put(StoredItem(hash: position.hash, key: position.key, bytes: writer.bytes, size: dynamoDBItemSize(item)))
    }
}
