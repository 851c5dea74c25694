// Micro benchmarks: codec, signer, CRC32. Run with scripts/bench.sh.
for result in SignerBenchmarks.run() { print("\(result.name)\t\(String(format: "%.2f", result.value))\t\(result.unit)") }
