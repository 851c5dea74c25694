// A mapping source that is an export (ours, or DynamoDB's native one) instead of a live table.
import Foundation

/// `source: { export: s3://bucket/prefix/AWSDynamoDB/<id>, key: pk:S,sk:N }` in a mapping file.
///
/// The export is the source's content: `migrate` reads its data files instead of scanning a table, so a
/// large source costs no read capacity. Our exports record the table's key schema in their summary;
/// DynamoDB's native exports do not, so `key` gives it (and, when both are there, must agree).
public struct ExportSourceSpec: Sendable, Hashable {
    /// The export folder: `s3://bucket/key` or a local path, as written (after `{env}`).
    public var url: String
    /// The source's key schema when written in the mapping (`key: pk:S,sk:N`).
    public var key: KeySchemaSpec?
    /// Where `export:` is written.
    public var location: SourceLocation

    public init(url: String, key: KeySchemaSpec?, location: SourceLocation) {
        self.url = url
        self.key = key
        self.location = location
    }

    /// The mapping keys of an export source besides the connection's.
    static let keys = ["export", "key"]

    /// Why `text` cannot name an export, or nil.
    static func urlProblem(_ text: String) -> String? {
        if text.isEmpty { return "is empty" }
        let lower = text.lowercased()
        if lower.hasPrefix("s3://") {
            let rest = text.dropFirst(5)
            guard let slash = rest.firstIndex(of: "/"), slash != rest.startIndex, rest[rest.index(after: slash)...].contains(where: { $0 != "/" })
            else { return "'\(text)' names no export folder (s3://bucket/prefix/AWSDynamoDB/<export id>)" }
            return nil
        }
        if lower.contains("://") { return "'\(text)' is not an s3:// URL or a local folder" }
        if text.contains("*") || text.contains("?") { return "'\(text)' is a pattern; an export source names one export" }
        return nil
    }
}

/// Why a key schema text cannot be read.
public struct KeySchemaTextError: Error, Sendable, Equatable {
    public var reason: String
}

extension KeySchemaSpec {
    /// `pk:S` or `pk:S,sk:N` (types S, N, B), the CLI's `--key` form.
    public static func parse(_ text: String) -> Result<KeySchemaSpec, KeySchemaTextError> {
        func attribute(_ part: Substring) -> KeyAttributeSpec? {
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            let name = pieces.first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard pieces.count == 2, !name.isEmpty,
                let type = KeyAttributeType(rawValue: pieces[1].trimmingCharacters(in: .whitespaces).uppercased())
            else { return nil }
            return KeyAttributeSpec(name: name, type: type)
        }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let partition = attribute(parts[0]) else {
            return .failure(KeySchemaTextError(reason: "'\(text)' is not a key schema"))
        }
        if parts.count == 2 {
            guard let sort = attribute(parts[1]) else { return .failure(KeySchemaTextError(reason: "'\(text)' is not a key schema")) }
            if sort.name == partition.name { return .failure(KeySchemaTextError(reason: "'\(text)' names '\(sort.name)' twice")) }
            return .success(KeySchemaSpec(partition: partition, sort: sort))
        }
        return .success(KeySchemaSpec(partition: partition))
    }
}
