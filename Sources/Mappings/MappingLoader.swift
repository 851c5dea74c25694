// Reading a mapping file: YAML nodes to a MappingDocument, collecting every problem with its position.
import AWSAuth
import DynamoCore
import Foundation
import Yams

/// Loads and validates mapping files. Nothing here touches the network: a document that loads is
/// well-formed and self-consistent; ``MappingDocument/resolve(existingTables:)`` then checks it
/// against the endpoint's tables.
public enum MappingLoader {
    /// Reads and validates the mapping file at `path`.
    ///
    /// - Parameter env: the `--env` override; when nil the file's `env:` is used.
    /// - Parameter sidesApart: the command gives sources and targets different connections (`--source-*`,
    ///   `--target-*`), so a source and a target of one name are two tables (checked again at resolution).
    /// - Throws: every problem found, each with file, line and column.
    public static func load(path: String, env: String?) throws(MappingValidationError) -> MappingDocument {
        try load(path: path, env: env, sidesApart: false)
    }

    /// ``load(path:env:)`` for a command whose sources and targets may be on different connections.
    public static func load(path: String, env: String?, sidesApart: Bool) throws(MappingValidationError) -> MappingDocument {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw MappingValidationError(issues: [
                MappingIssue(
                    SourceLocation(file: path, line: 0, column: 0),
                    "cannot read the mapping file: \(Self.readFailure(path, error))")
            ])
        }
        return try parse(yaml: text, file: path, env: env, sidesApart: sidesApart)
    }

    /// Validates mapping YAML given as text; `file` names it in messages.
    public static func parse(yaml: String, file: String, env: String?) throws(MappingValidationError) -> MappingDocument {
        try parse(yaml: yaml, file: file, env: env, sidesApart: false)
    }

    /// ``parse(yaml:file:env:)`` for a command whose sources and targets may be on different connections.
    public static func parse(yaml: String, file: String, env: String?, sidesApart: Bool) throws(MappingValidationError) -> MappingDocument {
        let parser = MappingParser(file: file, envOverride: env)
        let document = parser.parseDocument(yaml)
        var issues = parser.issues
        if let document { issues += MappingChecks.check(document, sidesApart: sidesApart) }
        if !issues.isEmpty || document == nil {
            throw MappingValidationError(issues: sortedIssues(issues))
        }
        return document!
    }

    /// Why a mapping file cannot be read, in words.
    static func readFailure(_ path: String, _ error: any Error) -> String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            if isDirectory.boolValue { return "it is a directory, not a file" }
            if !FileManager.default.isReadableFile(atPath: path) { return "permission denied" }
            return "it is not UTF-8 text"
        }
        return "no such file"
    }

    static func sortedIssues(_ issues: [MappingIssue]) -> [MappingIssue] {
        var seen = Set<MappingIssue>()
        let unique = issues.filter { seen.insert($0).inserted }
        return unique.enumerated().sorted { a, b in
            let l = a.element.location, r = b.element.location
            if l.line != r.line { return l.line < r.line }
            if l.column != r.column { return l.column < r.column }
            return a.offset < b.offset
        }.map(\.element)
    }
}

/// Walks the YAML tree once; every problem becomes an issue and parsing goes on where it can.
final class MappingParser {
    let file: String
    let envOverride: String?
    private(set) var env: String?
    private(set) var issues: [MappingIssue] = []
    private var reportedMissingEnv = false

    init(file: String, envOverride: String?) {
        self.file = file
        self.envOverride = envOverride
    }

    // MARK: Document

    func parseDocument(_ yaml: String) -> MappingDocument? {
        if let (line, column) = firstNestingBeyond(maxMappingNesting, in: yaml) {
            issues.append(
                MappingIssue(
                    SourceLocation(file: file, line: line, column: column),
                    "nested more than \(maxMappingNesting) levels deep",
                    hint: "a mapping file needs only a few levels; is this the right file?"))
            return nil
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            issues.append(syntaxIssue(error))
            return nil
        } catch {
            issues.append(MappingIssue(SourceLocation(file: file, line: 0, column: 0), "cannot read YAML: \(error)"))
            return nil
        }
        guard let root, !(root.scalar.map { $0.string.isEmpty } ?? false) else {
            issues.append(
                MappingIssue(
                    SourceLocation(file: file, line: 1, column: 1), "the mapping file is empty",
                    hint: "it needs at least 'version: 1' and 'tables:'"))
            return nil
        }
        guard
            let top = fields(
                root, in: "at the top level", what: "the file",
                known: ["version", "env", "tables", "decommission", "discard-data", "ignore"],
                required: ["version", "tables"])
        else { return nil }

        if let node = top["env"], let value = string(node, "'env'") {
            if checkEnv(value, at: location(node)) { env = value }
        }
        if let envOverride {
            env = checkEnv(envOverride, at: SourceLocation(file: file, line: 0, column: 0), flag: true) ? envOverride : nil
        }

        var version = 1
        if let node = top["version"] {
            if node.resolvedTag == .int, let v = node.int {
                if v != 1 {
                    issue(node, "unsupported version \(v)", hint: "this tool reads version 1 mapping files")
                }
                version = v
            } else {
                issue(node, "'version' must be the number 1, found \(describe(node))")
            }
        }

        var entries: [MappingEntry] = []
        if let node = top["tables"] {
            if let items = list(node, "'tables'") {
                for item in items {
                    if let e = entry(item) { entries.append(e) }
                }
            }
        }
        let exportURLs = Set(entries.flatMap(\.sources).compactMap { $0.table.export?.url })
        let decommission = top["decommission"].map { patterns($0, "'decommission'", exports: exportURLs) } ?? []
        let ignore = top["ignore"].map { patterns($0, "'ignore'") } ?? []
        var document = MappingDocument(
            version: version, env: env, entries: entries, decommission: decommission,
            ignore: ignore, file: file)
        document.discardData = top["discard-data"].map { patterns($0, "'discard-data'") } ?? []
        for pattern in document.discardData where !decommission.contains(where: { $0.glob.overlaps(pattern.glob) }) {
            issues.append(
                MappingIssue(
                    pattern.location, "discard-data pattern '\(pattern.text)' is not under 'decommission'",
                    hint: "discard-data only marks decommissioned tables whose data need not be kept; add it to 'decommission' too"))
        }
        return document
    }

