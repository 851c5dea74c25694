/// A bucket and a key (or key prefix): `s3://bucket/prefix`.
public struct S3Location: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var bucket: String
    /// The key, or the prefix, without a leading slash; may be empty (the bucket's root).
    public var key: String

    public init(bucket: String, key: String) {
        self.bucket = bucket
        var key = key
        while key.hasPrefix("/") { key.removeFirst() }
        self.key = key
    }

    /// Whether `text` is an `s3://` URL (and so not a local path).
    public static func isS3URL(_ text: String) -> Bool { text.lowercased().hasPrefix("s3://") }

    /// Parses `s3://bucket[/key]`; the error says what is wrong with the text.
    public init(parsing text: String) throws(S3Error) {
        guard Self.isS3URL(text) else { throw .invalidRequest("\(text) is not an s3:// URL (expected s3://bucket/prefix)") }
        let rest = text.dropFirst(5)
        let bucket = rest.prefix { $0 != "/" }
        guard !bucket.isEmpty else { throw .invalidRequest("\(text) names no bucket (expected s3://bucket/prefix)") }
        if let reason = Self.bucketNameProblem(String(bucket)) {
            throw .invalidRequest("\(text): \"\(bucket)\" is not a valid S3 bucket name: \(reason)")
        }
        self.init(bucket: String(bucket), key: String(rest.dropFirst(bucket.count)))
    }

    /// Why `name` is not a valid bucket name (S3's general-purpose bucket rules), or nil.
    public static func bucketNameProblem(_ name: String) -> String? {
        guard (3...63).contains(name.count) else { return "it must be 3 to 63 characters long" }
        guard name.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2D }) else {
            return "only lowercase letters, digits, dots and hyphens are allowed"
        }
        guard let first = name.utf8.first, let last = name.utf8.last,
            first != 0x2E && first != 0x2D, last != 0x2E && last != 0x2D
        else { return "it must begin and end with a letter or digit" }
        if name.contains("..") { return "it must not contain two dots in a row" }
        return nil
    }

    /// This location with `component` appended after a `/` (none doubled).
    public func appending(_ component: String) -> S3Location {
        if key.isEmpty { return S3Location(bucket: bucket, key: component) }
        return S3Location(bucket: bucket, key: key.hasSuffix("/") ? key + component : key + "/" + component)
    }

    public var description: String { key.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(key)" }
}
