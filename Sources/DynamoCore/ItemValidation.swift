/// What DynamoDB would reject in an item, found before sending it.
public enum ItemValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A string, number or binary set with no members.
    case emptySet(path: String)
    /// A set with the same member twice (numbers compare by value).
    case duplicateSetMember(path: String, member: String)
    /// A number DynamoDB does not accept.
    case invalidNumber(path: String, DynamoNumberError)
    /// Maps and lists nested deeper than DynamoDB's 32 levels.
    case nestedTooDeep(path: String)
    /// The item is larger than 400 KB by DynamoDB's size rules.
    case itemTooLarge(size: Int)

    public var description: String {
        switch self {
        case .emptySet(let path): "\(path): empty sets are not allowed in DynamoDB"
        case .duplicateSetMember(let path, let member): "\(path): set contains \(member) more than once"
        case .invalidNumber(let path, let error): "\(path): \(error)"
        case .nestedTooDeep(let path): "\(path): nested deeper than DynamoDB's 32 levels"
        case .itemTooLarge(let size): "item is \(size) bytes; DynamoDB's limit is \(dynamoDBMaximumItemSize)"
        }
    }
}

/// DynamoDB's deepest nesting of maps and lists.
public let dynamoDBMaximumNestingDepth = 32

/// Checks what DynamoDB itself would reject: empty or duplicate-member sets, invalid numbers,
/// nesting deeper than 32 levels and items over 400 KB. The codec does not check these (it reads and
/// writes faithfully); call this before writing user-supplied items. Paths read like
/// `address.lines[2]`.
public func validateDynamoDBItem(_ item: Item) throws(ItemValidationError) {
    for (name, value) in item { try validate(value, path: name.string, depth: 0) }
    let size = dynamoDBItemSize(item)
    if size > dynamoDBMaximumItemSize { throw .itemTooLarge(size: size) }
}

private func validate(_ value: AttributeValue, path: String, depth: Int) throws(ItemValidationError) {
    switch value {
    case .s, .b, .bool, .null: return
    case .n(let number): try check(number, path: path)
    case .m(let members):
        if depth + 1 > dynamoDBMaximumNestingDepth { throw .nestedTooDeep(path: path) }
        for (name, member) in members { try validate(member, path: path + "." + name.string, depth: depth + 1) }
    case .l(let elements):
        if depth + 1 > dynamoDBMaximumNestingDepth { throw .nestedTooDeep(path: path) }
        for (i, element) in elements.enumerated() { try validate(element, path: path + "[\(i)]", depth: depth + 1) }
    case .ss(let members):
        if members.isEmpty { throw .emptySet(path: path) }
        var seen = Set<[UInt8]>()
        for m in members where !seen.insert(Array(m.utf8)).inserted {
            throw .duplicateSetMember(path: path, member: "\"\(m)\"")
        }
    case .ns(let members):
        if members.isEmpty { throw .emptySet(path: path) }
        var seen = Set<String>()
        for m in members {
            try check(m, path: path)
            if !seen.insert(m.canonical).inserted { throw .duplicateSetMember(path: path, member: m.text) }
        }
    case .bs(let members):
        if members.isEmpty { throw .emptySet(path: path) }
        var seen = Set<[UInt8]>()
        for m in members where !seen.insert(m).inserted {
            throw .duplicateSetMember(path: path, member: "binary " + Base64.encode(m))
        }
    }
}

private func check(_ number: DynamoNumber, path: String) throws(ItemValidationError) {
    do { _ = try DynamoNumber(validating: number.text) } catch { throw .invalidNumber(path: path, error) }
}