    private func checkEnv(_ value: String, at loc: SourceLocation, flag: Bool = false) -> Bool {
        let what = flag ? "--env value" : "env"
        if value.isEmpty {
            issues.append(MappingIssue(loc, "\(what) is empty", hint: "give a name such as 'prod'"))
            return false
        }
        if let bad = value.unicodeScalars.first(where: { !Self.isTableNameScalar($0) }) {
            issues.append(
                MappingIssue(
                    loc, "\(what) '\(value)' contains '\(bad)', which DynamoDB does not allow in table names",
                    hint: "use letters, digits, '_', '-' and '.'"))
            return false
        }
        return true
    }

    private func syntaxIssue(_ error: YamlError) -> MappingIssue {
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            var message = "YAML syntax error: \(problem)"
            if let context {
                message += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
            }
            return MappingIssue(SourceLocation(file: file, line: mark.line, column: mark.column), message)
        case .reader(let problem, let offset, _, let yaml):
            var line = 1, column = 1
            if let offset {
                for c in yaml.prefix(offset) {
                    if c == "\n" { line += 1; column = 1 } else { column += 1 }
                }
            }
            return MappingIssue(SourceLocation(file: file, line: line, column: column), "YAML cannot be read: \(problem)")
        default:
            return MappingIssue(SourceLocation(file: file, line: 0, column: 0), "YAML cannot be read: \(error)")
        }
    }

    // MARK: Entries

    private func entry(_ node: Node) -> MappingEntry? {
        guard
            let f = fields(
                node, in: "in table entry", what: "a table entry",
                known: ["source", "target", "sources", "transforms", "key-prefix", "conflict", "settings"],
                required: ["target"])
        else { return nil }
        let (target, targetConnection) = f["target"].map { side($0, "'target'", isTarget: true) } ?? (nil, nil)

        var conflict = ConflictPolicy.overwrite
        if let node = f["conflict"], let text = string(node, "'conflict'") {
            if let c = ConflictPolicy(rawValue: text) {
                conflict = c
            } else {
                issue(
                    node, "unknown conflict policy '\(text)'",
                    hint: suggestion(text, ConflictPolicy.allCases.map(\.rawValue), kind: "policies"))
            }
        }
        let settings = f["settings"].map(settings) ?? TargetSettingsSpec()

        var sources: [SourceSpec] = []
        switch (f.key("source"), f.key("sources")) {
        case (_?, let many?):
            issue(
                many, "a table entry has either 'source' or 'sources', not both",
                hint: "use 'source' for one table, 'sources' for several")
        case (nil, nil):
            issue(
                node, "table entry has no 'source' or 'sources'",
                hint: "add 'source: <table>' or a 'sources:' list")
        case (_?, nil):
            let (table, connection) = side(f["source"]!, "'source'", isTarget: false)
            let prefix = f["key-prefix"].flatMap(keyPrefix)
            let transforms = f["transforms"].map(transformList) ?? []
            if let table { sources.append(SourceSpec(table: table, keyPrefix: prefix, transforms: transforms, connection: connection)) }
        case (nil, _?):
            for key in ["transforms", "key-prefix"] {
                if let k = f.key(key) {
                    issue(
                        k, "'\(key)' belongs under each of 'sources' in a many-to-one entry",
                        hint: "move it under the source it applies to")
                }
            }
            if let items = list(f["sources"]!, "'sources'") {
                if items.isEmpty { issue(f["sources"]!, "'sources' is empty", hint: "list at least one source table") }
                for item in items {
                    guard
                        let s = fields(
                            item, in: "in source", what: "a source",
                            known: ["key-prefix", "transforms"] + Self.sourceKeys, required: [])
                    else { continue }
                    let (table, connection) = sourceFields(s, node: item)
                    let prefix = s["key-prefix"].flatMap(keyPrefix)
                    let transforms = s["transforms"].map(transformList) ?? []
                    if let table { sources.append(SourceSpec(table: table, keyPrefix: prefix, transforms: transforms, connection: connection)) }
                }
            }
        }
        guard let target else { return nil }
        var entry = MappingEntry(
            target: target, conflict: conflict, settings: settings, sources: sources,
            location: location(node))
        entry.targetConnection = targetConnection
        return entry
    }

    // MARK: Connections

    /// The keys of a side's own connection (docs/mappings.md, "Other accounts and regions").
    static let connectionKeys = ["profile", "region", "role-arn", "external-id", "session-name", "endpoint"]

    /// `source:`/`target:` as a table name, or as `{ table: NAME, profile: …, region: …, … }`.
    private func side(_ node: Node, _ what: String, isTarget: Bool) -> (TablePattern?, ConnectionSpec?) {
        guard case .mapping = node else { return (tablePattern(node, what, isTarget: isTarget), nil) }
        if !isTarget {
            guard let f = fields(node, in: "in \(what)", what: what, known: Self.sourceKeys, required: []) else { return (nil, nil) }
            return sourceFields(f, node: node)
        }
        guard
            let f = fields(node, in: "in \(what)", what: what, known: ["table"] + Self.connectionKeys, required: ["table"])
        else { return (nil, nil) }
        return (f["table"].flatMap { tablePattern($0, "'table'", isTarget: isTarget) }, connection(f))
    }

    /// The keys a source mapping may have: a table or an export, and a connection.
    static let sourceKeys = ["table"] + ExportSourceSpec.keys + connectionKeys

    /// A source's `table:` or `export:` (with its `key:`), and its connection.
    private func sourceFields(_ f: Fields, node: Node) -> (TablePattern?, ConnectionSpec?) {
        switch (f.key("table"), f.key("export")) {
        case (_?, let export?):
            issue(export, "a source has either 'table' or 'export', not both", hint: "a source is a live table or an export of one")
            return (nil, nil)
        case (nil, nil):
            // The message a source without 'table' has always had; docs/mappings.md names 'export' beside it.
            issue(node, "missing required key 'table' in source")
            return (nil, nil)
        case (_?, nil):
            if let k = f.key("key") {
                issue(k, "'key' belongs to an 'export' source", hint: "a live table's key schema comes from DescribeTable; remove it")
            }
            return (f["table"].flatMap { tablePattern($0, "'table'", isTarget: false) }, connection(f))
        case (nil, _?):
            guard let raw = string(f["export"]!, "'export'") else { return (nil, nil) }
            let text = substituteEnv(raw, f["export"]!).trimmingCharacters(in: .whitespaces)
            if let problem = ExportSourceSpec.urlProblem(text) {
                issue(f["export"]!, "'export' \(problem)", hint: "write s3://bucket/prefix/AWSDynamoDB/<export id>, or a local export folder")
                return (nil, nil)
            }
            var key: KeySchemaSpec?
            if let keyNode = f["key"], let keyText = string(keyNode, "'key'") {
                switch KeySchemaSpec.parse(keyText) {
                case .success(let parsed): key = parsed
                case .failure(let problem):
                    issue(keyNode, "'key' \(problem.reason)", hint: "write it like pk:S or pk:S,sk:N (types S, N, B)")
                    return (nil, nil)
                }
            }
            let location = location(f["export"]!)
            var pattern = TablePattern(text, location: location)
            pattern.export = ExportSourceSpec(url: text, key: key, location: location)
            return (pattern, connection(f))
        }
    }

    /// The connection keys among `f`, checked; nil when there are none.
    private func connection(_ f: Fields) -> ConnectionSpec? {
        let present = Self.connectionKeys.compactMap { f.key($0) }
        guard let first = present.min(by: { ($0.mark?.line ?? 0, $0.mark?.column ?? 0) < ($1.mark?.line ?? 0, $1.mark?.column ?? 0) }) else {
            return nil
        }
        func text(_ key: String) -> String? {
            guard let node = f[key], let raw = string(node, "'\(key)'") else { return nil }
            let value = substituteEnv(raw, node).trimmingCharacters(in: .whitespaces)
            if value.isEmpty {
                issue(node, "'\(key)' is empty", hint: "remove it, or give a value")
                return nil
            }
            return value
        }
        var c = Connection(
            profile: text("profile"), region: text("region"), roleArn: text("role-arn"),
            externalId: text("external-id"), sessionName: text("session-name"), endpoint: text("endpoint"))
        if let region = c.region, !region.unicodeScalars.allSatisfy({ Self.isTableNameScalar($0) && $0 != "." && $0 != "_" }) {
            issue(f["region"]!, "'region' '\(region)' is not a region name", hint: "write it like us-east-1 or eu-west-1")
            c.region = nil
        }
        if let arn = c.roleArn, let problem = Connection.roleArnProblem(arn) {
            issue(f["role-arn"]!, "'role-arn' \(problem)")
            c.roleArn = nil
        }
        for key in ["external-id", "session-name"] where f[key] != nil && f["role-arn"] == nil {
            issue(f.key(key)!, "'\(key)' needs a 'role-arn' beside it", hint: "add the role to assume, or remove '\(key)'")
        }
        if let endpoint = c.endpoint {
            let lower = endpoint.lowercased()
            if !(lower.hasPrefix("http://") || lower.hasPrefix("https://")) || URLComponents(string: endpoint)?.host?.isEmpty != false {
                issue(f["endpoint"]!, "'endpoint' '\(endpoint)' is not an http:// or https:// URL", hint: "e.g. https://dynamodb.eu-west-1.amazonaws.com")
                c.endpoint = nil
            }
        }
        return ConnectionSpec(connection: c, location: location(first))
    }

    private func keyPrefix(_ node: Node) -> String? {
        guard let text = string(node, "'key-prefix'") else { return nil }
        if text.isEmpty {
            issue(node, "'key-prefix' is empty", hint: "remove it, or give the prefix text")
            return nil
        }
        return substituteEnv(text, node)
    }

    private func patterns(_ node: Node, _ what: String, exports: Set<String> = []) -> [TablePattern] {
        guard let items = list(node, what) else { return [] }
        return items.compactMap { item in
            if case .scalar(let scalar) = item, exports.contains(substituteEnv(scalar.string, item)) {
                // An export is a copy, not a table: there is nothing to prove or delete (Resolution says why).
                issue(
                    item, "decommission names '\(scalar.string)', an export source: decommission deletes tables, never exports",
                    hint: "remove it; to retire the exported table, name that table")
                return nil
            }
            return tablePattern(item, "an entry of \(what)", isTarget: false)
        }
    }

    /// DynamoDB's rule for table and index names: 3 to 255 characters of `[a-zA-Z0-9_.-]`. AWS refuses
    /// anything else with a ValidationException (moto accepts it), so a name breaking it is a mapping issue.
    static let nameLengths = 3...255

    /// DynamoDB's limit on key attribute names (table, index and TTL attributes): 255 bytes of UTF-8.
    static let maxKeyAttributeNameBytes = 255

    /// What is wrong with `name` as a table or index name, or nil.
    static func nameProblem(_ name: String, what: String) -> String? {
        if let bad = name.unicodeScalars.first(where: { !isTableNameScalar($0) }) {
            return "\(what) '\(name)' contains '\(bad)', which DynamoDB does not allow"
        }
        if !nameLengths.contains(name.count) {
            return "\(what) '\(name)' is \(name.count) characters long; DynamoDB needs 3 to 255"
        }
        return nil
    }

    static func isTableNameScalar(_ s: Unicode.Scalar) -> Bool {
        switch s {
        case "a"..."z", "A"..."Z", "0"..."9", "_", "-", ".": true
        default: false
        }
    }

    private func tablePattern(_ node: Node, _ what: String, isTarget: Bool) -> TablePattern? {
        guard let raw = string(node, what) else { return nil }
        let name = substituteEnv(raw, node)
        if env == nil, name.contains("{env}") { return nil }  // already reported
        if let open = name.firstIndex(where: { $0 == "{" || $0 == "}" }) {
            let rest = name[open...]
            let placeholder = rest.firstIndex(of: "}").map { String(rest[...$0]) } ?? String(rest)
            issue(node, "unknown placeholder '\(placeholder)' in table name '\(raw)'", hint: "only {env} is available")
            return nil
        }
        if let bad = name.unicodeScalars.first(where: { !Self.isTableNameScalar($0) && $0 != "*" && $0 != "?" }) {
            issue(
                node, "table name '\(name)' contains '\(bad)', which DynamoDB does not allow",
                hint: "use letters, digits, '_', '-' and '.' (and '*' or '?' in patterns)")
            return nil
        }
        if isTarget, name.contains("?") {
            issue(
                node, "target '\(name)' contains '?'",
                hint: "a target can use '*' to take what the source's '*' matched, but not '?'")
            return nil
        }
        let pattern = TablePattern(name, location: location(node))
        if pattern.glob.isLiteral, !Self.nameLengths.contains(name.count) {
            issue(node, "table name '\(name)' is \(name.count) characters long; DynamoDB needs 3 to 255")
            return nil
        }
        return pattern
    }

    /// Replaces `{env}`; reports (once) a use of `{env}` when no environment is set.
    private func substituteEnv(_ text: String, _ node: Node) -> String {
        guard text.contains("{env}") else { return text }
        guard let env else {
            reportMissingEnv(node)
            return text
        }
        return text.replacingOccurrences(of: "{env}", with: env)
    }

    private func reportMissingEnv(_ node: Node) {
        guard !reportedMissingEnv else { return }
        reportedMissingEnv = true
        issue(
            node, "'{env}' is used but no environment is set",
            hint: "add 'env: <name>' at the top level or pass --env")
    }

    // MARK: Transforms

    private func transformList(_ node: Node) -> [TransformStep] {
        guard let items = list(node, "'transforms'") else { return [] }
        var steps: [TransformStep] = []
        for item in items {
            guard case .mapping(let m) = item else {
                issue(item, "each transform is a mapping such as 'rename: {old: new}', found \(describe(item))")
                continue
            }
            guard let (key, value) = m.first else {
                issue(item, "empty transform", hint: "use one of \(TransformKind.names.joined(separator: ", "))")
                continue
            }
            if m.count > 1 {
                let second = Array(m)[1].key
                issue(
                    second, "a transform has exactly one key; found '\(key.scalar?.string ?? "?")' and '\(second.scalar?.string ?? "?")'",
                    hint: "start each transform with its own '- '")
                continue
            }
            guard let name = key.scalar?.string else {
                issue(key, "a transform's key must be its name")
                continue
            }
            let loc = location(key)
            let kind: TransformKind?
            switch name {
            case "rename": kind = rename(value)
            case "drop": kind = attributeList(value, "'drop'").map(TransformKind.drop)
            case "keep":
                let names = attributeList(value, "'keep'")
                if names?.isEmpty == true {
                    issue(value, "'keep' lists no attributes, so it would empty every item", hint: "list the attributes to keep")
                }
                kind = names.map(TransformKind.keep)
            case "set": kind = assignments(value, "'set'").map(TransformKind.set)
            case "default": kind = assignments(value, "'default'").map(TransformKind.default)
            case "convert": kind = conversions(value)
            case "filter": kind = filter(value).map(TransformKind.filter)
            default:
                issue(key, "unknown transform '\(name)'", hint: suggestion(name, TransformKind.names, kind: "transforms"))
                kind = nil
            }
            if let kind { steps.append(TransformStep(kind, location: loc)) }
        }
        return steps
    }

    private func rename(_ node: Node) -> TransformKind? {
        guard let pairs = pairs(node, "'rename'", what: "'rename'") else { return nil }
        var renames: [Rename] = []
        // Attribute names compare by UTF-8 bytes, as in DynamoDB ("é" and "e\u{301}" are two names).
        var targets: [AttributeName: String] = [:]
        for (k, v) in pairs {
            guard let from = attributeName(k, "an attribute name in 'rename'"),
                let to = attributeName(v, "the new name of '\(k.scalar?.string ?? "")'")
            else { continue }
            if AttributeName(from) == AttributeName(to) {
                issue(k, "'rename' renames '\(from)' to itself", hint: "remove this line")
                continue
            }
            if let other = targets[AttributeName(to)] {
                issue(
                    v, "'\(other)' and '\(from)' are both renamed to '\(to)'",
                    hint: "an attribute can receive only one value")
                continue
            }
            targets[AttributeName(to)] = from
            renames.append(Rename(from: from, to: to, location: location(k)))
        }
        return .rename(renames)
    }

    private func attributeList(_ node: Node, _ what: String) -> [AttributeRef]? {
        guard let items = list(node, what) else { return nil }
        return items.compactMap { n in attributeName(n, "an attribute name in \(what)").map { AttributeRef($0, location: location(n)) } }
    }

    private func assignments(_ node: Node, _ what: String) -> [Assignment]? {
        guard let pairs = pairs(node, what, what: what) else { return nil }
        return pairs.compactMap { k, v in
            guard let name = attributeName(k, "an attribute name in \(what)"),
                let value = value(v, template: true)
            else { return nil }
            return Assignment(attribute: name, value: value, location: location(k))
        }
    }

    private func conversions(_ node: Node) -> TransformKind? {
        guard let pairs = pairs(node, "'convert'", what: "'convert'") else { return nil }
        var out: [ConversionSpec] = []
        for (k, v) in pairs {
            guard let name = attributeName(k, "an attribute name in 'convert'"),
                let text = string(v, "the conversion of '\(name)'")
            else { continue }
            guard let conversion = Conversion(rawValue: text) else {
                issue(
                    v, "unknown conversion '\(text)' for attribute '\(name)'",
                    hint: suggestion(text, Conversion.allCases.map(\.rawValue), kind: "conversions"))
                continue
            }
            out.append(ConversionSpec(attribute: name, conversion: conversion, location: location(k)))
        }
        return .convert(out)
    }

    private static let filterKeys = ["attribute", "exists"] + FilterOperator.allCases.map(\.rawValue) + ["all", "any", "not"]

    private func filter(_ node: Node) -> FilterSpec? {
        guard let f = fields(node, in: "in filter", what: "a filter", known: Self.filterKeys, required: []) else { return nil }
        let combinators = ["all", "any", "not"].filter { f.key($0) != nil }
        if let first = combinators.first {
            if f.map.count > 1 {
                let other = f.map.keys.sorted().first { $0 != first }!
                issue(
                    f.key(other)!, "'\(first)' cannot be combined with '\(other)' in one filter",
                    hint: "put each condition in its own filter inside '\(first)'")
                return nil
            }
            let value = f[first]!
            if first == "not" { return filter(value).map(FilterSpec.not) }
            guard let items = list(value, "'\(first)'") else { return nil }
            let parts = items.map(filter)
            guard parts.allSatisfy({ $0 != nil }) else { return nil }
            return first == "all" ? .all(parts.map { $0! }) : .any(parts.map { $0! })
        }
        let operators = (["exists"] + FilterOperator.allCases.map(\.rawValue)).filter { f.key($0) != nil }
            .sorted { (f.key($0)?.mark?.line ?? 0, f.key($0)?.mark?.column ?? 0) < (f.key($1)?.mark?.line ?? 0, f.key($1)?.mark?.column ?? 0) }
        guard let attrNode = f["attribute"] else {
            issue(node, "filter has no 'attribute'", hint: "write e.g. { attribute: status, equals: active }, or use all/any/not")
            return nil
        }
        let attribute = attributeName(attrNode, "'attribute'")
        guard let op = operators.first else {
            issue(
                node, "filter on '\(attribute ?? "")' has no condition",
                hint: "add one of exists, \(FilterOperator.allCases.map(\.rawValue).joined(separator: ", "))")
            return nil
        }
        if operators.count > 1 {
            issue(
                f.key(operators[1])!, "filter on '\(attribute ?? "")' has both '\(op)' and '\(operators[1])'",
                hint: "combine conditions with all: [...] or any: [...]")
            return nil
        }
        guard let attribute else { return nil }
        let operand = f[op]!
        if op == "exists" {
            return bool(operand, "'exists'").map { .exists(attribute: attribute, $0) }
        }
        let fop = FilterOperator(rawValue: op)!
        guard case .constant(let v)? = value(operand, template: false) else { return nil }
        switch fop {
        case .lessThan, .lessOrEqual, .greaterThan, .greaterOrEqual:
            switch v {
            case .n, .s, .b: break
            default:
                issue(operand, "'\(op)' compares with a number, string or binary, found type \(v.typeDescriptor)")
                return nil
            }
        case .beginsWith:
            switch v {
            case .s, .b: break
            default:
                issue(operand, "'begins-with' takes a string or binary, found type \(v.typeDescriptor)")
                return nil
            }
        case .equals, .notEquals: break
        }
        return .compare(attribute: attribute, fop, v)
    }

    // MARK: Values

    private static let typeDescriptors = ["S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"]

    /// A YAML value as an attribute value: int/float -> N, true/false -> BOOL, text -> S (a template
    /// when `template` and it has braces), null -> NULL, `{N: "5"}` etc. for explicit types.
    private func value(_ node: Node, template: Bool) -> ValueSpec? {
        switch node {
        case .scalar(let s):
            switch node.resolvedTag {
            case .int, .float:
                return number(node).map { .constant(.n($0)) }
            case .bool:
                // Only true/false: YAML 1.1's yes/no/on/off stay strings (no "Norway problem").
                switch s.string.lowercased() {
                case "true": return .constant(.bool(true))
                case "false": return .constant(.bool(false))
                default: return .constant(.s(s.string))
                }
            case .null:
                return .constant(.null)
            default:
                let text = s.string
                if template, text.contains("{") || text.contains("}") {
                    switch Template.parse(text) {
                    case .success(let t):
                        if env == nil, t.segments.contains(.env) { reportMissingEnv(node) }
                        return .template(t)
                    case .failure(let e):
                        issue(node, e.message, hint: e.hint)
                        return nil
                    }
                }
                return .constant(.s(substituteEnv(text, node)))
            }
        case .mapping(let m):
            guard m.count == 1, let (k, v) = m.first, let type = k.scalar?.string else {
                issue(
                    node, "a typed value has exactly one key, its type (\(Self.typeDescriptors.joined(separator: ", ")))",
                    hint: "write e.g. {N: \"5\"} or {SS: [a, b]}")
                return nil
            }
            return typed(type, v, key: k).map(ValueSpec.constant)
        case .sequence:
            issue(node, "a list needs an explicit type", hint: "write {SS: [...]}, {NS: [...]}, {BS: [...]} or {L: [...]}")
            return nil
        }
    }

    private func constant(_ node: Node) -> AttributeValue? {
        guard case .constant(let v)? = value(node, template: false) else { return nil }
        return v
    }

    private func typed(_ type: String, _ v: Node, key: Node) -> AttributeValue? {
        switch type {
        case "S":
            return string(v, "an S value").map { .s(substituteEnv($0, v)) }
        case "N":
            return number(v).map(AttributeValue.n)
        case "B":
            return binary(v).map(AttributeValue.b)
        case "BOOL":
            return bool(v, "a BOOL value").map(AttributeValue.bool)
        case "NULL":
            guard bool(v, "a NULL value") == true else {
                if v.resolvedTag == .bool { issue(v, "a NULL value must be true") }
                return nil
            }
            return .null
        case "SS", "NS", "BS":
            guard let items = list(v, "an \(type) value") else { return nil }
            if items.isEmpty {
                issue(v, "an \(type) value is empty", hint: "DynamoDB sets cannot be empty")
                return nil
            }
            switch type {
            case "SS":
                let strings = items.compactMap { n in string(n, "an SS element").map { substituteEnv($0, n) } }
                guard strings.count == items.count else { return nil }
                guard Set(strings.map { AttributeName($0) }).count == strings.count else {  // distinct by bytes
                    issue(v, "an SS value lists an element twice", hint: "DynamoDB sets hold distinct values")
                    return nil
                }
                return .ss(strings)
            case "NS":
                let numbers = items.compactMap(number)
                guard numbers.count == items.count else { return nil }
                guard Set(numbers.compactMap { DecimalValue($0.text) }).count == numbers.count else {
                    issue(v, "an NS value lists a number twice", hint: "DynamoDB sets hold distinct values")
                    return nil
                }
                return .ns(numbers)
            default:
                let blobs = items.compactMap(binary)
                guard blobs.count == items.count else { return nil }
                guard Set(blobs).count == blobs.count else {
                    issue(v, "a BS value lists an element twice", hint: "DynamoDB sets hold distinct values")
                    return nil
                }
                return .bs(blobs)
            }
        case "L":
            guard let items = list(v, "an L value") else { return nil }
            let values = items.compactMap(constant)
            return values.count == items.count ? .l(values) : nil
        case "M":
            guard let pairs = pairs(v, "an M value", what: "an M value") else { return nil }
            var m: [AttributeName: AttributeValue] = [:]
            var ok = true
            for (k, n) in pairs {
                guard let name = attributeName(k, "a key in an M value"), let value = constant(n) else { ok = false; continue }
                m[AttributeName(name)] = value
            }
            return ok ? .m(m) : nil
        default:
            issue(
                key, "unknown type '\(type)' in a typed value",
                hint: suggestion(type, Self.typeDescriptors, kind: "types"))
            return nil
        }
    }

    private func number(_ node: Node) -> DynamoNumber? {
        guard case .scalar(let s) = node, node.resolvedTag != .null else {
            issue(node, "expected a number, found \(describe(node))")
            return nil
        }
        var text = s.string
        if text.hasPrefix("+") { text.removeFirst() }
        if DecimalValue(text) == nil {
            guard node.resolvedTag == .int, let i = node.int else {
                issue(node, "'\(s.string)' is not a number DynamoDB can store", hint: "write decimal digits such as 12, -3.5 or 1.5E3")
                return nil
            }
            text = String(i)
        }
        do {
            return try DynamoNumber(validating: text)
        } catch {
            issue(node, "'\(s.string)' is not a number DynamoDB can store: \(error)")
            return nil
        }
    }

    private func binary(_ node: Node) -> [UInt8]? {
        guard let text = string(node, "a binary value") else { return nil }
        guard let data = Data(base64Encoded: text) else {
            issue(node, "'\(text)' is not base64", hint: "binary values are written in base64")
            return nil
        }
        return [UInt8](data)
    }

    // MARK: Settings

    private func settings(_ node: Node) -> TargetSettingsSpec {
        var spec = TargetSettingsSpec()
        guard
            let f = fields(
                node, in: "in settings", what: "'settings'",
                known: [
                    "inherit", "key", "billing", "global-secondary-indexes", "local-secondary-indexes",
                    "ttl", "pitr", "deletion-protection", "sse", "stream", "tags",
                ],
                required: [])
        else { return spec }
        if let n = f["inherit"], let b = bool(n, "'inherit'") { spec.inherit = b }
        if let n = f["key"] { spec.key = keySchema(n) }
        if let n = f["billing"] { spec.billing = billing(n) }
        // Indexes with their nodes, for the cross-checks below.
        var gsis: [(Node, SecondaryIndexSpec)] = [], lsis: [(Node, SecondaryIndexSpec)] = []
        if let n = f["global-secondary-indexes"], let items = list(n, "'global-secondary-indexes'") {
            gsis = items.compactMap { i in index(i, global: true).map { (i, $0) } }
            spec.globalSecondaryIndexes = gsis.map(\.1)
        }
        if let n = f["local-secondary-indexes"], let items = list(n, "'local-secondary-indexes'") {
            lsis = items.compactMap { i in index(i, global: false).map { (i, $0) } }
            spec.localSecondaryIndexes = lsis.map(\.1)
        }
        if let n = f["ttl"] { spec.ttl = keyAttributeName(n, "'ttl'") }
        if let n = f["pitr"] { spec.pointInTimeRecovery = bool(n, "'pitr'") }
        if let n = f["deletion-protection"] { spec.deletionProtection = bool(n, "'deletion-protection'") }
        if let n = f["sse"] {
            if n.resolvedTag == .bool, let b = n.bool {
                spec.sse = b ? .awsManagedKMS : .awsOwned
            } else if let g = fields(n, in: "in sse", what: "'sse'", known: ["kms-key"], required: ["kms-key"]),
                let key = string(g["kms-key"]!, "'kms-key'")
            {
                spec.sse = .customerKMS(keyID: substituteEnv(key, g["kms-key"]!))
            }
        }
        if let n = f["stream"], case .scalar(let s) = n {
            // Raw text: YAML 1.1 would read a bare `off` as false.
            if let st = StreamSpec(rawValue: s.string) {
                spec.stream = st
            } else {
                issue(
                    n, "unknown stream view '\(s.string)'",
                    hint: suggestion(s.string, StreamSpec.allCases.map(\.rawValue), kind: "views"))
            }
        } else if let n = f["stream"] {
            issue(n, "'stream' must be one of \(StreamSpec.allCases.map(\.rawValue).joined(separator: ", ")), found \(describe(n))")
        }
        if let n = f["tags"], let pairs = pairs(n, "'tags'", what: "'tags'") {
            spec.tags = pairs.compactMap { k, v in
                guard let key = string(k, "a tag key"), let value = string(v, "the value of tag '\(key)'") else { return nil }
                let filled = substituteEnv(value, v)
                // DynamoDB's TagResource/CreateTable limits (AWS refuses longer ones; moto does not).
                guard (1...128).contains(key.count) else {
                    issue(k, "tag key '\(key.prefix(40))' is \(key.count) characters long; DynamoDB allows 1 to 128")
                    return nil
                }
                guard filled.count <= 256 else {
                    issue(v, "the value of tag '\(key)' is \(filled.count) characters long; DynamoDB allows at most 256")
                    return nil
                }
                return TagSpec(key: key, value: filled)
            }
        }

        // Cross-checks within the settings.
        if !spec.inherit, spec.key == nil {
            issue(
                f.key("inherit")!, "'inherit: false' needs a 'key' in settings",
                hint: "add key: { partition: { name: ..., type: S } }")
        }
        for (n, gsi) in gsis {
            switch spec.billing {
            case .provisioned?:
                if gsi.read == nil || gsi.write == nil {
                    issue(n, "global secondary index '\(gsi.name)' needs 'read' and 'write' because billing is provisioned")
                }
            case .onDemand?:
                if gsi.read != nil || gsi.write != nil {
                    issue(
                        n, "global secondary index '\(gsi.name)' has 'read'/'write' but billing is on-demand",
                        hint: "remove them, or make billing provisioned")
                }
            case nil: break
            }
        }
        if let key = spec.key {
            for (n, lsi) in lsis {
                if let p = lsi.partition, p != key.partition {
                    issue(
                        n, "local secondary index '\(lsi.name)' must use the table's partition key '\(key.partition.name)' (\(key.partition.type.rawValue))",
                        hint: "remove its 'partition', or make it a global secondary index")
                }
            }
        }
        return spec
    }

    private func keySchema(_ node: Node) -> KeySchemaSpec? {
        guard let f = fields(node, in: "in key", what: "'key'", known: ["partition", "sort"], required: ["partition"]),
            let p = f["partition"].flatMap({ keyAttribute($0, "partition") })
        else { return nil }
        let sort = f["sort"].flatMap { keyAttribute($0, "sort") }
        if f["sort"] != nil, sort == nil { return nil }
        return KeySchemaSpec(partition: p, sort: sort)
    }

    private func keyAttribute(_ node: Node, _ role: String) -> KeyAttributeSpec? {
        guard let f = fields(node, in: "in \(role) key", what: "a key attribute", known: ["name", "type"], required: ["name", "type"]),
            let name = keyAttributeName(f["name"]!, "'name'"), let type = string(f["type"]!, "'type'")
        else { return nil }
        guard let t = KeyAttributeType(rawValue: type) else {
            issue(f["type"]!, "key type '\(type)' is not S, N or B", hint: "key attributes are strings (S), numbers (N) or binary (B)")
            return nil
        }
        return KeyAttributeSpec(name: name, type: t)
    }

    private func billing(_ node: Node) -> BillingSpec? {
        if case .scalar(let s) = node {
            switch s.string {
            case "on-demand": return .onDemand
            case "provisioned":
                issue(node, "provisioned billing needs capacity", hint: "write { mode: provisioned, read: 5, write: 5 }")
                return nil
            default:
                issue(node, "unknown billing mode '\(s.string)'", hint: suggestion(s.string, ["on-demand", "provisioned"], kind: "modes"))
                return nil
            }
        }
        guard let f = fields(node, in: "in billing", what: "'billing'", known: ["mode", "read", "write"], required: ["mode"]),
            let mode = string(f["mode"]!, "'mode'")
        else { return nil }
        switch mode {
        case "on-demand":
            for k in ["read", "write"] where f.key(k) != nil {
                issue(f.key(k)!, "'\(k)' applies only to provisioned billing", hint: "remove it, or use mode: provisioned")
            }
            return .onDemand
        case "provisioned":
            guard let read = capacity(f, "read", in: node), let write = capacity(f, "write", in: node) else { return nil }
            return .provisioned(read: read, write: write)
        default:
            issue(f["mode"]!, "unknown billing mode '\(mode)'", hint: suggestion(mode, ["on-demand", "provisioned"], kind: "modes"))
            return nil
        }
    }

    private func capacity(_ f: Fields, _ key: String, in node: Node) -> Int? {
        guard let n = f[key] else {
            issue(node, "provisioned billing needs '\(key)'", hint: "add '\(key): <capacity units>'")
            return nil
        }
        guard n.resolvedTag == .int, let v = n.int, v >= 1 else {
            issue(n, "'\(key)' must be a whole number of capacity units of at least 1, found \(describe(n))")
            return nil
        }
        return v
    }

    private func index(_ node: Node, global: Bool) -> SecondaryIndexSpec? {
        let kind = global ? "global secondary index" : "local secondary index"
        let known = global ? ["name", "partition", "sort", "projection", "read", "write"] : ["name", "partition", "sort", "projection"]
        guard
            let f = fields(
                node, in: "in \(kind)", what: "a \(kind)", known: known,
                required: global ? ["name", "partition"] : ["name", "sort"]),
            let name = string(f["name"]!, "'name'")
        else { return nil }
        if let problem = Self.nameProblem(name, what: "\(kind) name") {
            // Reported, and the index kept so that the cross-checks below still look at it.
            issue(f["name"]!, problem, hint: "use 3 to 255 letters, digits, '_', '-' and '.'")
        }
        let partition = f["partition"].flatMap { keyAttribute($0, "partition") }
        let sort = f["sort"].flatMap { keyAttribute($0, "sort") }
        if global, partition == nil { return nil }
        if !global, sort == nil { return nil }
        var projection = ProjectionSpec.all
        if let p = f["projection"] {
            switch p {
            case .scalar(let s) where s.string == "all": projection = .all
            case .scalar(let s) where s.string == "keys-only": projection = .keysOnly
            case .sequence:
                projection = .include(attributeList(p, "'projection'")?.map(\.name) ?? [])
            default:
                issue(p, "'projection' must be all, keys-only or a list of attributes, found \(describe(p))")
            }
        }
        var read: Int?, write: Int?
        if f["read"] != nil || f["write"] != nil {
            read = capacity(f, "read", in: node)
            write = capacity(f, "write", in: node)
        }
        return SecondaryIndexSpec(name: name, partition: partition, sort: sort, projection: projection, read: read, write: write)
    }

    // MARK: Node helpers

    struct Fields {
        let node: Node
        var map: [String: (key: Node, value: Node)] = [:]
        subscript(_ key: String) -> Node? { map[key]?.value }
        func key(_ key: String) -> Node? { map[key]?.key }
    }

    /// A mapping's fields, reporting unknown (with the closest known key), duplicate and missing keys.
    private func fields(_ node: Node, in place: String, what: String, known: [String], required: [String]) -> Fields? {
        guard case .mapping(let m) = node else {
            issue(node, "\(what) must be a mapping, found \(describe(node))")
            return nil
        }
        var f = Fields(node: node)
        for (k, v) in m {
            guard let name = k.scalar?.string else {
                issue(k, "keys \(place) must be names, found \(describe(k))")
                continue
            }
            guard known.contains(name) else {
                issue(k, "unknown key '\(name)' \(place)", hint: suggestion(name, known, kind: "keys"))
                continue
            }
            if let first = f.map[name] {
                issue(k, "duplicate key '\(name)' \(place)", hint: "the first is at line \(first.key.mark?.line ?? 0)")
                continue
            }
            f.map[name] = (k, v)
        }
        for r in required where f.map[r] == nil {
            issue(node, "missing required key '\(r)' \(place)")
        }
        return f
    }

    /// A mapping's pairs in file order, reporting duplicate keys. Keys compare by UTF-8 bytes: these are
    /// attribute names, and DynamoDB holds "é" and "e\u{301}" as two attributes.
    private func pairs(_ node: Node, _ name: String, what: String) -> [(Node, Node)]? {
        guard case .mapping(let m) = node else {
            issue(node, "\(what) must be a mapping, found \(describe(node))")
            return nil
        }
        var seen: [AttributeName: Int] = [:]
        var out: [(Node, Node)] = []
        for (k, v) in m {
            if let key = k.scalar?.string {
                if let line = seen[AttributeName(key)] {
                    issue(k, "duplicate key '\(key)' in \(name)", hint: "the first is at line \(line)")
                    continue
                }
                seen[AttributeName(key)] = k.mark?.line ?? 0
            }
            out.append((k, v))
        }
        return out
    }

    private func list(_ node: Node, _ what: String) -> [Node]? {
        guard case .sequence(let s) = node else {
            if !what.isEmpty { issue(node, "\(what) must be a list, found \(describe(node))") }
            return nil
        }
        return Array(s)
    }

    private func string(_ node: Node, _ what: String) -> String? {
        guard case .scalar(let s) = node, node.resolvedTag != .null else {
            issue(node, "\(what) must be text, found \(describe(node))")
            return nil
        }
        return s.string
    }

    private func attributeName(_ node: Node, _ what: String) -> String? {
        guard let name = string(node, what) else { return nil }
        if name.isEmpty {
            issue(node, "\(what) is empty", hint: "attribute names have at least one character")
            return nil
        }
        return name
    }

    /// An attribute name DynamoDB holds in a key schema or a TTL setting: at most 255 bytes.
    private func keyAttributeName(_ node: Node, _ what: String) -> String? {
        guard let name = attributeName(node, what) else { return nil }
        let bytes = name.utf8.count
        if bytes > Self.maxKeyAttributeNameBytes {
            issue(
                node,
                "\(what) '\(name.prefix(40))…' is \(bytes) bytes long; DynamoDB allows key and TTL attribute names of at most \(Self.maxKeyAttributeNameBytes) bytes"
            )
            return nil
        }
        return name
    }

    private func bool(_ node: Node, _ what: String) -> Bool? {
        guard node.resolvedTag == .bool, let b = node.bool else {
            issue(node, "\(what) must be true or false, found \(describe(node))")
            return nil
        }
        return b
    }

    private func describe(_ node: Node) -> String {
        switch node {
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .scalar(let s): node.resolvedTag == .null ? "nothing" : "'\(s.string)'"
        }
    }

    func location(_ node: Node) -> SourceLocation {
        guard let m = node.mark else { return SourceLocation(file: file, line: 1, column: 1) }
        return SourceLocation(file: file, line: m.line, column: m.column)
    }

    private func issue(_ node: Node, _ message: String, hint: String? = nil) {
        issues.append(MappingIssue(location(node), message, hint: hint))
    }
}

/// "did you mean 'x'?" for the closest candidate, else the list of candidates.
func suggestion(_ word: String, _ candidates: [String], kind: String) -> String {
    let scored = candidates.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }
    if let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= 2, best.1 < min(word.count, best.0.count) {
        return "did you mean '\(best.0)'?"
    }
    return "known \(kind): \(candidates.joined(separator: ", "))"
}

/// Levenshtein distance over characters.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    var prev = Array(0...b.count)
    var cur = prev
    for i in 1...a.count {
        cur[0] = i
        if !b.isEmpty {
            for j in 1...b.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
        }
        swap(&prev, &cur)
    }
    return prev[b.count]
}

extension Node {
    /// The resolved YAML tag (plain scalars resolved by Yams' default resolver, quoted ones are str).
    var resolvedTag: Tag.Name { Tag.Name(rawValue: tag.description) }
}
