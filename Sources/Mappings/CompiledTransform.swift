// Transform chains compiled once per source table into plain data, then applied to each item.
import DynamoCore

/// A source's transform chain, compiled for one source table: templates are pre-split, `{env}` and
/// `{source}` are already filled in, filter operands are pre-parsed. Applying it does no string
/// parsing of the mapping and touches no shared state, so it is safe to call from many tasks at once.
public struct CompiledTransform: Sendable {
    let steps: [CompiledStep]

    init(compiled steps: [CompiledStep]) { self.steps = steps }

    /// Leaves every item as it is.
    public static let identity = CompiledTransform(compiled: [])

    /// Compiles `steps` for items read from `source`, with `env` for `{env}` in templates.
    public init(steps: [TransformStep], env: String?, source: String) {
        self.steps = steps.map { CompiledStep.compile($0, env: env ?? "{env}", source: source) }
    }

    /// True when the chain does nothing.
    public var isIdentity: Bool { steps.isEmpty }

    /// The item in its target form, or nil when a filter drops it.
    public func apply(_ item: Item) throws(TransformError) -> Item? {
        var item = item
        for step in steps {
            if try !step.apply(&item) { return nil }
        }
        return item
    }

    /// This chain followed by prefixing the string partition key `partitionKey` with `prefix`.
    public func appendingKeyPrefix(_ prefix: String, partitionKey: String, location: SourceLocation) -> CompiledTransform {
        CompiledTransform(compiled: steps + [.keyPrefix(attribute: AttributeName(partitionKey), prefix: prefix, location)])
    }

    /// The source attribute each of `names` holds unchanged after the chain (renamed, or prefixed by
    /// `key-prefix`, both of which keep distinct values distinct), or nil when a step may compute one
    /// of them (`set`, `default`, `convert`). A writer uses it to know whether two items of one source
    /// can meet at one target key: they cannot when the origins include every source key attribute.
    public func origins(of names: [String]) -> [String]? {
        var result: [String] = []
        for name in names {
            var current = AttributeName(name)
            for step in steps.reversed() {
                switch step {
                case .rename(let renames, _):
                    if let r = renames.first(where: { $0.to == current }) { current = r.from }
                case .set(let assignments), .setDefault(let assignments):
                    if assignments.contains(where: { $0.attribute == current }) { return nil }
                case .convert(let conversions):
                    if conversions.contains(where: { AttributeName($0.attribute) == current }) { return nil }
                case .drop, .keep, .filter, .keyPrefix, .keyCheck:
                    // A dropped key attribute fails the key check (dead-lettered, never written);
                    // a prefix maps distinct strings to distinct strings.
                    continue
                }
            }
            result.append(current.string)
        }
        return result
    }

    /// This chain followed by a check that the item has the key attributes with their declared types,
    /// so a bad item fails here, with a clear reason, rather than in a batch write.
    public func appendingKeyCheck(_ key: KeySchemaSpec, location: SourceLocation) -> CompiledTransform {
        CompiledTransform(compiled: steps + [.keyCheck(key, location)])
    }
}

/// Attribute names are ``AttributeName``s here, so every lookup compares UTF-8 bytes, as DynamoDB does.
enum CompiledStep: Sendable {
    case rename([CompiledRename], SourceLocation)
    case drop([AttributeName])
    case keep(Set<AttributeName>)
    case set([CompiledAssignment])
    case setDefault([CompiledAssignment])
    case convert([ConversionSpec])
    case filter(CompiledFilter)
    case keyPrefix(attribute: AttributeName, prefix: String, SourceLocation)
    case keyCheck(KeySchemaSpec, SourceLocation)

    static func compile(_ step: TransformStep, env: String, source: String) -> CompiledStep {
        switch step.kind {
        case .rename(let r): .rename(r.map(CompiledRename.init), step.location)
        case .drop(let a): .drop(a.map { AttributeName($0.name) })
        case .keep(let a): .keep(Set(a.map { AttributeName($0.name) }))
        case .set(let a): .set(a.map { CompiledAssignment($0, env: env, source: source) })
        case .default(let a): .setDefault(a.map { CompiledAssignment($0, env: env, source: source, transformName: "default") })
        case .convert(let c): .convert(c)
        case .filter(let f): .filter(CompiledFilter(f))
        }
    }

