import DynamoClient
import DynamoCore
import Mappings
import RunState

/// What one source item becomes in its target.
public enum ProjectedItem: Sendable {
    /// Written: the transformed item, its target key and its DynamoDB size.
    case written(item: Item, key: Item, size: Int)
    /// Dropped by a filter.
    case filtered
    /// Cannot be written: dead-lettered by the migrator, left out (and counted) by verify.
    case failed(reason: String)
}

/// Applies a source's transform the way both `migrate` and `verify` must: the transform, then
/// DynamoDB's 400 KB limit, then the target key. One function, so the two can never disagree.
public func project(_ item: Item, through transform: CompiledTransform, targetKey: KeySchema) -> ProjectedItem {
    let out: Item
    do {
        guard let transformed = try transform.apply(item) else { return .filtered }
        out = transformed
    } catch {
        return .failed(reason: error.description)
    }
    let size = dynamoDBItemSize(out)
    guard size <= DynamoDBLimits.maxItemBytes else {
        return .failed(reason: "transformed item is \(size) bytes, over DynamoDB's 400 KB item limit")
    }
    guard let key = targetKey.key(of: out) else {
        return .failed(reason: "transformed item lacks the target key \(targetKey)")
    }
    return .written(item: out, key: key, size: size)
}
