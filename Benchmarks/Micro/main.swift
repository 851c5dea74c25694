// Micro benchmarks: codec, signer, CRC32. Run with scripts/bench.sh.
print("not yet")
