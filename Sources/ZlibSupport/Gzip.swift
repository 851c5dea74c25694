// Streaming gzip compression and decompression through zlib (RFC 1952 framing, windowBits 31).
import CZlib

/// Why a gzip stream could not be written or read.
public enum GzipError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Compression levels run from 0 (store) to 9 (smallest).
    case invalidLevel(Int)
    /// The input is not gzip data, or it is damaged (bad header, bad deflate data, bad CRC or length).
    case corruptData(reason: String)
    /// The input ended inside a gzip member, or held no member at all.
    case truncated
    /// `write` or `finish` was called after `finish`.
    case alreadyFinished
    /// zlib could not allocate memory.
    case outOfMemory
    /// Any other zlib failure, with zlib's code and message.
    case zlib(code: Int32, reason: String)

    public var description: String {
        switch self {
        case .invalidLevel(let level): "gzip level \(level) is not between 0 and 9"
        case .corruptData(let reason): "the gzip data is damaged: \(reason)"
        case .truncated: "the gzip data ends before its last member is complete"
        case .alreadyFinished: "the gzip stream was already finished"
        case .outOfMemory: "zlib ran out of memory"
        case .zlib(let code, let reason): "zlib failed (code \(code)): \(reason)"
        }
    }
}

/// zlib takes lengths as 32-bit `uInt`; feed it at most this much per call.
private let maxChunk = 1 << 30
/// Size of the scratch buffer zlib writes into before it is appended to the caller's output.
private let scratchSize = 64 * 1024

private func zlibMessage(_ stream: UnsafeMutablePointer<z_stream>, _ code: Int32) -> String {
    if let msg = stream.pointee.msg { return String(cString: msg) }
    return String(cString: zError(code))
}

/// A streaming gzip compressor: feed it bytes with `write`, end it with `finish`.
///
/// Not thread-safe: use one writer from one task at a time.
public final class GzipWriter {
    // zlib keeps a pointer back to its z_stream, so the stream must never move: keep it on the heap.
    private let stream: UnsafeMutablePointer<z_stream>
    private let scratch: UnsafeMutablePointer<UInt8>
    private var finished = false

