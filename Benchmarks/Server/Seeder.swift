// Deterministic items generated in the server's own process, so a benchmark's source table fills in seconds.
import DynamoCore
import Foundation

enum Seeder {
    /// Creates `table` (partition key `pk`, on-demand) and fills it with `items` items of about `itemBytes` bytes.
    ///
    /// Item `i` is the same in every run: `pk` "item-<i, 9 digits>", a number, a boolean, a category, a
    /// timestamp in epoch seconds, a small map and a list, and a `payload` string sized to reach `itemBytes`
    /// (by ``dynamoDBItemSize``). Attributes are written in this fixed order.
    /// `firstKey` shifts the keys to `firstKey..<firstKey+items` (the payloads differ from another table's at the same key).
    static func seed(_ store: Store, table name: String, items: Int, itemBytes: Int, firstKey: Int = 0) throws {
        let request = JSON.object([
            "TableName": .string(name),
            "KeySchema": .array([.object(["AttributeName": .string("pk"), "KeyType": .string("HASH")])]),
            "AttributeDefinitions": .array([.object(["AttributeName": .string("pk"), "AttributeType": .string("S")])]),
            "BillingMode": .string("PAY_PER_REQUEST"),
        ])
        _ = try store.createTable(request)
        let table = try store.table(name)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -".utf8)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        table.lock.lock()
        defer { table.lock.unlock() }
        for i in firstKey..<(firstKey + items) {
            var item: Item = [
                "pk": .s(String(format: "item-%09d", i)),
                "seq": .n(DynamoNumber(i)),
                "active": .bool(i % 3 != 0),
                "category": .s("category-\(i % 97)"),
                "createdAt": .n(DynamoNumber(1_700_000_000 + i * 37)),
                "price": .n(DynamoNumber(unchecked: "\(i % 10000).\(i % 100)")),
                "attributes": .m(["color": .s(["red", "green", "blue"][i % 3]), "weight": .n(DynamoNumber(i % 500))]),
                "tags": .l([.s("t\(i % 7)"), .s("t\(i % 11)")]),
            ]
            let base = dynamoDBItemSize(item) + "payload".utf8.count
            var payload = [UInt8](repeating: 0, count: max(1, itemBytes - base))
            for j in payload.indices {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                payload[j] = alphabet[Int(state >> 58)]
            }
            let text = String(decoding: payload, as: UTF8.self)
            item["payload"] = .s(text)
            // Fixed attribute order: the bytes are the same in every run.
            var w = JSONWriter(capacity: itemBytes + 256)
            w.beginObject()
            for attribute in ["pk", "seq", "active", "category", "createdAt", "price", "tags", "payload"] {
                w.key(attribute); w.attributeValue(item[AttributeName(attribute)]!)
            }
            w.key("attributes")
            w.beginObject(); w.key("M"); w.beginObject()
            w.key("color"); w.attributeValue(.s(["red", "green", "blue"][i % 3]))
            w.key("weight"); w.attributeValue(.n(DynamoNumber(i % 500)))
            w.endObject(); w.endObject()
            w.endObject()
            let position = try table.position(of: item, exact: false)
            table.put(StoredItem(hash: position.hash, key: position.key, bytes: w.bytes, size: dynamoDBItemSize(item)))
        }
    }
}