    /// Applies the step in place; false when the item is filtered out.
    @inline(__always)
    func apply(_ item: inout Item) throws(TransformError) -> Bool {
        switch self {
        case .rename(let renames, _):
            if renames.count == 1 {
                // The common case, without the scratch array.
                let r = renames[0]
                guard let v = item.removeValue(forKey: r.from) else { return true }
                if item[r.to] != nil {
                    throw TransformError(
                        location: r.location, transform: "rename", attribute: r.to.string,
                        reason: "already exists; renaming '\(r.from)' onto it would lose one of the two values")
                }
                item[r.to] = v
                return true
            }
            var moved: [(CompiledRename, AttributeValue)] = []
            moved.reserveCapacity(renames.count)
            for r in renames {
                if let v = item.removeValue(forKey: r.from) { moved.append((r, v)) }
            }
            for (r, v) in moved {
                if item[r.to] != nil {
                    throw TransformError(
                        location: r.location, transform: "rename", attribute: r.to.string,
                        reason: "already exists; renaming '\(r.from)' onto it would lose one of the two values")
                }
                item[r.to] = v
            }
        case .drop(let names):
            for n in names { item.removeValue(forKey: n) }
        case .keep(let names):
            if item.keys.contains(where: { !names.contains($0) }) {
                item = item.filter { names.contains($0.key) }
            }
        case .set(let assignments):
            if assignments.count == 1 {
                let a = assignments[0]
                item[a.attribute] = try a.value(for: item)
            } else {
                var values: [AttributeValue] = []
                values.reserveCapacity(assignments.count)
                for a in assignments { values.append(try a.value(for: item)) }
                for (a, v) in zip(assignments, values) { item[a.attribute] = v }
            }
        case .setDefault(let assignments):
            if assignments.count == 1 {
                let a = assignments[0]
                if item[a.attribute] == nil { item[a.attribute] = try a.value(for: item) }
                return true
            }
            var values: [(AttributeName, AttributeValue)] = []
            for a in assignments where item[a.attribute] == nil {
                values.append((a.attribute, try a.value(for: item)))
            }
            for (k, v) in values { item[k] = v }
        case .convert(let conversions):
            for c in conversions {
                let name = AttributeName(c.attribute)
                guard let v = item[name] else { continue }
                if case .null = v { continue }
                item[name] = try Converter.convert(v, c)
            }
        case .filter(let f):
            return f.matches(item)
        case .keyPrefix(let attribute, let prefix, let location):
            switch item[attribute] {
            case .s(let s)?:
                item[attribute] = .s(prefix + s)
            case nil:
                throw TransformError(
                    location: location, transform: "key-prefix", attribute: attribute.string,
                    reason: "is missing, so it cannot be prefixed")
            case let v?:
                throw TransformError(
                    location: location, transform: "key-prefix", attribute: attribute.string,
                    reason: "has type \(v.typeDescriptor); key-prefix needs an S partition key")
            }
        case .keyCheck(let key, let location):
            try Self.check(key.partition, role: "partition key", in: item, location)
            if let sort = key.sort { try Self.check(sort, role: "sort key", in: item, location) }
        }
        return true
    }

    private static func check(
        _ k: KeyAttributeSpec, role: String, in item: Item,
        _ location: SourceLocation
    ) throws(TransformError) {
        guard let v = item[AttributeName(k.name)] else {
            throw TransformError(
                location: location, transform: "key", attribute: k.name,
                reason: "is missing after the transforms; it is the target's \(role)")
        }
        if v.typeDescriptor != k.type.rawValue {
            throw TransformError(
                location: location, transform: "key", attribute: k.name,
                reason: "has type \(v.typeDescriptor) after the transforms; the target's \(role) is \(k.type.rawValue)")
        }
        // DynamoDB refuses a whole BatchWriteItem for one key value it does not allow, so such an item must
        // fail alone (dead letter) rather than stop the run with the 24 others of its batch.
        let bytes: Int
        switch v {
        case .s(let text): bytes = text.utf8.count
        case .b(let data): bytes = data.count
        default: return
        }
        let limit = role == "partition key" ? maxPartitionKeyBytes : maxSortKeyBytes
        if bytes == 0 {
            throw TransformError(
                location: location, transform: "key", attribute: k.name,
                reason: "is empty after the transforms; DynamoDB does not allow an empty \(role)")
        }
        if bytes > limit {
            throw TransformError(
                location: location, transform: "key", attribute: k.name,
                reason: "is \(bytes) bytes after the transforms; DynamoDB allows at most \(limit) in a \(role)")
        }
    }

