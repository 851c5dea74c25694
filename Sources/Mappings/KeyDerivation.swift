// How a source's primary key becomes its target's: worked out once from the compiled transform chain,
// so that a follower can go from a target key back to the one source item that can produce it.
import DynamoCore

/// How each target key attribute of a source's items is built from the source's own key.
///
/// Made by ``ResolvedSource/keyDerivation(sourceKey:targetKey:)`` when every target key attribute is a
/// source key attribute, copied (through renames and `set: {pk: "{id}"}`) and possibly prefixed (the
/// source's `key-prefix`, or a `set` template `"LITERAL{id}"`), and every source key attribute reaches
/// the target key. Then the map from source key to target key is one-to-one and exactly invertible:
/// for a target key, at most one item of the source can produce it, and ``sourceKey(forTargetKey:)``
/// names that item's key. This is what lets a follower recompute a merged target item from the
/// sources' current content instead of guessing from one stream record.
public struct KeyDerivation: Sendable, Equatable {
    /// One target key attribute: the source key attribute it is copied from, after `prefix`.
    public struct Part: Sendable, Equatable {
        public var target: KeyAttributeSpec
        public var source: KeyAttributeSpec
        /// Text in front of the source value (empty: the value as it is, with its own type).
        public var prefix: String
    }

    /// Partition key first, then the sort key when the target has one.
    public var parts: [Part]

    /// The target key an item with `sourceKey` gets when it is written (whether it is written depends on
    /// filters and the other attributes; this is only where it would go). Nil when an attribute is missing.
    public func targetKey(forSourceKey sourceKey: Item) -> Item? {
        var key: Item = [:]
        for part in parts {
            guard let value = sourceKey[AttributeName(part.source.name)] else { return nil }
            if part.prefix.isEmpty {
                key[AttributeName(part.target.name)] = value
            } else {
                guard case .s(let text) = value else { return nil }
                key[AttributeName(part.target.name)] = .s(part.prefix + text)
            }
        }
        return key
    }

    /// The key of the only source item that can produce `targetKey`, or nil when no item of this source
    /// can (a value without this source's prefix, of another type, or empty once the prefix is taken off).
    public func sourceKey(forTargetKey targetKey: Item) -> Item? {
        var key: Item = [:]
        for part in parts {
            guard let value = targetKey[AttributeName(part.target.name)] else { return nil }
            let sourceValue: AttributeValue
            if part.prefix.isEmpty {
                sourceValue = value
            } else {
                // Compared as UTF-8 bytes, as DynamoDB compares strings; the prefix is whole text, so the
                // rest starts on a character boundary.
                guard case .s(let text) = value, text.utf8.starts(with: part.prefix.utf8) else { return nil }
                let rest = String(decoding: text.utf8.dropFirst(part.prefix.utf8.count), as: UTF8.self)
                sourceValue = .s(rest)
            }
            guard Self.valid(sourceValue, type: part.source.type) else { return nil }
            let name = AttributeName(part.source.name)
            if let earlier = key[name] {
                // One source attribute used twice: both target attributes must agree on its value.
                guard earlier == sourceValue else { return nil }
            }
            key[name] = sourceValue
        }
        return key
    }

    /// A value DynamoDB accepts for a key attribute of `type` (non-empty strings and binaries).
    static func valid(_ value: AttributeValue, type: KeyAttributeType) -> Bool {
        switch (value, type) {
        case (.s(let s), .s): !s.isEmpty
        case (.n, .n): true
        case (.b(let b), .b): !b.isEmpty
        default: false
        }
    }
}

/// Why a source's target keys cannot be traced back to source items, for `plan` and `migrate --follow`.
public struct FollowLimitation: Error, Sendable, Equatable, CustomStringConvertible {
    /// The source table.
    public var source: String
    /// Where the source is named in the mapping file.
    public var location: SourceLocation
    /// What makes it inexact, naming the attribute and the transform.
    public var reason: String

    public var description: String {
        "\(location.file):\(location.line): source \(source): \(reason); a follower could not tell which source item a target key comes from, so it cannot keep the target exact"
    }
}

