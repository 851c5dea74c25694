// Resolving a mapping against the endpoint's real table names: globs expanded, every table accounted for.

/// A mapping applied to the tables that exist: what to copy where, what to delete, what is left over.
public struct ResolvedMapping: Sendable {
    /// Target tables in the order their first sources appear in the file.
    public var targets: [ResolvedTarget]
    /// Existing tables to delete once verified, sorted.
    public var decommission: [String]
    /// The decommissioned tables whose data the mapping says is not worth keeping, sorted.
    public var discardData: [String] = []
    /// Existing tables matched by `ignore:`, sorted.
    public var ignored: [String]
    /// Existing tables the mapping does not mention: not a source, target, ignored or decommissioned. Sorted.
    public var unaccounted: [String]
    /// Things that are not errors but deserve a look (a glob that matched nothing, say).
    public var warnings: [MappingIssue]
}

/// A target table and the source tables that fill it.
public struct ResolvedTarget: Sendable {
    /// The target table's name.
    public var name: String
    /// True when a table of that name already exists.
    public var exists: Bool
    public var settings: TargetSettingsSpec
    public var conflict: ConflictPolicy
    public var sources: [ResolvedSource]
    /// The table to inherit unspecified settings from (the first source), or nil when `inherit: false`.
    public var inheritsFrom: String? { settings.inherit ? sources.first?.table : nil }
    /// The entry in the mapping file.
    public var location: SourceLocation
    /// The target's own connection from the mapping file, nil for the command's target connection.
    public var connection: ConnectionSpec? = nil
}

/// One source table of a target.
public struct ResolvedSource: Sendable {
    /// The source table's name.
    public var table: String
    /// The source's transforms, compiled for this table (without the key prefix; see ``itemTransform(targetKey:)``).
    public var transform: CompiledTransform
    /// Prepended to the target's partition key value.
    public var keyPrefix: String?
    /// Where the source was named in the mapping file.
    public var location: SourceLocation
    /// The source glob that brought this table to a target another entry names explicitly (the source
    /// keeps that glob's transforms and key prefix; the target's settings and conflict policy are the
    /// naming entry's). Nil when the target's own entry lists the source.
    public var matchedBy: TablePattern? = nil
    /// The source's own connection from the mapping file, nil for the command's source connection.
    public var connection: ConnectionSpec? = nil
    /// Set when the source is an export (its data files are read instead of a Scan); `table` is then its URL.
    public var export: ExportSourceSpec? = nil

    /// The complete per-item function once the target's key schema is known (from `settings.key`, or
    /// from the source table when inherited): the transforms, then the key prefix, then a check that
    /// the key attributes are there with the right types.
    public func itemTransform(targetKey: KeySchemaSpec) -> CompiledTransform {
        var t = transform
        if let keyPrefix {
            t = t.appendingKeyPrefix(keyPrefix, partitionKey: targetKey.partition.name, location: location)
        }
        return t.appendingKeyCheck(targetKey, location: location)
    }
}

