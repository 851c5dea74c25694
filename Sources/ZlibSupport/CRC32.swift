// ZlibSupport: CRC32 and gzip streams through the system zlib.
import CZlib

/// CRC-32 (the checksum DynamoDB sends as `x-amz-crc32`).
public enum CRC32 {
    /// The CRC-32 of `bytes` (IEEE polynomial, as zlib, gzip and DynamoDB compute it).
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        update(0, bytes)
    }

    /// The CRC-32 of the bytes in `buffer`.
    public static func checksum(_ buffer: UnsafeRawBufferPointer) -> UInt32 {
        update(0, buffer)
    }

    /// Continues `crc` (the checksum of the bytes so far; 0 to start) over `bytes`.
    public static func update(_ crc: UInt32, _ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { update(crc, $0) }
    }

    /// Continues `crc` (the checksum of the bytes so far; 0 to start) over the bytes in `buffer`.
    public static func update(_ crc: UInt32, _ buffer: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = buffer.baseAddress, !buffer.isEmpty else { return crc }
        // crc32_z takes a size_t length, so buffers over 4 GiB need no splitting.
        let result = crc32_z(uLong(crc), base.assumingMemoryBound(to: Bytef.self), buffer.count)
        return UInt32(truncatingIfNeeded: result)
    }
}
