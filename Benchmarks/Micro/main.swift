// Micro benchmarks: codec, signer, CRC32 and gzip. Run with scripts/bench.sh (release build).
import Foundation

/// One measured figure.
typealias BenchmarkResult = (name: String, value: Double, unit: String)

func printSetup() {
    let info = ProcessInfo.processInfo
    print("dynamo-migrate micro benchmarks")
    print("  date:    \(Date().ISO8601Format())")
    print("  host:    \(info.hostName), \(info.activeProcessorCount) cores, \(info.physicalMemory / 1_073_741_824) GiB")
    print("  os:      \(info.operatingSystemVersionString)")
    #if DEBUG
    print("  build:   DEBUG (numbers are not representative: use -c release)")
    #else
    print("  build:   release")
    #endif
    print("")
}

let suites: [(String, () -> [BenchmarkResult])] = [
    ("codec", CodecBenchmarks.run),
    ("signer", SignerBenchmarks.run),
    ("checksum", ChecksumBenchmarks.run),
    ("zlib", ZlibBenchmarks.run),
]

let only = Set(CommandLine.arguments.dropFirst())
printSetup()
var rows: [(String, BenchmarkResult)] = []
for (suite, run) in suites where only.isEmpty || only.contains(suite) {
    for result in run() { rows.append((suite, result)) }
}
let nameWidth = max(9, rows.map(\.1.name.count).max() ?? 0)
print("SUITE   " + "BENCHMARK".padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "        VALUE  UNIT")
for (suite, result) in rows {
    let value = String(format: "%12.2f", result.value)
    print(
        suite.padding(toLength: 8, withPad: " ", startingAt: 0) + result.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + " " + value + "  "
            + result.unit)
}