extension MappingDocument {
    /// Expands the mapping against `existingTables` (the endpoint's ListTables result).
    ///
    /// Source globs skip tables that are targets of this mapping and ignored tables. Errors: a named
    /// source table that does not exist, one table claimed by two entries, a table that would be both a
    /// source and a target, two entries filling the same target, a target that would be decommissioned.
    ///
    /// A glob entry and an entry naming a target explicitly may fill the same target: the named entry
    /// owns it (settings, conflict policy) and takes the glob-matched sources for it, each with its glob's
    /// transforms. A target's sources are in file order (a glob's matches at the glob's line, sorted by
    /// name), which is the order `migrate` writes them in. Two glob entries producing the same target,
    /// with no entry naming it, are still an error.
    ///
    /// - Parameter targetTables: when the targets live elsewhere (another account, region or endpoint
    ///   than the sources, see ``ConnectionSpec``), the tables there: targets exist when they are among
    ///   them, and a source may then have the name of a target (it is another table). Nil: the sources'
    ///   `existingTables` hold the targets too.
    public func resolve(existingTables: [String], targetTables: [String]? = nil) throws(MappingResolutionError) -> ResolvedMapping {
        let existing = Set(existingTables)
        let sameSide = targetTables == nil
        let existingTargets = targetTables.map(Set.init) ?? existing
        let sortedTables = existingTables.sorted()
        var issues: [MappingIssue] = []
        var warnings: [MappingIssue] = []

        func isIgnored(_ name: String) -> Bool { ignore.contains { $0.glob.matches(name) } }
        let literalTargets = Set(entries.map(\.target).filter { $0.glob.isLiteral }.map(\.text))
        let globTargets = entries.map(\.target.glob).filter { !$0.isLiteral }
        func isTargetName(_ name: String) -> Bool {
            sameSide && (literalTargets.contains(name) || globTargets.contains { $0.matches(name) })
        }

        // Sources: (entry index, spec, table, captures).
        struct Claim { let entry: Int; let spec: SourceSpec; let table: String; let captures: [String] }
        var claims: [Claim] = []
        var claimedBy: [String: SourceLocation] = [:]
        for (i, entry) in entries.enumerated() {
            for spec in entry.sources {
                let glob = spec.table.glob
                var matched: [(String, [String])] = []
                if spec.table.export != nil {
                    // An export is read from its files, not looked up among the tables (ExportSourceSpec).
                    if !entry.target.glob.isLiteral {
                        issues.append(
                            MappingIssue(
                                entry.target.location, "target '\(entry.target.text)' is a pattern, but its source is an export",
                                hint: "name the target table in full"))
                    } else {
                        matched = [(spec.table.text, [])]
                    }
                } else if glob.isLiteral {
                    if existing.contains(glob.pattern) {
                        if isIgnored(glob.pattern) {
                            issues.append(
                                MappingIssue(
                                    spec.table.location, "source table '\(glob.pattern)' is also in 'ignore'",
                                    hint: "remove it from one of the two"))
                        }
                        matched = [(glob.pattern, [])]
                    } else {
                        issues.append(
                            MappingIssue(
                                spec.table.location, "source table '\(glob.pattern)' does not exist",
                                hint: closeNames(glob.pattern, sortedTables)))
                    }
                } else {
                    for name in sortedTables where !isTargetName(name) && !isIgnored(name) {
                        if let caps = glob.captures(in: name) { matched.append((name, caps)) }
                    }
                    if matched.isEmpty {
                        warnings.append(MappingIssue(spec.table.location, "source pattern '\(glob.pattern)' matches no table"))
                    }
                }
                for (name, caps) in matched {
                    if let first = claimedBy[name] {
                        issues.append(
                            MappingIssue(
                                spec.table.location,
                                "table '\(name)' is claimed by '\(spec.table.text)' here and by the source at line \(first.line)",
                                hint: "make the patterns exclusive, or add the table to 'ignore'"))
                        continue
                    }
                    claimedBy[name] = spec.table.location
                    claims.append(Claim(entry: i, spec: spec, table: name, captures: caps))
                }
            }
        }

        // Targets named in full own them; a glob entry's match for such a target joins that entry.
        var namedTargetEntry: [String: Int] = [:]
        for (i, entry) in entries.enumerated() where entry.target.glob.isLiteral && namedTargetEntry[entry.target.text] == nil {
            namedTargetEntry[entry.target.text] = i
        }

        // Targets, grouped by name; claims come in file order, so each target's sources do too.
        var targets: [ResolvedTarget] = []
        var targetIndex: [String: Int] = [:]
        var targetEntry: [String: Int] = [:]
        for claim in claims {
            let name = entries[claim.entry].target.glob.instantiate(claim.captures)
            var owner = claim.entry
            var matchedBy: TablePattern?
            if !entries[claim.entry].target.glob.isLiteral, let named = namedTargetEntry[name], named != claim.entry {
                owner = named
                matchedBy = claim.spec.table
            }
            let entry = entries[owner]
            if !entries[claim.entry].target.glob.isLiteral,
                let problem = MappingParser.nameProblem(name, what: "target")
            {
                // A glob target takes the source's captured text, so only now is its length known.
                issues.append(
                    MappingIssue(
                        entries[claim.entry].target.location, "\(problem) (its name comes from source '\(claim.table)')",
                        hint: "shorten the target pattern or name this source's target explicitly"))
                continue
            }
            if let other = targetEntry[name], other != owner {
                issues.append(
                    MappingIssue(
                        entries[claim.entry].target.location,
                        "target '\(name)' is also filled by the entry at line \(entries[other].location.line)",
                        hint: "list all its sources under one entry's 'sources:'"))
                continue
            }
            if sameSide, claimedBy[name] != nil {
                issues.append(
                    MappingIssue(
                        entries[claim.entry].target.location,
                        "table '\(name)' would be both a source and a target",
                        hint: "give the target another name, or leave the table out of the sources"))
                continue
            }
            var source = ResolvedSource(
                table: claim.table,
                transform: CompiledTransform(steps: claim.spec.transforms, env: env, source: claim.table),
                keyPrefix: claim.spec.keyPrefix, location: claim.spec.table.location)
            source.matchedBy = matchedBy
            source.connection = claim.spec.connection
            source.export = claim.spec.table.export
            if let t = targetIndex[name] {
                targets[t].sources.append(source)
            } else {
                targetIndex[name] = targets.count
                targetEntry[name] = owner
                targets.append(
                    ResolvedTarget(
                        name: name, exists: existingTargets.contains(name), settings: entry.settings,
                        conflict: entry.conflict, sources: [source], location: entry.location,
                        connection: entry.targetConnection))
            }
        }

        // Decommission and ignore.
        var decommissioned: [String] = []
        let exportURLs = Set(entries.flatMap(\.sources).compactMap { $0.table.export?.url })
        for pattern in decommission {
            if exportURLs.contains(pattern.text) {
                // An export is a copy, not a table: there is nothing to prove or delete, and deleting the
                // table it was taken of needs that table migrated (a source in its own right) and verified.
                issues.append(
                    MappingIssue(
                        pattern.location, "decommission names '\(pattern.text)', an export source: decommission deletes tables, never exports",
                        hint: "remove it; to retire the exported table, name that table"))
                continue
            }
            let matches = sortedTables.filter { pattern.glob.matches($0) }
            if matches.isEmpty {
                warnings.append(MappingIssue(pattern.location, "decommission pattern '\(pattern.text)' matches no table"))
            }
            for name in matches {
                if sameSide, targetIndex[name] != nil {
                    issues.append(
                        MappingIssue(
                            pattern.location, "decommission pattern '\(pattern.text)' matches target '\(name)'",
                            hint: "a target is never decommissioned; narrow the pattern"))
                } else if isIgnored(name) {
                    warnings.append(
                        MappingIssue(
                            pattern.location,
                            "'\(name)' matches decommission pattern '\(pattern.text)' and 'ignore'; it is left alone"))
                } else if !decommissioned.contains(name) {
                    decommissioned.append(name)
                }
            }
        }
        for pattern in ignore where !sortedTables.contains(where: { pattern.glob.matches($0) }) {
            warnings.append(MappingIssue(pattern.location, "ignore pattern '\(pattern.text)' matches no table"))
        }
        let ignored = sortedTables.filter(isIgnored)
        let accounted = Set(claimedBy.keys).union(targetIndex.keys).union(ignored).union(decommissioned)
        let unaccounted = sortedTables.filter { !accounted.contains($0) }

        guard issues.isEmpty else { throw MappingResolutionError(issues: MappingLoader.sortedIssues(issues)) }
        var resolved = ResolvedMapping(
            targets: targets, decommission: decommissioned.sorted(), ignored: ignored,
            unaccounted: unaccounted, warnings: MappingLoader.sortedIssues(warnings))
        resolved.discardData = decommissioned.filter { name in discardData.contains { $0.glob.matches(name) } }.sorted()
        return resolved
    }
}

/// "tables with similar names: a, b" for a missing source, or nil.
private func closeNames(_ name: String, _ tables: [String]) -> String? {
    let close = tables.filter { editDistance($0, name) <= max(2, name.count / 4) }
    return close.isEmpty ? nil : "tables with similar names: \(close.prefix(3).joined(separator: ", "))"
}