extension ResolvedSource {
    /// How this source's items get their target key, worked out from the transform chain
    /// (``itemTransform(targetKey:)``) without reading any item.
    ///
    /// The analysis is conservative: a target key attribute counts as derived from the source key only
    /// when every item that is written has exactly that value. Anything else (a constant, a template over
    /// other attributes or two key attributes, a non-key attribute renamed onto the key, a case
    /// conversion, a `default`) is a ``FollowLimitation`` naming what it found.
    public func keyDerivation(sourceKey: KeySchemaSpec, targetKey: KeySchemaSpec) -> Result<KeyDerivation, FollowLimitation> {
        func limited(_ reason: String) -> Result<KeyDerivation, FollowLimitation> {
            .failure(FollowLimitation(source: table, location: location, reason: reason))
        }
        // Attributes whose value is known to be a source key attribute's (definitely present); every
        // other attribute is "something else". `how` remembers the last step that wrote an attribute.
        var known: [AttributeName: DerivedKeyValue] = [:]
        var how: [AttributeName: String] = [:]
        for k in [sourceKey.partition] + (sourceKey.sort.map { [$0] } ?? []) {
            known[AttributeName(k.name)] = DerivedKeyValue(source: k, prefix: "")
        }
        func at(_ l: SourceLocation) -> String { "line \(l.line)" }

        for step in itemTransform(targetKey: targetKey).steps {
            switch step {
            case .rename(let renames, _):
                // All at once, as applied: every `from` is read before any `to` is written.
                let moved = renames.map { known[$0.from] }
                for r in renames {
                    known.removeValue(forKey: r.from)
                    how[r.from] = "renamed away (rename at \(at(r.location)))"
                }
                for (r, value) in zip(renames, moved) {
                    if let value {
                        known[r.to] = value
                    } else {
                        known.removeValue(forKey: r.to)
                        how[r.to] = "renamed from the non-key attribute '\(r.from)' (rename at \(at(r.location)))"
                    }
                }
            case .drop(let names):
                for n in names {
                    known.removeValue(forKey: n)
                    how[n] = "dropped"
                }
            case .keep(let names):
                for n in known.keys where !names.contains(n) {
                    known.removeValue(forKey: n)
                    how[n] = "left out by keep"
                }
            case .set(let assignments):
                let values = assignments.map { derive($0, known) }
                for (a, value) in zip(assignments, values) {
                    switch value {
                    case .success(let d): known[a.attribute] = d
                    case .failure(let reason):
                        known.removeValue(forKey: a.attribute)
                        how[a.attribute] = "\(reason) (set at \(at(a.location)))"
                    }
                }
            case .setDefault(let assignments):
                // A known attribute is present, so `default` leaves it; any other may or may not get the default.
                for a in assignments where known[a.attribute] == nil {
                    how[a.attribute] = "given a default when missing (default at \(at(a.location)))"
                }
            case .convert(let conversions):
                for c in conversions {
                    let name = AttributeName(c.attribute)
                    guard let d = known[name] else { continue }
                    let unchanged =
                        switch (c.conversion, d.type) {
                        case (.number, .n), (.string, .s), (.stringFromSet, .s): true
                        default: false
                        }
                    if !unchanged {
                        known.removeValue(forKey: name)
                        how[name] = "converted with \(c.conversion.rawValue) (convert at \(at(c.location)))"
                    }
                }
            case .filter:
                break
            case .keyPrefix(let attribute, let prefix, let location):
                if let d = known[attribute], d.type == .s {
                    known[attribute] = DerivedKeyValue(source: d.source, prefix: prefix + d.prefix)
                } else {
                    known.removeValue(forKey: attribute)
                    how[attribute] = how[attribute] ?? "given key-prefix at \(at(location)) on a non-string value"
                }
            case .keyCheck:
                break
            }
        }

        var parts: [KeyDerivation.Part] = []
        for (role, k) in [("partition key", targetKey.partition)] + (targetKey.sort.map { [("sort key", $0)] } ?? []) {
            let name = AttributeName(k.name)
            guard let d = known[name] else {
                let cause = how[name] ?? "not one of the source's key attributes (\(sourceKey.names))"
                return limited("the target's \(role) '\(k.name)' is \(cause)")
            }
            guard d.type == k.type else {
                return limited(
                    "the target's \(role) '\(k.name)' comes from '\(d.source.name)' as \(d.type.rawValue), but the target's \(role) is \(k.type.rawValue)")
            }
            parts.append(KeyDerivation.Part(target: k, source: d.source, prefix: d.prefix))
        }
        for k in [sourceKey.partition] + (sourceKey.sort.map { [$0] } ?? []) where !parts.contains(where: { $0.source.name == k.name }) {
            return limited(
                "its key attribute '\(k.name)' is not part of the target key (\(targetKey.names)), so several of its items can share one target key")
        }
        return .success(KeyDerivation(parts: parts))
    }

