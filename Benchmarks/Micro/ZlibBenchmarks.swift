// Micro benchmarks of ZlibSupport: CRC32 and gzip throughput in MiB/s.
import ZlibSupport

enum ZlibBenchmarks {
    /// CRC32 over 64 MiB of random bytes; gzip at levels 1 and 6 over 16 MiB of DynamoDB-JSON-like text.
    static func run() -> [(name: String, value: Double, unit: String)] {
        let random = pseudoRandomBytes(64 * 1024 * 1024)
        let text = jsonLikeBytes(16 * 1024 * 1024)
        var results: [(name: String, value: Double, unit: String)] = []

        var sink: UInt32 = 0
        let crcSeconds = best(of: 5) { sink &+= CRC32.checksum(random) }
        results.append((name: "crc32", value: mebibytes(random.count) / crcSeconds, unit: "MiB/s"))

        for level in [1, 6] {
            var compressedSize = 0
            let seconds = best(of: 3) {
                compressedSize = (try? GzipWriter.compress(text, level: level))?.count ?? 0
            }
            results.append((name: "gzip level \(level)", value: mebibytes(text.count) / seconds, unit: "MiB/s"))
            results.append((name: "gzip level \(level) ratio", value: Double(compressedSize) / Double(text.count), unit: "out/in"))
        }
        if let compressed = try? GzipWriter.compress(text, level: 6) {
            var restored = 0
            let seconds = best(of: 3) { restored = (try? GzipReader.decompress(compressed))?.count ?? 0 }
            if restored == text.count {
                results.append((name: "gunzip", value: mebibytes(text.count) / seconds, unit: "MiB/s (output)"))
            }
        }
        if sink == 1 { print("") }  // keeps the CRC work from being optimised away
        return results
    }

    private static func mebibytes(_ count: Int) -> Double { Double(count) / (1024 * 1024) }

    /// The fastest of `runs` timings, in seconds.
    private static func best(of runs: Int, _ body: () -> Void) -> Double {
        let clock = ContinuousClock()
        var fastest = Double.infinity
        for _ in 0..<runs {
            let elapsed = clock.measure(body)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            fastest = min(fastest, seconds)
        }
        return fastest
    }

    private static func pseudoRandomBytes(_ count: Int) -> [UInt8] {
        var state: UInt64 = 0x243F_6A88_85A3_08D3
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    /// Items in DynamoDB JSON, as a backup file would hold them.
    private static func jsonLikeBytes(_ count: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 256)
        var index = 0
        while bytes.count < count {
            let line =
                #"{"Item":{"pk":{"S":"customer#\#(index % 9973)"},"sk":{"S":"order#\#(index)"},"#
                + #""total":{"N":"\#(index * 37 % 100000).\#(index % 100)"},"status":{"S":"\#(index % 3 == 0 ? "SHIPPED" : "PENDING")"}}}"#
                + "\n"
            bytes.append(contentsOf: line.utf8)
            index += 1
        }
        return Array(bytes.prefix(count))
    }
}
