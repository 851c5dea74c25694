import DynamoClient
import DynamoCore
import Mappings

/// The item a target must hold at one key, recomputed from its sources' current content.
///
/// A stream record of one source says only what that source did. In a many-to-one target the item at a
/// key depends on every source that can produce the key and on the conflict policy (under
/// `keep-existing`, a later source's item takes the key only while no earlier source has one), so a
/// follower cannot apply the record's image as it is. It asks this resolver instead: each source's key
/// for the target key (``KeyDerivation``, exact by construction), a consistent GetItem per source, each
/// item through the same ``project(_:through:targetKey:)`` as the copy, folded in mapping order with
/// ``ConflictPolicy/merge(existing:incoming:)`` on content hashes, exactly as ``TargetExpectation``
/// folds whole tables. So once the sources stop changing and the follower has recomputed every key a
/// record touched, the target is what `verify` expects.
///
/// Reads are ConsistentRead, so a resolution reflects every source write acknowledged before it began.
/// Two resolutions of one key must still be written in the order they were made: a follower serialises
/// resolve-and-write per target key (``TargetKeySerializer``).
public struct TargetItemResolver: Sendable {
    /// One source: its table, its per-item function and how its key maps onto the target's.
    public struct Source: Sendable {
        public var table: String
        public var transform: CompiledTransform
        public var derivation: KeyDerivation
    }

    public let client: DynamoDBClient
    public let target: String
    public let conflict: ConflictPolicy
    public let targetKeySchema: KeySchema
    /// In mapping order: the order the copy writes them in and the merge rule folds them.
    public let sources: [Source]
    /// Shared by every copy of this resolver: one resolve-and-write per target key at a time.
    public let serializer = TargetKeySerializer()

    /// - Throws: the ``FollowLimitation`` of the first source whose key cannot be traced back exactly.
    public init(
        client: DynamoDBClient, target: ResolvedTarget, targetKeySchema: KeySchema, sourceKeySchemas: [KeySchema]
    ) throws(FollowLimitation) {
        self.client = client
        self.target = target.name
        self.conflict = target.conflict
        self.targetKeySchema = targetKeySchema
        var sources: [Source] = []
        for (source, key) in zip(target.sources, sourceKeySchemas) {
            let derivation = try source.keyDerivation(sourceKey: key.spec, targetKey: targetKeySchema.spec).get()
            sources.append(Source(table: source.table, transform: source.itemTransform(targetKey: targetKeySchema.spec), derivation: derivation))
        }
        self.sources = sources
    }

    /// Describes the sources and the target (or the key schema migrate would create it with), then builds
    /// the resolver. Throws ``FollowLimitation`` when the target cannot be followed exactly.
    /// - Parameters:
    ///   - client: the sources' client (the resolver reads them with it).
    ///   - targetClient: the target's, when it is on another account or region (default: `client`).
    public static func make(client: DynamoDBClient, target: ResolvedTarget, targetClient: DynamoDBClient? = nil) async throws -> TargetItemResolver {
        let checksummer = Checksummer(client: client)
        var descriptions: [TableDescription] = []
        for source in target.sources { descriptions.append(try await checksummer.describe(source.table)) }
        let (keySchema, _) = try await TargetExpectation(checksummer: Checksummer(client: targetClient ?? client))
            .targetKeySchema(target, sources: descriptions)
        return try TargetItemResolver(client: client, target: target, targetKeySchema: keySchema, sourceKeySchemas: descriptions.map(\.keySchema))
    }

    /// The target key an item of `sourceTable` with `sourceKey` lands on (whether or not it passes the
    /// filters), or nil when `sourceTable` is not a source here or the key lacks an attribute.
    public func targetKey(forSourceKey sourceKey: Item, sourceTable: String) -> Item? {
        sources.first { $0.table == sourceTable }?.derivation.targetKey(forSourceKey: sourceKey)
    }

    /// The item the target must hold at `targetKey` given the sources' content now; nil when it must not
    /// hold the key. Throws ``TargetItemConflict`` under `conflict: fail` when two sources produce different
    /// items for the key (the copy would have stopped there too).
    public func expectedItem(forTargetKey targetKey: Item) async throws -> Item? {
        let resolution = try await resolve(targetKey: targetKey)
        if let conflict = resolution.conflict { throw conflict }
        return resolution.item
    }