    /// What a `set` assignment gives the target, in terms of the source key, or why it is something else.
    private func derive(_ a: CompiledAssignment, _ known: [AttributeName: DerivedKeyValue]) -> Result<DerivedKeyValue, SetReason> {
        switch a.kind {
        case .constant:
            return .failure(SetReason("set to a constant"))
        case .copy(let name):
            guard let d = known[name] else { return .failure(SetReason("copied from '\(name)', which is not a source key attribute")) }
            return .success(d)
        case .render(let pieces):
            // Only "LITERAL{key}" is one-to-one: the literal can be taken off again.
            if pieces.count == 2, case .literal(let literal) = pieces[0], case .attribute(let name) = pieces[1] {
                guard let d = known[name] else {
                    return .failure(SetReason("built by template \"\(a.template)\" from '\(name)', which is not a source key attribute"))
                }
                guard d.type == .s else {
                    return .failure(SetReason("built by template \"\(a.template)\" from the \(d.type.rawValue) attribute '\(name)'"))
                }
                return .success(DerivedKeyValue(source: d.source, prefix: literal + d.prefix))
            }
            return .failure(SetReason("built by template \"\(a.template)\", which cannot be split back into the source key"))
        }
    }
}

/// A value known to be a source key attribute's, behind a prefix (``ResolvedSource/keyDerivation(sourceKey:targetKey:)``).
struct DerivedKeyValue: Equatable {
    var source: KeyAttributeSpec
    var prefix: String
    /// The value's type now: the source's, or S once something is put in front.
    var type: KeyAttributeType { prefix.isEmpty ? source.type : .s }
}

struct SetReason: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension KeySchemaSpec {
    /// `pk, sk`: the attribute names, partition key first.
    var names: String { ([partition.name] + (sort.map { [$0.name] } ?? [])).joined(separator: ", ") }
}

extension ResolvedTarget {
    /// Whether a follower recomputes each key a record touches from every source (several sources, or a
    /// policy whose outcome depends on what the target holds) rather than applying the record's images.
    public var isFollowedByRecomputing: Bool { sources.count > 1 || conflict != .overwrite }

    /// Why following this target's sources' streams cannot keep it exact, or nil when it can.
    ///
    /// `sourceKeys` are the sources' key schemas in ``sources`` order; `targetKey` is the target's.
    /// A target ``isFollowedByRecomputing`` has each touched key recomputed from every source's current
    /// content, so every source's key must map one-to-one onto the target key
    /// (``ResolvedSource/keyDerivation(sourceKey:targetKey:)``). A single `overwrite` source's records
    /// carry everything its target needs (the old image's projected key is deleted, the new one put), so
    /// any transform will do; keys several of its items share are a collision the copy has as well.
    public func followLimitation(sourceKeys: [KeySchemaSpec], targetKey: KeySchemaSpec) -> FollowLimitation? {
        guard isFollowedByRecomputing else { return nil }
        for (source, key) in zip(sources, sourceKeys) {
            if case .failure(let limitation) = source.keyDerivation(sourceKey: key, targetKey: targetKey) { return limitation }
        }
        return nil
    }
}
