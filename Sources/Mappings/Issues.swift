// Problems found in mapping files, and per-item transform failures, each tied to a place in the file.

/// A place in a mapping file: 1-based line and column (columns count Unicode scalars, as libYAML does).
///
/// `line` and `column` are 0 when a problem belongs to the file as a whole (it cannot be read, or a
/// command-line value such as `--env` is wrong).
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`, or just `file` when the location is the whole file.
    public var description: String {
        line > 0 ? "\(file):\(line):\(column)" : file
    }
}

/// One problem in a mapping file.
public struct MappingIssue: Sendable, Hashable, CustomStringConvertible {
    public let location: SourceLocation
    /// What is wrong, e.g. `unknown key 'tranforms' in table entry`.
    public let message: String
    /// How to fix it, e.g. `did you mean 'transforms'?`; nil when there is nothing better to say.
    public let hint: String?

    public init(_ location: SourceLocation, _ message: String, hint: String? = nil) {
        self.location = location
        self.message = message
        self.hint = hint
    }

    public var file: String { location.file }
    public var line: Int { location.line }
    public var column: Int { location.column }

    /// One line: `mappings/x.yaml:12:7: unknown key 'tranforms' in table entry; did you mean 'transforms'?`
    public var description: String {
        if let hint { return "\(location): \(message); \(hint)" }
        return "\(location): \(message)"
    }
}

/// A mapping file that cannot be used, with every problem found (not just the first).
public struct MappingValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// In file order (line, then column).
    public let issues: [MappingIssue]

    public init(issues: [MappingIssue]) { self.issues = issues }

    /// One line per issue, the first ``maxListedIssues`` of them.
    public var description: String { listIssues(issues) }
}

/// Issues listed in one message: a file that is not a mapping at all (or one generated wrong) can have
/// thousands, and the first ones are what the operator needs.
public let maxListedIssues = 50

/// One line per issue, at most ``maxListedIssues``, then how many more there are.
func listIssues(_ issues: [MappingIssue]) -> String {
    var lines = issues.prefix(maxListedIssues).map(\.description)
    if issues.count > maxListedIssues {
        let more = issues.count - maxListedIssues
        lines.append("… and \(more) more problem\(more == 1 ? "" : "s")")
    }
    return lines.joined(separator: "\n")
}

/// A mapping that does not fit the tables the endpoint actually has.
public struct MappingResolutionError: Error, Sendable, Equatable, CustomStringConvertible {
    public let issues: [MappingIssue]

    public init(issues: [MappingIssue]) { self.issues = issues }

    /// One line per issue, the first ``maxListedIssues`` of them.
    public var description: String { listIssues(issues) }
}

/// Why a compiled transform could not turn one item into its target form.
///
/// The item is not written; the pipeline records it (dead letter) with this error.
public struct TransformError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The transform in the mapping file that failed.
    public let location: SourceLocation
    /// The transform's name, e.g. `convert number`, `rename`, `set`, `key-prefix`.
    public let transform: String
    /// The attribute the transform was working on.
    public let attribute: String
    /// Why, phrased to follow the attribute: `is "12,50", not a number`.
    public let reason: String

    public init(location: SourceLocation, transform: String, attribute: String, reason: String) {
        self.location = location
        self.transform = transform
        self.attribute = attribute
        self.reason = reason
    }

    /// `mappings/x.yaml:14:11: convert number: attribute 'price' is "12,50", not a number`
    public var description: String {
        "\(location): \(transform): attribute '\(attribute)' \(reason)"
    }
}
