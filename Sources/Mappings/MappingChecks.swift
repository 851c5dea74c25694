// Checks across a whole parsed document: captures, duplicate claims, key attributes, decommission safety.
import AWSAuth
import DynamoCore

enum MappingChecks {
    static func check(_ doc: MappingDocument, sidesApart: Bool = false) -> [MappingIssue] {
        var issues: [MappingIssue] = []
        issues += captures(doc)
        issues += duplicateClaims(doc, sidesApart: sidesApart)
        issues += keyAttributes(doc)
        issues += decommissionSafety(doc, sidesApart: sidesApart)
        return issues
    }

    /// A target's `*` must each take a source's capture.
    private static func captures(_ doc: MappingDocument) -> [MappingIssue] {
        var issues: [MappingIssue] = []
        for entry in doc.entries {
            let stars = entry.target.glob.starCount
            guard stars > 0 else { continue }
            for source in entry.sources where source.table.glob.starCount < stars {
                if source.table.export != nil {
                    // An export has no table name to capture from (its URL is not a name).
                    issues.append(
                        MappingIssue(
                            entry.target.location, "target '\(entry.target.text)' is a pattern, but its source is an export",
                            hint: "name the target table in full"))
                    continue
                }
                let has = source.table.glob.starCount
                let message =
                    has == 0
                    ? "target '\(entry.target.text)' has a '*' but source '\(source.table.text)' has none to capture"
                    : "target '\(entry.target.text)' has \(stars) '*' but source '\(source.table.text)' has only \(has) to capture"
                issues.append(
                    MappingIssue(
                        entry.target.location, message,
                        hint: "name the target in full, or give the source a '*' for each one in the target"))
            }
        }
        return issues
    }

    /// Each source name or pattern belongs to one entry; each literal target to one entry; no table is
    /// both a source and a target.
    ///
    /// A source and a target on different connections (another account, region or endpoint) are two
    /// tables even with one name; resolution checks again once the connections are known.
    private static func duplicateClaims(_ doc: MappingDocument, sidesApart: Bool) -> [MappingIssue] {
        var issues: [MappingIssue] = []
        var sources: [String: SourceLocation] = [:]
        var targets: [String: SourceLocation] = [:]
        var targetConnections: [String: ConnectionSpec] = [:]
        for entry in doc.entries { if let c = entry.targetConnection { targetConnections[entry.target.text] = c } }
        for entry in doc.entries {
            if let first = targets[entry.target.text] {
                issues.append(
                    MappingIssue(
                        entry.target.location,
                        "target '\(entry.target.text)' is already the target of the entry at line \(first.line)",
                        hint: "list all its sources under one entry's 'sources:'"))
            } else {
                targets[entry.target.text] = entry.target.location
            }
            for source in entry.sources {
                if let first = sources[source.table.text] {
                    issues.append(
                        MappingIssue(
                            source.table.location,
                            "source '\(source.table.text)' is already claimed at line \(first.line)",
                            hint: "each source table belongs to one entry"))
                } else {
                    sources[source.table.text] = source.table.location
                }
            }
        }
        for entry in doc.entries {
            for source in entry.sources where source.table.glob.isLiteral {
                let apart =
                    sidesApart || (source.connection?.connection ?? Connection()) != (targetConnections[source.table.text]?.connection ?? Connection())
                if let t = targets[source.table.text], !apart {
                    issues.append(
                        MappingIssue(
                            source.table.location,
                            "table '\(source.table.text)' is a source here and the target at line \(t.line)",
                            hint: "a table cannot be copied into itself; give the target another name"))
                }
            }
        }
        return issues
    }

    private enum Availability {
        case produced
        case passThrough
        case removed(by: String, SourceLocation)

        var rank: Int {
            switch self {
            case .produced: 2
            case .passThrough: 1
            case .removed: 0
            }
        }
    }

    /// With the target key given, every source must be able to produce each key attribute; and a
    /// key prefix needs a string partition key.
    private static func keyAttributes(_ doc: MappingDocument) -> [MappingIssue] {
        var issues: [MappingIssue] = []
        for entry in doc.entries {
            guard let key = entry.settings.key else { continue }
            let roles = [("partition key", key.partition)] + (key.sort.map { [("sort key", $0)] } ?? [])
            for source in entry.sources {
                if source.keyPrefix != nil, key.partition.type != .s {
                    issues.append(
                        MappingIssue(
                            source.table.location,
                            "key-prefix needs an S partition key, but the target's partition key '\(key.partition.name)' is \(key.partition.type.rawValue)",
                            hint: "remove the key-prefix, or make the partition key type S"))
                }
                let state = simulate(source.transforms)
                for (role, attr) in roles {
                    if case .removed(let by, let location) = state(attr.name) {
                        issues.append(
                            MappingIssue(
                                location,
                                "\(by) removes '\(attr.name)', the target's \(role), from source '\(source.table.text)'",
                                hint: "keep it, or rename or set an attribute to '\(attr.name)' after this step"))
                    }
                }
            }
        }
        return issues
    }

    /// What each attribute can be after the transforms, given that the source's own attributes are unknown.
    private static func simulate(_ steps: [TransformStep]) -> (String) -> Availability {
        // Keyed by UTF-8 bytes, as DynamoDB keys attributes.
        var explicit: [AttributeName: Availability] = [:]
        var rest = Availability.passThrough
        func state(_ name: String) -> Availability { explicit[AttributeName(name)] ?? rest }
        for step in steps {
            switch step.kind {
            case .rename(let renames):
                let moved = renames.map { ($0, state($0.from)) }
                for r in renames { explicit[AttributeName(r.from)] = .removed(by: "'rename' (\(r.from) -> \(r.to))", r.location) }
                for (r, a) in moved {
                    let before = explicit[AttributeName(r.to)] ?? rest
                    explicit[AttributeName(r.to)] = a.rank >= before.rank ? a : before
                }
            case .drop(let names):
                for n in names { explicit[AttributeName(n.name)] = .removed(by: "'drop'", step.location) }
            case .keep(let names):
                let kept = Set(names.map { AttributeName($0.name) })
                for name in explicit.keys where !kept.contains(name) {
                    explicit[name] = .removed(by: "'keep'", step.location)
                }
                for name in kept where explicit[name] == nil { explicit[name] = rest }
                rest = .removed(by: "'keep'", step.location)
            case .set(let a), .default(let a):
                for x in a { explicit[AttributeName(x.attribute)] = .produced }
            case .convert, .filter:
                break
            }
        }
        return state
    }

    /// Never decommission a target.
    /// A target on another connection than the sources (`sidesApart`, or its own `target:` connection) is
    /// another table than a decommissioned one of its name: resolution checks again with the connections known.
    private static func decommissionSafety(_ doc: MappingDocument, sidesApart: Bool) -> [MappingIssue] {
        var issues: [MappingIssue] = []
        for pattern in doc.decommission {
            for entry in doc.entries where pattern.glob.overlaps(entry.target.glob) && !sidesApart && entry.targetConnection == nil {
                issues.append(
                    MappingIssue(
                        pattern.location,
                        "decommission pattern '\(pattern.text)' matches target '\(entry.target.text)' (line \(entry.target.location.line))",
                        hint: "a target is never decommissioned; narrow the pattern"))
            }
        }
        return issues
    }
}