    /// DynamoDB's limits on key values: 2048 bytes for a partition key, 1024 for a sort key.
    static let maxPartitionKeyBytes = 2048
    static let maxSortKeyBytes = 1024
}

/// A rename with byte-compared names.
struct CompiledRename: Sendable {
    let from: AttributeName
    let to: AttributeName
    let location: SourceLocation

    init(_ r: Rename) {
        from = AttributeName(r.from); to = AttributeName(r.to); location = r.location
    }
}

/// An assignment with its template resolved into pieces.
struct CompiledAssignment: Sendable {
    let attribute: AttributeName
    let location: SourceLocation
    let template: String
    let kind: Kind
    let transformName: String

    enum Kind: Sendable {
        case constant(AttributeValue)
        case copy(AttributeName)
        case render([Piece])
    }

    enum Piece: Sendable {
        case literal(String)
        case attribute(AttributeName)
    }

    init(_ a: Assignment, env: String, source: String, transformName: String = "set") {
        attribute = AttributeName(a.attribute)
        location = a.location
        self.transformName = transformName
        switch a.value {
        case .constant(let v):
            template = ""
            kind = .constant(v)
        case .template(let t):
            template = t.text
            if t.segments.count == 1, case .attribute(let name) = t.segments[0] {
                kind = .copy(AttributeName(name))
                return
            }
            var pieces: [Piece] = []
            for s in t.segments {
                let piece: Piece =
                    switch s {
                    case .literal(let l): .literal(l)
                    case .env: .literal(env)
                    case .source: .literal(source)
                    case .attribute(let n): .attribute(AttributeName(n))
                    }
                // Merge neighbouring literals so rendering appends as few strings as possible.
                if case .literal(let l) = piece, case .literal(let prev)? = pieces.last {
                    pieces[pieces.count - 1] = .literal(prev + l)
                } else {
                    pieces.append(piece)
                }
            }
            if pieces.count == 1, case .literal(let l) = pieces[0] {
                kind = .constant(.s(l))
            } else {
                kind = .render(pieces)
            }
        }
    }

    @inline(__always)
    func value(for item: Item) throws(TransformError) -> AttributeValue {
        switch kind {
        case .constant(let v):
            return v
        case .copy(let name):
            guard let v = item[name] else { throw missing(name) }
            return v
        case .render(let pieces):
            var out = ""
            for p in pieces {
                switch p {
                case .literal(let l): out += l
                case .attribute(let name):
                    switch item[name] {
                    case .s(let s)?: out += s
                    case .n(let n)?: out += n.canonical
                    case .bool(let b)?: out += b ? "true" : "false"
                    case nil: throw missing(name)
                    case let v?:
                        throw TransformError(
                            location: location, transform: transformName, attribute: attribute.string,
                            reason: "cannot use attribute '\(name)' of type \(v.typeDescriptor) in template \"\(template)\"; templates take S, N and BOOL")
                    }
                }
            }
            return .s(out)
        }
    }

    private func missing(_ name: AttributeName) -> TransformError {
        TransformError(
            location: location, transform: transformName, attribute: attribute.string,
            reason: "needs attribute '\(name)' for template \"\(template)\", and the item has none")
    }
}

