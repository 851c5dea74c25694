// Micro benchmarks: codec, signer, CRC32. Run with scripts/bench.sh.
for result in ZlibBenchmarks.run() {
    print("\(result.name): \((result.value * 1000).rounded() / 1000) \(result.unit)")
}
