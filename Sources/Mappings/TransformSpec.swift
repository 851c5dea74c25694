// The transforms a mapping file declares, parsed and checked but not yet compiled for a source table.
import DynamoCore

/// One `transforms:` item, with where it was written.
public struct TransformStep: Sendable, Equatable {
    public var kind: TransformKind
    /// The location of the transform's name (`rename:` etc.).
    public var location: SourceLocation

    public init(_ kind: TransformKind, location: SourceLocation) {
        self.kind = kind
        self.location = location
    }
}

/// An attribute name with where it was written (for messages about that one attribute).
public struct AttributeRef: Sendable, Hashable {
    public var name: String
    public var location: SourceLocation

    public init(_ name: String, location: SourceLocation) {
        self.name = name
        self.location = location
    }
}

/// What a transform does.
public enum TransformKind: Sendable, Equatable {
    /// Rename attributes, all at once (so `{a: b, b: a}` swaps). Renaming onto an attribute that
    /// exists and is not itself renamed away is an error for that item.
    case rename([Rename])
    /// Remove these attributes.
    case drop([AttributeRef])
    /// Remove every attribute not listed.
    case keep([AttributeRef])
    /// Set attributes, all computed from the item as it was before this step.
    case set([Assignment])
    /// Like `set`, but only for attributes the item lacks (a NULL value counts as present).
    case `default`([Assignment])
    /// Convert attributes' types or formats; attributes that are missing or NULL are left alone.
    case convert([ConversionSpec])
    /// Keep only items that match; the others are filtered out (`apply` returns nil).
    case filter(FilterSpec)

    /// The name used in the file and in messages.
    public var name: String {
        switch self {
        case .rename: "rename"
        case .drop: "drop"
        case .keep: "keep"
        case .set: "set"
        case .default: "default"
        case .convert: "convert"
        case .filter: "filter"
        }
    }

    /// Every transform name the format knows.
    public static let names = ["rename", "drop", "keep", "set", "default", "convert", "filter"]
}

/// `from` becomes `to`.
public struct Rename: Sendable, Hashable {
    public var from: String
    public var to: String
    public var location: SourceLocation

    public init(from: String, to: String, location: SourceLocation) {
        self.from = from
        self.to = to
        self.location = location
    }
}

/// `attribute: value` in `set` or `default`.
public struct Assignment: Sendable, Equatable {
    public var attribute: String
    public var value: ValueSpec
    public var location: SourceLocation

    public init(attribute: String, value: ValueSpec, location: SourceLocation) {
        self.attribute = attribute
        self.value = value
        self.location = location
    }
}

/// A value to set: a constant, or a template over the item's attributes.
public enum ValueSpec: Sendable, Equatable {
    case constant(AttributeValue)
    case template(Template)
}

/// A string template such as `"{tenantId}#{orderId}"`.
///
/// `{name}` is the item's attribute `name` (S as is, N as its number text, BOOL as true/false);
/// `{env}` is the environment and `{source}` the source table name; `{{` and `}}` are literal braces.
/// A template that is exactly one attribute placeholder (`"{price}"`) copies the value with its type.
public struct Template: Sendable, Hashable {
    /// The template as written.
    public let text: String
    public let segments: [Segment]

    public enum Segment: Sendable, Hashable {
        case literal(String)
        case attribute(String)
        case env
        case source
    }

