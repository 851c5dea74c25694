import DynamoClient
import DynamoCore
import RunState
import TableIO

/// Canonical-bytes hashing throughput on one core: encoding alone, and the full per-item digest
/// (encoding, SHA-256 of the item, SHA-256 of its key for the bucket, multiset sum).
enum ChecksumBenchmarks {
    static func run() -> [(name: String, value: Double, unit: String)] {
        let items = sampleItems(2_000)
        let schema = KeySchema(
            partitionKey: KeyAttribute(name: "pk", type: .string),
            sortKey: KeyAttribute(name: "sk", type: .number))
        var bytesPerPass = 0
        for item in items { bytesPerPass += CanonicalEncoding.bytes(of: item).count }

        var buffer: [UInt8] = []
        buffer.reserveCapacity(4096)
        let encodeSeconds = bestSeconds {
            var total = 0
            for item in items {
                buffer.removeAll(keepingCapacity: true)
                CanonicalEncoding.append(item, to: &buffer)
                total &+= buffer.count
            }
            return total
        }
        var hasher = ItemHasher(keySchema: schema)
        let digestSeconds = bestSeconds {
            var checksum = TableChecksum()
            for item in items { checksum.add(hasher.digest(item)!) }
            return checksum.itemCount
        }
        let mib = Double(bytesPerPass) / 1_048_576
        return [
            ("checksum.canonical-encode", mib / encodeSeconds, "MiB/s"),
            ("checksum.item-digest", mib / digestSeconds, "MiB/s"),
            ("checksum.item-digest.items", Double(items.count) / digestSeconds, "items/s"),
            ("checksum.canonical-bytes-per-item", Double(bytesPerPass) / Double(items.count), "bytes"),
        ]
    }

    /// Seconds per pass, best of five runs of at least 0.2 s each.
    static func bestSeconds(_ pass: () -> Int) -> Double {
        var best = Double.infinity
        var sink = 0
        for _ in 0..<5 {
            let clock = ContinuousClock()
            let start = clock.now
            var passes = 0
            var elapsed = Duration.zero
            repeat {
                sink &+= pass()
                passes += 1
                elapsed = clock.now - start
            } while elapsed < .milliseconds(200)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            best = min(best, seconds / Double(passes))
        }
        if sink == 42 { print("") }  // keeps the work from being optimised away
        return best
    }

    /// About 360 canonical bytes per item: every attribute type, mostly short strings and numbers.
    static func sampleItems(_ count: Int) -> [Item] {
        var state: UInt64 = 0x5EED
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        return (0..<count).map { i in
            [
                "pk": .s("customer#\(next() % 1_000_000)"),
                "sk": .n(DynamoNumber(i)),
                "name": .s("Name \(next() % 100_000) Surname"),
                "email": .s("user\(next() % 100_000)@example.com"),
                "balance": .n(DynamoNumber(unchecked: "\(next() % 100_000).\(next() % 100)")),
                "active": .bool(next() % 2 == 0),
                "note": .null,
                "avatar": .b((0..<24).map { _ in UInt8(truncatingIfNeeded: next()) }),
                "address": .m([
                    "street": .s("\(next() % 999) Main Street"), "city": .s("Springfield"),
                    "zip": .s("\(10_000 + next() % 89_999)"),
                ]),
                "tags": .ss(["alpha", "beta", "tag\(next() % 50)"]),
                "scores": .ns([DynamoNumber(Int(next() % 100)), DynamoNumber(Int(next() % 100) + 100)]),
                "history": .l([.n(DynamoNumber(Int(next() % 1000))), .s("created"), .s("updated")]),
            ]
        }
    }
}
