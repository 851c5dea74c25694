import Crypto
import DynamoClient
import DynamoCore
import Foundation
import RunState

extension TableChecksum {
    /// An empty checksum in the current canonical encoding (``CanonicalEncoding/format``).
    public init() { self.init(format: CanonicalEncoding.format) }
}

/// Computes item digests for one key schema, reusing its buffers (one per task).
public struct ItemHasher: Sendable {
    public let keySchema: KeySchema
    var buffer: [UInt8] = []
    var keyBuffer: [UInt8] = []

    public init(keySchema: KeySchema) {
        self.keySchema = keySchema
        buffer.reserveCapacity(4096)
        keyBuffer.reserveCapacity(256)
    }

    /// The full SHA-256 of an item's canonical bytes.
    public static func sha256(of item: Item) -> [UInt8] {
        Array(SHA256.hash(data: CanonicalEncoding.bytes(of: item)))
    }

    /// The bucket of a primary key (given as an item holding just the key attributes).
    public static func bucket(ofKey key: Item) -> UInt8 {
        CanonicalEncoding.bytes(of: key).withUnsafeBytes { bucket(ofKeyBytes: $0) }
    }

    /// The bucket of a primary key given as its canonical bytes.
    public static func bucket(ofKeyBytes keyBytes: UnsafeRawBufferPointer) -> UInt8 {
        SHA256.hash(data: keyBytes).withUnsafeBytes { $0[0] }
    }

    /// The canonical bytes of the item's primary key, or nil when a key attribute is missing.
    public func keyBytes(of item: Item) -> [UInt8]? {
        guard let key = keySchema.key(of: item) else { return nil }
        return CanonicalEncoding.bytes(of: key)
    }

    /// The item's digest, or nil when it lacks a key attribute.
    public mutating func digest(_ item: Item) -> ItemDigest? {
        guard let key = keySchema.key(of: item) else { return nil }
        keyBuffer.removeAll(keepingCapacity: true)
        CanonicalEncoding.append(key, to: &keyBuffer)
        return digest(item, keyBytes: keyBuffer)
    }

    /// The item's digest when its key's canonical bytes are already known.
    public mutating func digest(_ item: Item, keyBytes: [UInt8]) -> ItemDigest {
        buffer.removeAll(keepingCapacity: true)
        CanonicalEncoding.append(item, to: &buffer)
        let hash = buffer.withUnsafeBytes { raw in
            SHA256.hash(data: raw).withUnsafeBytes { Hash128(prefixOf: $0) }
        }
        let bucket = keyBytes.withUnsafeBytes { Self.bucket(ofKeyBytes: $0) }
        return ItemDigest(hash: hash, canonicalBytes: buffer.count, bucket: bucket)
    }
}
