// Micro benchmarks: codec, signer, CRC32. Run with scripts/bench.sh.
for result in CodecBenchmarks.run() {
    print("\(result.name)\t\(result.value)\t\(result.unit)")
}
