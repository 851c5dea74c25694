// Table-name globs: `*` matches any run of characters (including '-'), `?` exactly one. The one glob
// engine of the tool: mapping files, backup policies and every `--match` flag use it (syntax in
// docs/mappings.md, "Globs").

/// A table-name pattern. `*` matches any run of characters, `?` exactly one character; everything
/// else matches itself. Each `*` captures what it matched, by position, so a target pattern's n-th `*`
/// can take the source's n-th capture.
///
/// When a name can be split in several ways (`*-*` against `a-b-c`), each `*` takes the shortest run
/// that still lets the rest match: captures `["a", "b-c"]`.
public struct Glob: Sendable, Hashable, CustomStringConvertible {
    /// The pattern as written (after `{env}` substitution).
    public let pattern: String
    private let tokens: [Token]

    private enum Token: Sendable, Hashable {
        case literal(Unicode.Scalar)
        case one
        case star
    }

    public init(_ pattern: String) {
        self.pattern = pattern
        tokens = pattern.unicodeScalars.map { s in
            switch s {
            case "*": .star
            case "?": .one
            default: .literal(s)
            }
        }
    }

    /// The first character of the pattern that no table name can hold (DynamoDB table names are made of
    /// `A-Z a-z 0-9 _ . -`), other than `*` and `?`; nil when there is none. A pattern holding one matches
    /// nothing, which is worth saying: `[...]` and `\` escapes are not glob syntax here, as they are in a shell.
    public var impossibleCharacter: Character? {
        pattern.first { c in
            !(c.isASCII && (c.isLetter || c.isNumber)) && !"_.-*?".contains(c)
        }
    }

    /// True when the pattern has no `*` or `?`: it names exactly one table.
    public var isLiteral: Bool { !tokens.contains { $0 == .star || $0 == .one } }
    /// How many `*` the pattern has (how many captures a match yields).
    public var starCount: Int { tokens.count { $0 == .star } }

    public var description: String { pattern }

    /// True when `name` matches the whole pattern.
    public func matches(_ name: String) -> Bool { captures(in: name) != nil }

    /// What each `*` matched, in order; nil when `name` does not match.
    public func captures(in name: String) -> [String]? {
        let chars = Array(name.unicodeScalars)
        var failed = Set<Int>()  // (token index, char index) states known not to match
        var spans: [Range<Int>] = []
        guard match(0, 0, chars, &failed, &spans) else { return nil }
        return spans.map { String(String.UnicodeScalarView(chars[$0])) }
    }

    private func match(
        _ t: Int, _ c: Int, _ chars: [Unicode.Scalar],
        _ failed: inout Set<Int>, _ spans: inout [Range<Int>]
    ) -> Bool {
        let key = t &* (chars.count + 1) &+ c
        if failed.contains(key) { return false }
        if t == tokens.count {
            if c == chars.count { return true }
            failed.insert(key)
            return false
        }
        switch tokens[t] {
        case .literal(let s):
            if c < chars.count, chars[c] == s, match(t + 1, c + 1, chars, &failed, &spans) { return true }
        case .one:
            if c < chars.count, match(t + 1, c + 1, chars, &failed, &spans) { return true }
        case .star:
            for end in c...chars.count {
                spans.append(c..<end)
                if match(t + 1, end, chars, &failed, &spans) { return true }
                spans.removeLast()
            }
        }
        failed.insert(key)
        return false
    }

    /// The pattern with its n-th `*` replaced by `captures[n]`. Requires `captures.count >= starCount`.
    public func instantiate(_ captures: [String]) -> String {
        var out = ""
        var n = 0
        for s in pattern.unicodeScalars {
            if s == "*" {
                out += captures[n]
                n += 1
            } else {
                out.unicodeScalars.append(s)
            }
        }
        return out
    }

    /// True when some table name matches both patterns (e.g. `omnix-ai-*` and `*-users`).
    public func overlaps(_ other: Glob) -> Bool {
        let a = tokens, b = other.tokens
        var seen = Set<Int>()
        var stack = [(0, 0)]
        while let (i, j) = stack.popLast() {
            let key = i * (b.count + 1) + j
            if !seen.insert(key).inserted { continue }
            if i == a.count, j == b.count { return true }
            // A star may match nothing.
            if i < a.count, a[i] == .star { stack.append((i + 1, j)) }
            if j < b.count, b[j] == .star { stack.append((i, j + 1)) }
            // Both consume one character of the common name.
            guard i < a.count, j < b.count else { continue }
            if case .literal(let x) = a[i], case .literal(let y) = b[j], x != y { continue }
            let ni = a[i] == .star ? i : i + 1
            let nj = b[j] == .star ? j : j + 1
            if ni != i || nj != j { stack.append((ni, nj)) }
        }
        return false
    }
}