/// The per-attribute conversions.
enum Converter {
    static func convert(_ v: AttributeValue, _ c: ConversionSpec) throws(TransformError) -> AttributeValue {
        func fail(_ reason: String) -> TransformError {
            TransformError(
                location: c.location, transform: "convert \(c.conversion.rawValue)",
                attribute: c.attribute, reason: reason)
        }
        func wrongType(_ expected: String) -> TransformError {
            fail("has type \(v.typeDescriptor); \(c.conversion.rawValue) converts \(expected)")
        }
        switch c.conversion {
        case .number:
            switch v {
            case .n: return v
            case .s(let s):
                guard DecimalValue(s) != nil else { throw fail("is \(quoted(s)), not a number") }
                do {
                    return .n(try DynamoNumber(validating: s))
                } catch {
                    throw fail("is \(quoted(s)), which DynamoDB cannot store: \(error)")
                }
            default: throw wrongType("S to N")
            }
        case .string:
            switch v {
            case .s: return v
            case .n(let n): return .s(n.canonical)
            default: throw wrongType("N to S")
            }
        case .iso8601FromEpochSeconds, .iso8601FromEpochMillis:
            let millis = c.conversion == .iso8601FromEpochMillis
            let unit = millis ? "milliseconds" : "seconds"
            let text: String
            switch v {
            case .n(let n): text = n.text
            case .s(let s): text = s
            default: throw wrongType("N (or S holding a number) of \(unit) since 1970 to S")
            }
            guard let d = DecimalValue(text) else { throw fail("is \(quoted(text)), not a number of \(unit)") }
            guard let whole = d.exactInteger else {
                throw fail("is \(text), not a whole number of \(unit)")
            }
            let formatted: String?
            if millis {
                let (secs, ms) = CivilTime.floorDivMod(whole, 1000)
                // Whole seconds are written without ".000", so they read like the other sources' dates.
                formatted = CivilTime.format(epochSeconds: secs, millis: ms == 0 ? nil : ms)
            } else {
                formatted = CivilTime.format(epochSeconds: whole, millis: nil)
            }
            guard let formatted else { throw fail("is \(text), outside the years 0001-9999") }
            return .s(formatted)
        case .epochSecondsFromISO8601, .epochMillisFromISO8601:
            guard case .s(let s) = v else { throw wrongType("S holding an ISO 8601 date-time to N") }
            guard let p = CivilTime.parse(s) else {
                throw fail("is \(quoted(s)), not an ISO 8601 date-time like 2024-01-31T12:00:00Z")
            }
            if c.conversion == .epochSecondsFromISO8601 {
                guard p.fraction.allSatisfy({ $0 == 0 }) else {
                    throw fail("is \(quoted(s)), which has fractional seconds; use epoch-millis-from-iso8601 to keep them")
                }
                return .n(DynamoNumber(p.epochSeconds))
            }
            guard p.fraction.dropFirst(3).allSatisfy({ $0 == 0 }) else {
                throw fail("is \(quoted(s)), which has digits below a millisecond")
            }
            var ms = 0
            for k in 0..<3 { ms = ms * 10 + Int(k < p.fraction.count ? p.fraction[k] : 0) }
            return .n(DynamoNumber(p.epochSeconds * 1000 + ms))
        case .stringSet:
            switch v {
            case .ss: return v
            case .s(let s):
                if s.isEmpty { throw fail("is \"\", which gives an empty set; DynamoDB sets cannot be empty") }
                var seen = Set<AttributeName>()  // members are distinct by bytes, as in DynamoDB
                var elements: [String] = []
                for part in s.split(separator: ",", omittingEmptySubsequences: false) {
                    let e = String(part).trimmingSpaces
                    if e.isEmpty { throw fail("is \(quoted(s)), which has an empty element") }
                    if !seen.insert(AttributeName(e)).inserted {
                        throw fail("is \(quoted(s)), which lists \(quoted(e)) twice; DynamoDB sets hold distinct values")
                    }
                    elements.append(e)
                }
                return .ss(elements)
            default: throw wrongType("S to SS")
            }
        case .stringFromSet:
            switch v {
            case .s: return v
            case .ss(let elements):
                if let bad = elements.first(where: { $0.contains(",") }) {
                    throw fail("holds \(quoted(bad)), which contains ','; the joined text could not be split back")
                }
                return .s(elements.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.joined(separator: ","))
            default: throw wrongType("SS to S")
            }
        case .lowercase:
            guard case .s(let s) = v else { throw wrongType("S") }
            return .s(s.lowercased())
        case .uppercase:
            guard case .s(let s) = v else { throw wrongType("S") }
            return .s(s.uppercased())
        }
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}

/// A filter with its operands pre-parsed.
indirect enum CompiledFilter: Sendable {
    case exists(AttributeName, Bool)
    case equals(AttributeName, AttributeValue)
    case notEquals(AttributeName, AttributeValue)
    case order(AttributeName, FilterOperator, OrderOperand)
    case beginsWith(AttributeName, OrderOperand)
    case all([CompiledFilter])
    case any([CompiledFilter])
    case not(CompiledFilter)
    /// An operand the parser should have rejected; matches nothing.
    case never

    enum OrderOperand: Sendable {
        case number(DecimalValue)
        case string([UInt8])
        case binary([UInt8])

        init?(_ v: AttributeValue) {
            switch v {
            case .n(let n):
                guard let d = DecimalValue(n.text) else { return nil }
                self = .number(d)
            case .s(let s): self = .string(Array(s.utf8))
            case .b(let b): self = .binary(b)
            default: return nil
            }
        }
    }

    init(_ spec: FilterSpec) {
        switch spec {
        case .exists(let a, let e): self = .exists(AttributeName(a), e)
        case .compare(let a, .equals, let v): self = .equals(AttributeName(a), v)
        case .compare(let a, .notEquals, let v): self = .notEquals(AttributeName(a), v)
        case .compare(let a, .beginsWith, let v):
            if let o = OrderOperand(v), !(o.isNumber) { self = .beginsWith(AttributeName(a), o) } else { self = .never }
        case .compare(let a, let op, let v):
            if let o = OrderOperand(v) { self = .order(AttributeName(a), op, o) } else { self = .never }
        case .all(let fs): self = .all(fs.map(CompiledFilter.init))
        case .any(let fs): self = .any(fs.map(CompiledFilter.init))
        case .not(let f): self = .not(CompiledFilter(f))
        }
    }

    func matches(_ item: Item) -> Bool {
        switch self {
        case .exists(let a, let want): return (item[a] != nil) == want
        case .equals(let a, let v):
            guard let x = item[a] else { return false }
            return ValueEquality.equal(x, v)
        case .notEquals(let a, let v):
            guard let x = item[a] else { return true }
            return !ValueEquality.equal(x, v)
        case .order(let a, let op, let operand):
            guard let x = item[a], let c = Self.compare(x, operand) else { return false }
            switch op {
            case .lessThan: return c < 0
            case .lessOrEqual: return c <= 0
            case .greaterThan: return c > 0
            case .greaterOrEqual: return c >= 0
            default: return false
            }
        case .beginsWith(let a, let prefix):
            switch (item[a], prefix) {
            case (.s(let s)?, .string(let p)): return s.utf8.starts(with: p)
            case (.b(let b)?, .binary(let p)): return b.starts(with: p)
            default: return false
            }
        case .all(let fs): return fs.allSatisfy { $0.matches(item) }
        case .any(let fs): return fs.contains { $0.matches(item) }
        case .not(let f): return !f.matches(item)
        case .never: return false
        }
    }

    /// -1, 0, 1; nil when the types differ (such comparisons are false, as in DynamoDB).
    private static func compare(_ x: AttributeValue, _ o: OrderOperand) -> Int? {
        switch (x, o) {
        case (.n(let n), .number(let d)):
            guard let v = DecimalValue(n.text) else { return nil }
            return v < d ? -1 : (d < v ? 1 : 0)
        case (.s(let s), .string(let p)):
            if s.utf8.elementsEqual(p) { return 0 }
            return s.utf8.lexicographicallyPrecedes(p) ? -1 : 1
        case (.b(let b), .binary(let p)):
            if b == p { return 0 }
            return b.lexicographicallyPrecedes(p) ? -1 : 1
        default:
            return nil
        }
    }
}

extension CompiledFilter.OrderOperand {
    var isNumber: Bool { if case .number = self { true } else { false } }
}

/// DynamoDB's notion of equal values: numbers by value, strings by bytes, sets ignoring order.
enum ValueEquality {
    static func equal(_ a: AttributeValue, _ b: AttributeValue) -> Bool {
        switch (a, b) {
        case (.s(let x), .s(let y)): return x.utf8.elementsEqual(y.utf8)
        case (.n(let x), .n(let y)): return numbersEqual(x, y)
        case (.b(let x), .b(let y)): return x == y
        case (.bool(let x), .bool(let y)): return x == y
        case (.null, .null): return true
        case (.ss(let x), .ss(let y)):
            return x.count == y.count && Set(x.map { Array($0.utf8) }) == Set(y.map { Array($0.utf8) })
        case (.ns(let x), .ns(let y)):
            return x.count == y.count && x.allSatisfy { n in y.contains { numbersEqual(n, $0) } }
        case (.bs(let x), .bs(let y)): return x.count == y.count && Set(x) == Set(y)
        case (.l(let x), .l(let y)): return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case (.m(let x), .m(let y)):
            return x.count == y.count && x.allSatisfy { k, v in y[k].map { equal(v, $0) } ?? false }
        default: return false
        }
    }

    static func numbersEqual(_ x: DynamoNumber, _ y: DynamoNumber) -> Bool {
        if let a = DecimalValue(x.text), let b = DecimalValue(y.text) { return a == b }
        return x.text == y.text
    }
}
