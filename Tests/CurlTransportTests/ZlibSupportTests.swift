// ZlibSupport: CRC32 vectors, gzip round trips, interoperability with the gzip tool, damaged input.
import Foundation
import Testing
import ZlibSupport

/// Runs a tool with its standard input from `input` (a file) and returns its standard output and exit status.
private func run(_ arguments: [String], inputFile: URL? = nil) throws -> (output: [UInt8], status: Int32) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    if let inputFile { process.standardInput = try FileHandle(forReadingFrom: inputFile) }
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ([UInt8](data), process.terminationStatus)
}

private func temporaryFile(_ bytes: [UInt8]) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("dm-zlib-\(UUID().uuidString)")
    try Data(bytes).write(to: url)
    return url
}

/// Deterministic test data: random bytes, or text-like bytes that compress well.
private func sampleData(count: Int, compressible: Bool, seed: UInt64) -> [UInt8] {
    var state = seed &+ 0x9E37_79B9_7F4A_7C15
    var bytes = [UInt8]()
    bytes.reserveCapacity(count)
    let words = Array("item attribute value partition sort key table ".utf8)
    while bytes.count < count {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        if compressible {
            let start = Int(state >> 58) % words.count
            bytes.append(contentsOf: words[start...].prefix(count - bytes.count))
        } else {
            bytes.append(UInt8(truncatingIfNeeded: state >> 33))
        }
    }
    return bytes
}

/// Feeds `bytes` through `body` in chunks of varying sizes.
private func chunked(_ bytes: [UInt8], _ body: (ArraySlice<UInt8>) throws -> Void) rethrows {
    let sizes = [1, 7, 4096, 65_537, 300_000]
    var offset = 0, turn = 0
    while offset < bytes.count {
        let size = min(sizes[turn % sizes.count], bytes.count - offset)
        try body(bytes[offset..<offset + size])
        offset += size; turn += 1
    }
}

@Suite struct CRC32Tests {
    @Test func knownVectors() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
        #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
        #expect(CRC32.checksum(Array("hello".utf8)) == 907_060_870)
    }

    @Test func incrementalAndBufferFormsAgree() {
        let data = sampleData(count: 100_003, compressible: false, seed: 1)
        var crc: UInt32 = 0
        chunked(data) { crc = CRC32.update(crc, Array($0)) }
        #expect(crc == CRC32.checksum(data))
        #expect(data.withUnsafeBytes { CRC32.checksum($0) } == CRC32.checksum(data))
        let split = 12_345
        let first = data[..<split].withUnsafeBytes { CRC32.checksum($0) }
        #expect(data[split...].withUnsafeBytes { CRC32.update(first, $0) } == CRC32.checksum(data))
        #expect(CRC32.update(0x1234_5678, []) == 0x1234_5678)
    }
}

@Suite struct GzipTests {
    @Test(arguments: [0, 1, 6, 9])
    func roundTripsInChunksAtEachLevel(level: Int) throws {
        for (count, compressible) in [(0, false), (1, false), (200_000, false), (1_000_000, true)] {
            let data = sampleData(count: count, compressible: compressible, seed: UInt64(count + level))
            let writer = try GzipWriter(level: level)
            var compressed: [UInt8] = []
            try chunked(data) { slice in
                try slice.withUnsafeBytes { try writer.write($0, into: &compressed) }
            }
            try writer.finish(into: &compressed)
            if compressible && level > 0 { #expect(compressed.count < data.count / 4) }

            let reader = try GzipReader()
            var restored: [UInt8] = []
            try chunked(compressed) { slice in restored += try reader.write(Array(slice)) }
            try reader.finish()
            #expect(restored == data, "level \(level), \(count) bytes")
        }
    }

    @Test func levelOutsideZeroToNineIsRefused() {
        #expect(throws: GzipError.invalidLevel(10)) { try GzipWriter(level: 10) }
        #expect(throws: GzipError.invalidLevel(-1)) { try GzipWriter(level: -1) }
    }

    @Test func writingAfterFinishIsRefused() throws {
        let writer = try GzipWriter()
        _ = try writer.finish()
        #expect(throws: GzipError.alreadyFinished) { try writer.write([1, 2, 3]) }
        let reader = try GzipReader()
        _ = try reader.write(try GzipWriter.compress([1]))
        try reader.finish()
        #expect(throws: GzipError.alreadyFinished) { try reader.write([1]) }
    }

    @Test func gzipToolReadsOurOutput() throws {
        let data = sampleData(count: 300_000, compressible: true, seed: 7)
        let file = try temporaryFile(try GzipWriter.compress(data, level: 6))
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try run(["gzip", "-dc"], inputFile: file)
        #expect(result.status == 0)
        #expect(result.output == data)
    }

    @Test func weReadGzipToolOutputIncludingConcatenatedMembers() throws {
        let first = sampleData(count: 250_000, compressible: false, seed: 3)
        let second = sampleData(count: 100_000, compressible: true, seed: 4)
        let firstFile = try temporaryFile(first), secondFile = try temporaryFile(second)
        defer { try? FileManager.default.removeItem(at: firstFile); try? FileManager.default.removeItem(at: secondFile) }
        let firstGzip = try run(["gzip", "-c", "-9"], inputFile: firstFile)
        let secondGzip = try run(["gzip", "-c", "-1"], inputFile: secondFile)
        #expect(firstGzip.status == 0 && secondGzip.status == 0)
        #expect(try GzipReader.decompress(firstGzip.output) == first)
        // `cat a.gz b.gz` is one valid gzip file holding a then b.
        #expect(try GzipReader.decompress(firstGzip.output + secondGzip.output) == first + second)
        #expect(try GzipReader.decompress(try GzipWriter.compress(first) + GzipWriter.compress(second)) == first + second)
    }

    @Test func damagedInputIsReported() throws {
        let data = sampleData(count: 50_000, compressible: true, seed: 9)
        let compressed = try GzipWriter.compress(data)

        #expect(throws: GzipError.corruptData(reason: "incorrect header check")) {
            try GzipReader.decompress(Array("this is not gzip".utf8))
        }
        var badTrailer = compressed
        badTrailer[badTrailer.count - 6] ^= 0xFF  // inside the CRC32 of the trailer
        #expect(throws: GzipError.corruptData(reason: "incorrect data check")) { try GzipReader.decompress(badTrailer) }
        var badLength = compressed
        badLength[badLength.count - 1] ^= 0x01  // the ISIZE field
        #expect(throws: GzipError.corruptData(reason: "incorrect length check")) { try GzipReader.decompress(badLength) }

        var badBody = compressed
        for index in stride(from: 20, to: badBody.count - 8, by: 97) { badBody[index] ^= 0x5A }
        #expect { try GzipReader.decompress(badBody) } throws: { error in
            if case .corruptData = error as? GzipError { return true }
            return false
        }

        #expect(throws: GzipError.truncated) { try GzipReader.decompress(Array(compressed.dropLast(100))) }
        #expect(throws: GzipError.truncated) { try GzipReader.decompress([]) }
        // A complete member followed by the start of another one is truncated too.
        #expect(throws: GzipError.truncated) { try GzipReader.decompress(compressed + compressed.prefix(15)) }
    }
}
