// Codec micro benchmark: parse and write throughput of DynamoDB JSON on a ~1 MB Scan page.
import DynamoCore
import Foundation

enum CodecBenchmarks {
    /// A deterministic Scan page of mixed-type items, about `targetBytes` long.
    static func scanPage(targetBytes: Int = 1 << 20) -> [UInt8] {
        var rng = SplitMix64(seed: 42)
        var items: [Item] = []
        var size = 0
        var index = 0
        while size < targetBytes {
            let item = makeItem(index, &rng)
            size += JSONWriter.encode(item: item).count + 1
            items.append(item)
            index += 1
        }
        var writer = JSONWriter(capacity: size + 256)
        writer.beginObject()
        writer.key("Items")
        writer.beginArray()
        for item in items { writer.item(item) }
        writer.endArray()
        writer.key("Count"); writer.int(items.count)
        writer.key("ScannedCount"); writer.int(items.count)
        writer.key("LastEvaluatedKey")
        writer.item(["pk": .s("user#\(index - 1)"), "sk": .n(DynamoNumber(index - 1))])
        writer.endObject()
        return writer.bytes
    }

    static func makeItem(_ i: Int, _ rng: inout SplitMix64) -> Item {
        let words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "Zürich", "東京", "naïve café"]
        func word() -> String { words[Int(rng.next() % UInt64(words.count))] }
        var item: Item = [
            "pk": .s("user#\(i)"),
            "sk": .n(DynamoNumber(i)),
            "name": .s("\(word()) \(word()) \(word())"),
            "email": .s("person\(i)@example.com"),
            "balance": .n(DynamoNumber(unchecked: "\(rng.next() % 1_000_000).\(rng.next() % 100)")),
            "active": .bool(rng.next() % 2 == 0),
            "deleted": .null,
            "avatar": .b((0..<48).map { _ in UInt8(truncatingIfNeeded: rng.next()) }),
            "tags": .ss([word(), word() + "-1", word() + "-2"]),
            "scores": .ns([DynamoNumber(Int(rng.next() % 1000)), DynamoNumber(unchecked: "-3.25"), DynamoNumber(unchecked: "1E+10")]),
            "address": .m([
                "street": .s("\(rng.next() % 999) Main Street"),
                "city": .s(word()),
                "zip": .s(String(rng.next() % 100_000)),
                "geo": .l([.n(DynamoNumber(unchecked: "47.3769")), .n(DynamoNumber(unchecked: "8.5417"))]),
            ]),
            "history": .l((0..<3).map { k in .m(["at": .n(DynamoNumber(1_700_000_000 + k)), "what": .s("login \"web\"\n")]) }),
        ]
        if i % 4 == 0 { item["keys"] = .bs([[1, 2, 3], [4, 5, 6, 7]]) }
        return item
    }

    static func parse(_ page: [UInt8]) throws -> [Item] {
        var reader = JSONReader(page)
        var items: [Item] = []
        try reader.readObject { reader, key in
            switch key {
            case "Items": items = try reader.readItems()
            default: try reader.skipValue()
            }
        }
        try reader.finish()
        return items
    }

    static func run() -> [(name: String, value: Double, unit: String)] {
        let page = scanPage()
        let mib = Double(page.count) / Double(1 << 20)
        let clock = ContinuousClock()
        func seconds(_ d: Duration) -> Double {
            Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        }
        var parseTimes: [Double] = []
        var items: [Item] = []
        for _ in 0..<100 {
            let start = clock.now
            let parsed = (try? parse(page)) ?? []
            parseTimes.append(seconds(clock.now - start))
            items = parsed  // the previous page is freed outside the timed part
        }
        var writeTimes: [Double] = []
        var written = 0
        for _ in 0..<100 {
            let start = clock.now
            var writer = JSONWriter(capacity: page.count + 1024)
            writer.beginObject()
            writer.key("Items")
            writer.beginArray()
            for item in items { writer.item(item) }
            writer.endArray()
            writer.key("Count"); writer.int(items.count)
            writer.endObject()
            written = writer.bytes.count
            writeTimes.append(seconds(clock.now - start))
        }
        // The raw-byte path on the same page: each item walked for its size and key, kept as bytes,
        // then written back into a BatchWriteItem-like body as those bytes.
        var rawTimes: [Double] = []
        var rawItems: [RawItem] = []
        for _ in 0..<100 {
            let start = clock.now
            var reader = JSONReader(page)
            var parsed: [RawItem] = []
            try? reader.readObject { reader, key in
                if key == "Items" {
                    try reader.readArray { r in parsed.append(try r.readRawItem(keyAttributes: ["pk", "sk"])) }
                } else {
                    try reader.skipValue()
                }
            }
            rawTimes.append(seconds(clock.now - start))
            rawItems = parsed
        }
        var rawWriteTimes: [Double] = []
        for _ in 0..<100 {
            let start = clock.now
            var writer = JSONWriter(capacity: page.count + 1024)
            writer.beginObject()
            writer.key("Items")
            writer.beginArray()
            for item in rawItems { writer.rawJSON(item.bytes) }
            writer.endArray()
            writer.endObject()
            rawWriteTimes.append(seconds(clock.now - start))
        }
        // The raw sizes must be DynamoDB's: a benchmark of a wrong answer is no benchmark.
        let sizesAgree = zip(rawItems, items).allSatisfy { $0.size == dynamoDBItemSize($1) } && rawItems.count == items.count
        rawTimes.sort(); rawWriteTimes.sort()
        // Foundation's JSONSerialization on the same page, for scale (generic tree only, no items).
        var foundationTimes: [Double] = []
        let data = Data(page)
        for _ in 0..<5 {
            let start = clock.now
            let tree = try? JSONSerialization.jsonObject(with: data)
            foundationTimes.append(seconds(clock.now - start))
            withExtendedLifetime(tree) {}
        }
        foundationTimes.sort()
        let writtenMiB = Double(written) / Double(1 << 20)
        parseTimes.sort(); writeTimes.sort()
        return [
            (name: "codec.page.bytes", value: Double(page.count), unit: "bytes"),
            (name: "codec.page.items", value: Double(items.count), unit: "items"),
            (name: "codec.parse.median", value: mib / parseTimes[parseTimes.count / 2], unit: "MiB/s"),
            (name: "codec.parse.best", value: mib / parseTimes[0], unit: "MiB/s"),
            (name: "codec.write.median", value: writtenMiB / writeTimes[writeTimes.count / 2], unit: "MiB/s"),
            (name: "codec.write.best", value: writtenMiB / writeTimes[0], unit: "MiB/s"),
            (name: "codec.foundation.parse.median", value: mib / foundationTimes[foundationTimes.count / 2], unit: "MiB/s"),
            (name: "codec.raw.read.median", value: mib / rawTimes[rawTimes.count / 2], unit: "MiB/s"),
            (name: "codec.raw.write.median", value: mib / rawWriteTimes[rawWriteTimes.count / 2], unit: "MiB/s"),
            (name: "codec.raw.sizes-agree", value: sizesAgree ? 1 : 0, unit: "bool"),
        ]
    }
}

/// A tiny deterministic generator so every run measures the same page.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