    /// The full account for one target key: each source's contribution and the outcome.
    public func resolve(targetKey: Item) async throws -> TargetItemResolution {
        // Every source is read at once; the fold below is in mapping order whatever order they answer in.
        let contributions = try await withThrowingTaskGroup(of: (Int, SourceContribution).self) { group in
            for (index, source) in sources.enumerated() {
                group.addTask { (index, try await contribution(of: source, targetKey: targetKey)) }
            }
            var out = [SourceContribution](repeating: .noItem, count: sources.count)
            for try await (index, c) in group { out[index] = c }
            return out
        }
        var merged: (item: Item, hash: [UInt8], source: String)?
        var conflict: TargetItemConflict?
        for (source, c) in zip(sources, contributions) {
            guard case .item(let item) = c else { continue }
            // Content hashes, as verify compares them: the same decision the copy and verify take.
            let hash = ItemHasher.sha256(of: item)
            switch self.conflict.merge(existing: merged?.hash, incoming: hash) {
            case .takeIncoming: merged = (item, hash, source.table)
            case .keepExisting: break
            case .conflict:
                // Verify counts the key as a conflict and keeps the earlier item; so does this.
                if conflict == nil, let merged {
                    conflict = TargetItemConflict(
                        target: target, key: describeKey(targetKey, schema: targetKeySchema), sources: [merged.source, source.table])
                }
            }
        }
        return TargetItemResolution(
            targetKey: targetKey, item: merged?.item, from: merged?.source,
            contributions: zip(sources, contributions).map { ($0.table, $1) }, conflict: conflict)
    }

    func contribution(of source: Source, targetKey: Item) async throws -> SourceContribution {
        guard let sourceKey = source.derivation.sourceKey(forTargetKey: targetKey) else { return .noItem }
        let found: Item?
        do { found = try await client.getItem(table: source.table, key: sourceKey, consistentRead: true) } catch { throw VerificationError.client(error) }
        guard let found else { return .noItem }
        switch project(found, through: source.transform, targetKey: targetKeySchema) {
        case .written(let item, let key, _):
            // The derivation is exact, so this holds; were it ever not to, the item belongs elsewhere.
            return key == targetKey ? .item(item) : .noItem
        case .filtered: return .filtered
        case .failed(let reason): return .failed(reason: reason)
        }
    }
}

/// What one source gives a target key now.
public enum SourceContribution: Sendable, Equatable {
    /// The source has no item that maps to the key.
    case noItem
    /// It has one, and a filter leaves it out.
    case filtered
    /// It has one, and the transform fails on it (the copy dead-letters such an item; verify leaves it out).
    case failed(reason: String)
    /// It has one, and this is what it becomes in the target.
    case item(Item)
}

/// The outcome for one target key.
public struct TargetItemResolution: Sendable {
    public var targetKey: Item
    /// What the target must hold; nil: the key must be absent.
    public var item: Item?
    /// The source whose item won.
    public var from: String?
    /// Every source's contribution, in mapping order.
    public var contributions: [(source: String, contribution: SourceContribution)]
    /// Set under `conflict: fail` when two sources produce different items.
    public var conflict: TargetItemConflict?
}

/// Two sources of a `conflict: fail` target produce different items for one key.
public struct TargetItemConflict: Error, Sendable, Equatable, CustomStringConvertible {
    public var target: String
    public var key: String
    /// The earlier source, then the one whose item differs.
    public var sources: [String]

    public init(target: String, key: String, sources: [String]) {
        self.target = target; self.key = key; self.sources = sources
    }

    public var description: String {
        "\(sources.joined(separator: " and ")) hold different items for the key \(key) of \(target), and its conflict policy is 'fail'"
    }
}

/// Runs one resolve-and-write per target key at a time, in arrival order.
///
/// A resolution reads the sources now; two of one key made concurrently (records of two sources
/// followed by two shard tasks) could otherwise be written in the wrong order, the older last. Within
/// one process this is enough: each write then carries a resolution made after the previous write.
public actor TargetKeySerializer {
    private var waiting: [[UInt8]: [CheckedContinuation<Void, Never>]] = [:]

    public init() {}

    /// Bodies waiting for `key` (for tests).
    func waiting(for key: Item) -> Int { waiting[CanonicalEncoding.bytes(of: key)]?.count ?? 0 }

    /// Runs `body` once no other body for `key` is running.
    public func run<T: Sendable>(key: Item, _ body: @Sendable () async throws -> T) async throws -> T {
        let bytes = CanonicalEncoding.bytes(of: key)
        if waiting[bytes] != nil {
            await withCheckedContinuation { waiting[bytes]!.append($0) }
        } else {
            waiting[bytes] = []
        }
        defer {
            // Hand the key to the next waiter, or free it.
            if var queue = waiting[bytes], !queue.isEmpty {
                let next = queue.removeFirst()
                waiting[bytes] = queue
                next.resume()
            } else {
                waiting[bytes] = nil
            }
        }
        return try await body()
    }
}