    /// Parses a template; the error text explains the problem (an unclosed `{`, say).
    public static func parse(_ text: String) -> Result<Template, TemplateSyntaxError> {
        var segments: [Segment] = []
        var literal = ""
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            let next = text.index(after: i)
            if c == "{" {
                if next < text.endIndex, text[next] == "{" {
                    literal.append("{")
                    i = text.index(after: next)
                    continue
                }
                guard let close = text[next...].firstIndex(of: "}") else {
                    return .failure(
                        TemplateSyntaxError(
                            message: "unclosed '{' in template \"\(text)\"",
                            hint: "write '{{' for a literal '{'"))
                }
                let name = String(text[next..<close])
                if name.isEmpty {
                    return .failure(
                        TemplateSyntaxError(
                            message: "empty placeholder '{}' in template \"\(text)\"",
                            hint: "put an attribute name inside the braces"))
                }
                if name.contains("{") {
                    return .failure(
                        TemplateSyntaxError(
                            message: "unclosed '{' in template \"\(text)\"",
                            hint: "write '{{' for a literal '{'"))
                }
                if !literal.isEmpty { segments.append(.literal(literal)); literal = "" }
                switch name {
                case "env": segments.append(.env)
                case "source": segments.append(.source)
                default: segments.append(.attribute(name))
                }
                i = text.index(after: close)
            } else if c == "}" {
                if next < text.endIndex, text[next] == "}" {
                    literal.append("}")
                    i = text.index(after: next)
                    continue
                }
                return .failure(
                    TemplateSyntaxError(
                        message: "unmatched '}' in template \"\(text)\"",
                        hint: "write '}}' for a literal '}'"))
            } else {
                literal.append(c)
                i = next
            }
        }
        if !literal.isEmpty { segments.append(.literal(literal)) }
        return .success(Template(text: text, segments: segments))
    }

    /// The item attributes the template reads.
    public var attributes: [String] {
        segments.compactMap { if case .attribute(let a) = $0 { a } else { nil } }
    }
}

/// Why a template does not parse.
public struct TemplateSyntaxError: Error, Sendable, Hashable {
    public let message: String
    public let hint: String?
}

/// `attribute: conversion` in `convert`.
public struct ConversionSpec: Sendable, Hashable {
    public var attribute: String
    public var conversion: Conversion
    public var location: SourceLocation

    public init(attribute: String, conversion: Conversion, location: SourceLocation) {
        self.attribute = attribute
        self.conversion = conversion
        self.location = location
    }
}

/// A type or format conversion of one attribute.
public enum Conversion: String, Sendable, Hashable, CaseIterable {
    /// S holding decimal text -> N. N is left as is.
    case number
    /// N -> S (the number in DynamoDB's canonical form). S is left as is.
    case string
    /// N (or S holding an integer) of seconds since 1970 -> S `2024-01-31T12:00:00Z`.
    case iso8601FromEpochSeconds = "iso8601-from-epoch-seconds"
    /// N (or S holding an integer) of milliseconds since 1970 -> S `2024-01-31T12:00:00.250Z`.
    case iso8601FromEpochMillis = "iso8601-from-epoch-millis"
    /// S in ISO 8601 / RFC 3339 -> N of whole seconds since 1970.
    case epochSecondsFromISO8601 = "epoch-seconds-from-iso8601"
    /// S in ISO 8601 / RFC 3339 -> N of whole milliseconds since 1970.
    case epochMillisFromISO8601 = "epoch-millis-from-iso8601"
    /// S split on "," (spaces around elements trimmed) -> SS. SS is left as is.
    case stringSet = "string-set"
    /// SS -> S, elements sorted (by UTF-8 bytes) and joined with ",". S is left as is.
    case stringFromSet = "string-from-set"
    /// S -> S lowercased.
    case lowercase
    /// S -> S uppercased.
    case uppercase
}

/// Which items a `filter` keeps.
public indirect enum FilterSpec: Sendable, Equatable {
    /// `exists: true|false`.
    case exists(attribute: String, Bool)
    /// `attribute` compared with a constant.
    case compare(attribute: String, FilterOperator, AttributeValue)
    /// `all: [...]`: every condition holds (true when empty).
    case all([FilterSpec])
    /// `any: [...]`: at least one holds (false when empty).
    case any([FilterSpec])
    /// `not: {...}`.
    case not(FilterSpec)
}

/// A comparison in a filter.
public enum FilterOperator: String, Sendable, Hashable, CaseIterable {
    /// Present and equal (numbers by value, strings and binaries by bytes, sets ignoring order).
    case equals
    /// Not `equals`: also true when the attribute is missing.
    case notEquals = "not-equals"
    /// Present, same type (N, S or B) and ordered as DynamoDB orders keys.
    case lessThan = "less-than"
    case lessOrEqual = "less-or-equal"
    case greaterThan = "greater-than"
    case greaterOrEqual = "greater-or-equal"
    /// S or B attribute starting with the operand.
    case beginsWith = "begins-with"
}