    /// A compressor at `level` 0 (store only) to 9 (smallest output); 6 is zlib's default balance.
    public init(level: Int = 6) throws(GzipError) {
        guard (0...9).contains(level) else { throw .invalidLevel(level) }
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        scratch = .allocate(capacity: scratchSize)
        let code = dm_deflateInit2(stream, Int32(level), Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY)
        guard code == Z_OK else {
            stream.deinitialize(count: 1); stream.deallocate(); scratch.deallocate()
            throw code == Z_MEM_ERROR ? .outOfMemory : .zlib(code: code, reason: String(cString: zError(code)))
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
        scratch.deallocate()
    }

    /// Compresses `bytes` and returns the compressed output produced so far (often empty: zlib buffers).
    public func write(_ bytes: [UInt8]) throws(GzipError) -> [UInt8] {
        try collectOutput(of: bytes) { buffer, output throws(GzipError) in try write(buffer, into: &output) }
    }

    /// Compresses the bytes in `buffer`, appending compressed output to `output`.
    public func write(_ buffer: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(GzipError) {
        guard !finished else { throw .alreadyFinished }
        try feed(buffer, into: stream) { () throws(GzipError) in try run(flush: Z_NO_FLUSH, into: &output) }
    }

    /// Ends the stream and returns the remaining compressed output, including the gzip trailer.
    public func finish() throws(GzipError) -> [UInt8] {
        var output: [UInt8] = []
        try finish(into: &output)
        return output
    }

    /// Ends the stream, appending the remaining compressed output and the gzip trailer to `output`.
    public func finish(into output: inout [UInt8]) throws(GzipError) {
        guard !finished else { throw .alreadyFinished }
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
        try run(flush: Z_FINISH, into: &output)
        finished = true
    }

    /// One-shot compression of `bytes` into a single gzip member.
    public static func compress(_ bytes: [UInt8], level: Int = 6) throws(GzipError) -> [UInt8] {
        let writer = try GzipWriter(level: level)
        var output = try writer.write(bytes)
        try writer.finish(into: &output)
        return output
    }

    /// Runs deflate until it has consumed all input (or, for Z_FINISH, written the trailer).
    private func run(flush: Int32, into output: inout [UInt8]) throws(GzipError) {
        while true {
            stream.pointee.next_out = scratch
            stream.pointee.avail_out = uInt(scratchSize)
            let code = deflate(stream, flush)
            let produced = scratchSize - Int(stream.pointee.avail_out)
            if produced > 0 { output.append(contentsOf: UnsafeBufferPointer(start: scratch, count: produced)) }
            switch code {
            case Z_STREAM_END:
                return
            case Z_OK:
                // Output room left over means deflate took all input and has nothing more to give now.
                if flush != Z_FINISH && stream.pointee.avail_in == 0 && stream.pointee.avail_out != 0 { return }
            case Z_BUF_ERROR where flush != Z_FINISH:
                // Only "no progress possible": all input taken and nothing pending.
                return
            case Z_MEM_ERROR:
                throw .outOfMemory
            default:
                throw .zlib(code: code, reason: zlibMessage(stream, code))
            }
        }
    }
}

/// A streaming gzip decompressor: feed it compressed bytes with `write`, end it with `finish`.
///
/// Concatenated gzip members (as `cat a.gz b.gz` makes) decompress to the concatenation of their contents.
/// Not thread-safe: use one reader from one task at a time.
public final class GzipReader {
    private let stream: UnsafeMutablePointer<z_stream>
    private let scratch: UnsafeMutablePointer<UInt8>
    /// True between members: the last member ended and no byte of a next one was seen yet.
    private var atMemberBoundary = true
    /// Whether at least one member was completed.
    private var completedMembers = 0
    private var finished = false

    public init() throws(GzipError) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        scratch = .allocate(capacity: scratchSize)
        let code = dm_inflateInit2(stream, 31)
        guard code == Z_OK else {
            stream.deinitialize(count: 1); stream.deallocate(); scratch.deallocate()
            throw code == Z_MEM_ERROR ? .outOfMemory : .zlib(code: code, reason: String(cString: zError(code)))
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
        scratch.deallocate()
    }

    /// Decompresses `bytes` and returns the plain output produced so far.
    public func write(_ bytes: [UInt8]) throws(GzipError) -> [UInt8] {
        try collectOutput(of: bytes) { buffer, output throws(GzipError) in try write(buffer, into: &output) }
    }

    /// Decompresses the bytes in `buffer`, appending plain output to `output`.
    public func write(_ buffer: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(GzipError) {
        guard !finished else { throw .alreadyFinished }
        try feed(buffer, into: stream) { () throws(GzipError) in try run(into: &output) }
    }

    /// Checks that the input ended cleanly after a complete member; throws `.truncated` otherwise.
    public func finish() throws(GzipError) {
        guard !finished else { throw .alreadyFinished }
        finished = true
        guard atMemberBoundary, completedMembers > 0 else { throw .truncated }
    }

    /// One-shot decompression of a complete gzip file (one or more members).
    public static func decompress(_ bytes: [UInt8]) throws(GzipError) -> [UInt8] {
        let reader = try GzipReader()
        let output = try reader.write(bytes)
        try reader.finish()
        return output
    }

    private func run(into output: inout [UInt8]) throws(GzipError) {
        while stream.pointee.avail_in > 0 || !atMemberBoundary {
            if atMemberBoundary {
                // A next member starts: reuse the stream for it.
                if completedMembers > 0 {
                    let code = inflateReset(stream)
                    guard code == Z_OK else { throw .zlib(code: code, reason: zlibMessage(stream, code)) }
                }
                atMemberBoundary = false
            }
            stream.pointee.next_out = scratch
            stream.pointee.avail_out = uInt(scratchSize)
            let code = inflate(stream, Z_NO_FLUSH)
            let produced = scratchSize - Int(stream.pointee.avail_out)
            if produced > 0 { output.append(contentsOf: UnsafeBufferPointer(start: scratch, count: produced)) }
            switch code {
            case Z_STREAM_END:
                atMemberBoundary = true
                completedMembers += 1
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                // No progress possible: all input consumed, the member continues in a later write.
                return
            case Z_DATA_ERROR, Z_NEED_DICT:
                throw .corruptData(reason: zlibMessage(stream, code))
            case Z_MEM_ERROR:
                throw .outOfMemory
            default:
                throw .zlib(code: code, reason: zlibMessage(stream, code))
            }
        }
    }
}

/// Runs `write` over the bytes of an array and returns what it appended. (`withUnsafeBytes` only
/// rethrows untyped errors, so the typed one is carried out by hand.)
private func collectOutput(
    of bytes: [UInt8],
    _ write: (UnsafeRawBufferPointer, inout [UInt8]) throws(GzipError) -> Void
) throws(GzipError) -> [UInt8] {
    var output: [UInt8] = []
    var failure: GzipError?
    bytes.withUnsafeBytes { buffer in
        do throws(GzipError) { try write(buffer, &output) } catch { failure = error }
    }
    if let failure { throw failure }
    return output
}

/// Feeds `buffer` to `stream` in chunks its 32-bit counters can take, running `step` after each chunk.
private func feed(
    _ buffer: UnsafeRawBufferPointer, into stream: UnsafeMutablePointer<z_stream>,
    _ step: () throws(GzipError) -> Void
) throws(GzipError) {
    guard let base = buffer.baseAddress else { return }
    var offset = 0
    while offset < buffer.count {
        let chunk = min(maxChunk, buffer.count - offset)
        stream.pointee.next_in = UnsafeMutablePointer(mutating: (base + offset).assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(chunk)
        try step()
        offset += chunk
    }
}
