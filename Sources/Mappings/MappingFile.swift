// Mappings: the mapping YAML format, its validation with file positions, globs and compiled transforms.
import AWSAuth
import DynamoCore

/// A validated mapping file: which source tables go into which target tables, with what transforms,
/// which tables to decommission and which to leave alone.
///
/// Produced by ``MappingLoader``; every name already has `{env}` substituted.
public struct MappingDocument: Sendable, Equatable {
    /// The format version; always 1.
    public var version: Int
    /// The effective environment: the `--env` override when given, else the file's `env:`.
    public var env: String?
    /// The `tables:` entries, in file order.
    public var entries: [MappingEntry]
    /// `decommission:` patterns: tables to delete once verified.
    public var decommission: [TablePattern]
    /// `discard-data:` patterns: decommissioned tables whose data is not worth keeping (scratch tables,
    /// caches), so deleting them needs no verified copy of their data, only a backup.
    public var discardData: [TablePattern] = []
    /// `ignore:` patterns: tables to leave alone.
    public var ignore: [TablePattern]
    /// The mapping file's path as given to the loader (used in every message).
    public var file: String

    public init(
        version: Int, env: String?, entries: [MappingEntry], decommission: [TablePattern],
        ignore: [TablePattern], file: String
    ) {
        self.version = version
        self.env = env
        self.entries = entries
        self.decommission = decommission
        self.ignore = ignore
        self.file = file
    }
}

/// A table name or glob, with where it was written.
public struct TablePattern: Sendable, Hashable, CustomStringConvertible {
    public let glob: Glob
    public let location: SourceLocation
    /// Set when this source is an export rather than a live table (`source: { export: … }`); the
    /// pattern's text is then the export's URL, which names the source everywhere (checkpoint, report).
    public var export: ExportSourceSpec? = nil

    public init(_ pattern: String, location: SourceLocation) {
        glob = Glob(pattern)
        self.location = location
    }

    /// The name or pattern text.
    public var text: String { glob.pattern }
    public var description: String { glob.pattern }
}

/// What happens when an item's key already exists in the target table.
///
/// Codable as its mapping-file spelling, the form recorded in `verification.json`.
public enum ConflictPolicy: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    /// Write the item, replacing what is there (a plain put). The default.
    case overwrite
    /// Leave the existing item; the new one is skipped (conditional put on the key not existing).
    case keepExisting = "keep-existing"
    /// Stop with an error naming the key (conditional put; a failed condition is fatal).
    case fail

    /// The mapping-file spelling.
    public var description: String { rawValue }
}

/// What ``ConflictPolicy/merge(existing:incoming:)`` decides for one key.
public enum MergeOutcome: Sendable, Equatable {
    /// The incoming item is the key's content (nothing was there, or the policy replaces it).
    case takeIncoming
    /// The item already there stays; the incoming one is skipped (or is identical to it).
    case keepExisting
    /// Both have different content and the policy is `fail`: the run must stop at this key.
    case conflict
}

extension ConflictPolicy {
    /// The one merge rule, shared by the writer (items in the target against items arriving) and by
    /// `verify` (the expected items of several sources folded in mapping order).
    ///
    /// `existing` is nil when the key is not there yet; `Value` is whatever stands for an item's content
    /// (the item itself, or its content hash). Identical content is never a conflict.
    public func merge<Value: Equatable>(existing: Value?, incoming: Value) -> MergeOutcome {
        guard let existing else { return .takeIncoming }
        switch self {
        case .overwrite: return .takeIncoming
        case .keepExisting: return .keepExisting
        case .fail: return existing == incoming ? .keepExisting : .conflict
        }
    }

    /// Whether ``merge(existing:incoming:)`` can decide against the incoming item, so a writer must not
    /// put blindly (it puts on the condition that the key is absent, and merges when it is not).
    public var mayKeepExisting: Bool { self != .overwrite }

    /// Whether ``merge(existing:incoming:)`` looks at the existing item's content (only `fail` does), so a
    /// writer reads the existing item only when the outcome depends on it.
    public var comparesContent: Bool { self == .fail }
}

/// One `tables:` entry: a target table and the source(s) that fill it.
///
/// The single-source form (`source:` + `target:`) and the many-to-one form (`target:` + `sources:`)
/// both become an entry with one or more ``SourceSpec``s.
public struct MappingEntry: Sendable, Equatable {
    /// The target table name or glob (a glob's `*` take the source's captures).
    public var target: TablePattern
    public var conflict: ConflictPolicy
    public var settings: TargetSettingsSpec
    public var sources: [SourceSpec]
    /// Where the entry starts (its first key).
    public var location: SourceLocation
    /// The target's own connection (`target: { table: …, profile: … }`), nil for the command's.
    public var targetConnection: ConnectionSpec?

    public init(
        target: TablePattern, conflict: ConflictPolicy, settings: TargetSettingsSpec,
        sources: [SourceSpec], location: SourceLocation
    ) {
        self.target = target
        self.conflict = conflict
        self.settings = settings
        self.sources = sources
        self.location = location
    }
}

/// One source of an entry: a table name or glob, an optional key prefix, and its transforms.
public struct SourceSpec: Sendable, Equatable {
    public var table: TablePattern
    /// Prepended to the target's partition key value (which must be a string).
    public var keyPrefix: String?
    public var transforms: [TransformStep]
    /// The source's own connection (`source: { table: …, profile: … }`), nil for the command's.
    public var connection: ConnectionSpec?

    public init(table: TablePattern, keyPrefix: String? = nil, transforms: [TransformStep] = [], connection: ConnectionSpec? = nil) {
        self.table = table
        self.keyPrefix = keyPrefix
        self.transforms = transforms
        self.connection = connection
    }
}

/// A side's own connection in a mapping file, with where it is written (its first connection key), so a
/// profile that does not exist or a role that cannot be assumed is reported at its line.
public struct ConnectionSpec: Sendable, Hashable {
    public var connection: Connection
    public var location: SourceLocation

    public init(connection: Connection, location: SourceLocation) {
        self.connection = connection
        self.location = location
    }
}
