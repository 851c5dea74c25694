// The merge resolver (TableIO's TargetItemResolver) as the follower's TargetItemSource.
import DynamoClient
import DynamoCore
import Mappings
import TableIO

extension TargetItemResolver: TargetItemSource {
    public func exclusively<T: Sendable>(forTargetKey targetKey: Item, _ body: @Sendable () async throws -> T) async throws -> T {
        try await serializer.run(key: targetKey, body)
    }
}

extension StreamFollower {
    /// A resolver for every target a follower must recompute key by key (several sources, or
    /// `keep-existing`/`fail`: ``ResolvedTarget/isFollowedByRecomputing``), by target name.
    ///
    /// - Throws: ``FollowError/unsupportedTarget(target:reason:)`` naming the ``FollowLimitation`` of a
    ///   target whose keys cannot be traced back to its sources' items (the plan shows the same).
    /// - Parameters:
    ///   - client: the sources' client; `targetClient` the targets' when they are elsewhere (as for ``init``).
    public static func makeResolvers(
        client: DynamoDBClient, mapping: ResolvedMapping, targetClient: DynamoDBClient? = nil
    ) async throws -> [String: any TargetItemSource] {
        var resolvers: [String: any TargetItemSource] = [:]
        for target in mapping.targets where target.isFollowedByRecomputing {
            do {
                resolvers[target.name] = try await TargetItemResolver.make(client: client, target: target, targetClient: targetClient)
            } catch let limitation as FollowLimitation {
                throw FollowError.unsupportedTarget(target: target.name, reason: limitation.description)
            }
        }
        return resolvers
    }
}
