// Applying one stream record to its target: the same projection as the copy, then puts and deletes.
import DynamoClient
import DynamoCore
import Mappings
import TableIO

/// The item a target should hold under one key, computed from every source's current content under the
/// target's conflict policy. Targets filled by several sources (or whose policy depends on what the target
/// held before) cannot be followed record by record: a change to one source may uncover or hide another
/// source's item. For those, the applier asks a `TargetItemSource` what the key should hold now.
public protocol TargetItemSource: Sendable {
    /// The item the target must hold under `targetKey` now, or nil when it must hold none.
    func expectedItem(forTargetKey targetKey: Item) async throws -> Item?

    /// Runs `body` (resolve one key, then write it) while no other body for that key runs. Two shards
    /// (of two sources) touching one key could otherwise write their resolutions in the wrong order.
    func exclusively<T: Sendable>(forTargetKey targetKey: Item, _ body: @Sendable () async throws -> T) async throws -> T
}

extension TargetItemSource {
    /// Without serialisation: for sources whose resolutions cannot race (tests).
    public func exclusively<T: Sendable>(forTargetKey targetKey: Item, _ body: @Sendable () async throws -> T) async throws -> T {
        try await body()
    }
}

/// What applying one record did.
public struct AppliedChange: Sendable, Equatable {
    public var puts = 0
    public var deletes = 0
    /// The record was a Time to Live expiry.
    public var timeToLiveDelete = false
    /// The new image could not be projected (the copy would have dead-lettered it): the reason.
    public var failure: String?

    public init() {}
}

/// Applies a source's stream records to its target.
public struct RecordApplier: Sendable {
    public let client: DynamoDBClient
    public let source: String
    public let target: String
    public let transform: CompiledTransform
    public let targetKey: KeySchema
    /// Nil for a single-source `overwrite` target: the record's own images decide.
    public let resolver: (any TargetItemSource)?

    public init(
        client: DynamoDBClient, source: String, target: String, transform: CompiledTransform, targetKey: KeySchema,
        resolver: (any TargetItemSource)? = nil
    ) {
        self.client = client; self.source = source; self.target = target; self.transform = transform
        self.targetKey = targetKey; self.resolver = resolver
    }

    /// The writes one record asks for, before any I/O: the projected old key to delete (when the new image
    /// is filtered out, fails, or lands on another key) and the projected new item to put.
    public func plan(_ record: StreamRecord) throws(FollowError) -> (delete: Item?, put: Item?, failure: String?) {
        func projected(_ image: Item?) -> ProjectedItem? { image.map { project($0, through: transform, targetKey: targetKey) } }
        var oldKey: Item?
        if case .written(_, let key, _)? = projected(record.oldImage) { oldKey = key }
        switch record.eventName {
        case .remove:
            guard record.oldImage != nil else { throw .missingImage(source: source, sequenceNumber: record.sequenceNumber, image: "OldImage") }
            return (oldKey, nil, nil)
        case .insert, .modify:
            guard let newImage = record.newImage else {
                throw .missingImage(source: source, sequenceNumber: record.sequenceNumber, image: "NewImage")
            }
            if record.eventName == .modify, record.oldImage == nil {
                throw .missingImage(source: source, sequenceNumber: record.sequenceNumber, image: "OldImage")
            }
            switch project(newImage, through: transform, targetKey: targetKey) {
            case .written(let item, let key, _):
                return (oldKey == key ? nil : oldKey, item, nil)
            case .filtered:
                return (oldKey, nil, nil)
            case .failed(let reason):
                return (oldKey, nil, reason)
            }
        }
    }

    /// Applies `record`: deletes first, then the put, so an item whose projected key did not change is
    /// never missing in between. With a resolver, every touched target key is set to what it resolves to.
    public func apply(_ record: StreamRecord) async throws -> AppliedChange {
        var change = AppliedChange()
        change.timeToLiveDelete = record.isTimeToLiveDelete
        let planned = try plan(record)
        change.failure = planned.failure
        if let resolver {
            var keys: [Item] = []
            if let key = planned.delete { keys.append(key) }
            if let item = planned.put, let key = targetKey.key(of: item), !keys.contains(key) { keys.append(key) }
            for key in keys {
                let (client, target) = (self.client, self.target)
                let put = try await resolver.exclusively(forTargetKey: key) {
                    if let expected = try await resolver.expectedItem(forTargetKey: key) {
                        try await client.putItem(table: target, item: expected)
                        return true
                    }
                    try await client.deleteItem(table: target, key: key)
                    return false
                }
                if put { change.puts += 1 } else { change.deletes += 1 }
            }
            return change
        }
        if let key = planned.delete {
            try await client.deleteItem(table: target, key: key)
            change.deletes += 1
        }
        if let item = planned.put {
            try await client.putItem(table: target, item: item)
            change.puts += 1
        }
        return change
    }
}
