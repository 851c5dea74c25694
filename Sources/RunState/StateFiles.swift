import DynamoCore
import Foundation

/// Why the JSON of a state file (checkpoint.json, verification.json, a line of backups.jsonl…) could not
/// be decoded, in words an operator can act on: where in the file (line and column for broken JSON,
/// the member's path otherwise) and what is wrong. Foundation's own text ("DecodingError.dataCorrupted…")
/// names neither.
/// - Parameter data: the file's bytes, to place a JSON syntax error (nil when not at hand).
public func decodingProblem(_ error: any Error, in data: Data?) -> String {
    guard let decoding = error as? DecodingError else { return plainReason(error) }
    switch decoding {
    case .dataCorrupted(let context):
        if context.codingPath.isEmpty { return data.flatMap(jsonSyntaxProblem) ?? context.debugDescription }
        return "\(memberPath(context.codingPath)): \(context.debugDescription)"
    case .keyNotFound(let key, let context):
        var path = context.codingPath
        path.append(key)
        return "\(memberPath(path)) is missing"
    case .typeMismatch(let type, let context):
        return "\(memberPath(context.codingPath)) is not \(typeName(type))"
    case .valueNotFound(let type, let context):
        return "\(memberPath(context.codingPath)) is null where \(typeName(type)) is expected"
    @unknown default:
        return "\(error)"
    }
}

/// `sources["a/b"].segments[0].done`.
private func memberPath(_ path: [any CodingKey]) -> String {
    var text = ""
    for key in path {
        if let index = key.intValue, key.stringValue.hasPrefix("Index ") || key.stringValue == String(index) {
            text += "[\(index)]"
        } else if key.stringValue.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
            text += (text.isEmpty ? "" : ".") + key.stringValue
        } else {
            text += "[\"\(key.stringValue)\"]"
        }
    }
    return text.isEmpty ? "the top level" : "'\(text)'"
}

private func typeName(_ type: Any.Type) -> String {
    switch type {
    case is String.Type: "a string"
    case is Int.Type, is Double.Type: "a number"
    case is Bool.Type: "true or false"
    case is Date.Type: "a date"
    default: "a \(type)"
    }
}

/// "not JSON: <reason> at line L, column C", or nil when `data` is well-formed JSON.
private func jsonSyntaxProblem(_ data: Data) -> String? {
    let bytes = [UInt8](data)
    if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return "the file is empty" }
    do {
        _ = try JSON.parse(bytes)
        return nil
    } catch let error as JSONParseError {
        let offset = min(max(0, error.offset), bytes.count)
        let before = bytes[..<offset]
        let line = before.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
        let column = offset - (before.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0) + 1
        return "not JSON: \(error.reason) at line \(line), column \(column)"
    } catch {
        return "not JSON: \(error)"
    }
}

/// FNV-1a over `bytes`: a 64-bit hash that is the same on every run and machine (Swift's `Hasher` is
/// seeded per process), for names and fingerprints that are recorded and compared later.
public func stableHash<S: Sequence>(_ bytes: S) -> UInt64 where S.Element == UInt8 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
    return hash
}

/// ``stableHash(_:)`` as 16 lowercase hex digits.
public func stableHashHex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
    let hex = String(stableHash(bytes), radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
}
