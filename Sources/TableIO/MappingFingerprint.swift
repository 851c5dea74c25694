import Crypto
import DynamoCore
import Mappings

/// Per target, a fingerprint of everything in the mapping that decides what the target should hold:
/// its source tables in order, each source's key prefix and transforms (filters included), the
/// conflict policy, the key the target is given, and the environment (`{env}` in templates).
///
/// `verify` records it with each target; `decommission` recomputes it from the mapping it is given and
/// refuses when the two differ, so a verification only proves what it checked: after any edit that
/// could change a target's content (dropping a filter, say), its sources cannot be deleted until that
/// target is verified again. Where things are written in the file (lines, columns, comments) is left
/// out, so moving an entry or adding a comment does not invalidate a verification; the fingerprint
/// covers the meaning, not the text.
public struct MappingFingerprints: Sendable, Equatable {
    /// Target name → 64 hex digits (SHA-256 of the target's canonical description).
    public var byTarget: [String: String]

    public init(byTarget: [String: String]) { self.byTarget = byTarget }

    /// Fingerprints every target of `resolved`, reading the specs from `document` (the resolved
    /// mapping keeps only compiled transforms).
    public init(document: MappingDocument, resolved: ResolvedMapping) {
        var byTarget: [String: String] = [:]
        for target in resolved.targets {
            byTarget[target.name] = Self.fingerprint(target, document: document)
        }
        self.byTarget = byTarget
    }

    public subscript(target: String) -> String? { byTarget[target] }

    static func fingerprint(_ target: ResolvedTarget, document: MappingDocument) -> String {
        var d = CanonicalDescription()
        d.field("fingerprint", "1")
        d.field("target", target.name)
        d.field("env", document.env)
        d.field("conflict", target.conflict.rawValue)
        d.field("inherit", target.settings.inherit ? "true" : "false")
        d.key(target.settings.key)
        // The resolved target points back at its entry and each source at its spec by location.
        let entry = document.entries.first { $0.location == target.location }
        for source in target.sources {
            d.field("source", source.table)
            d.field("key-prefix", source.keyPrefix)
            guard let spec = entry?.sources.first(where: { $0.table.location == source.location }) else {
                // Cannot happen for a mapping resolved from this document; a fingerprint that no
                // record holds makes decommission refuse rather than trust an unknown chain.
                d.field("transforms", "unknown")
                continue
            }
            d.field("transforms", String(spec.transforms.count))
            for step in spec.transforms { d.step(step.kind) }
        }
        return SHA256.hash(data: d.bytes).map { byte in
            let s = String(byte, radix: 16)
            return s.count == 1 ? "0" + s : s
        }.joined()
    }
}

/// An unambiguous byte description: every string length-prefixed, every list counted.
struct CanonicalDescription {
    var bytes: [UInt8] = []

    mutating func string(_ s: String) {
        bytes += Array("\(s.utf8.count):".utf8)
        bytes += Array(s.utf8)
    }

    mutating func field(_ name: String, _ value: String?) {
        string(name)
        if let value { string(value) } else { bytes.append(UInt8(ascii: "-")) }
    }

    mutating func value(_ v: AttributeValue) {
        let encoded = CanonicalEncoding.bytes(of: v)
        bytes += Array("\(encoded.count):".utf8)
        bytes += encoded
    }

    mutating func key(_ key: KeySchemaSpec?) {
        guard let key else { field("key", nil); return }
        field("key", key.partition.name)
        string(key.partition.type.rawValue)
        field("sort", key.sort?.name)
        string(key.sort?.type.rawValue ?? "-")
    }

    mutating func step(_ kind: TransformKind) {
        string(kind.name)
        switch kind {
        case .rename(let renames):
            string(String(renames.count))
            for r in renames { string(r.from); string(r.to) }
        case .drop(let attributes), .keep(let attributes):
            string(String(attributes.count))
            for a in attributes { string(a.name) }
        case .set(let assignments), .default(let assignments):
            string(String(assignments.count))
            for a in assignments {
                string(a.attribute)
                switch a.value {
                case .constant(let v): string("constant"); value(v)
                case .template(let t): string("template"); string(t.text)
                }
            }
        case .convert(let conversions):
            string(String(conversions.count))
            for c in conversions { string(c.attribute); string(c.conversion.rawValue) }
        case .filter(let filter):
            self.filter(filter)
        }
    }

    mutating func filter(_ f: FilterSpec) {
        switch f {
        case .exists(let attribute, let present):
            string("exists"); string(attribute); string(present ? "true" : "false")
        case .compare(let attribute, let op, let operand):
            string("compare"); string(attribute); string(op.rawValue); value(operand)
        case .all(let parts):
            string("all"); string(String(parts.count))
            for p in parts { filter(p) }
        case .any(let parts):
            string("any"); string(String(parts.count))
            for p in parts { filter(p) }
        case .not(let inner):
            string("not"); filter(inner)
        }
    }
}
