import DynamoClient

/// Which client reads each source table and writes each target table of a run: the sides of a
/// mapping may live in other accounts and regions, each reached through its own connection.
///
/// Sources and targets are looked up apart, so a source and a target of the same name (the same table
/// name in a dev and a prod account) get their own clients.
public struct TableClients: Sendable {
    /// For sources without a client of their own.
    public let source: DynamoDBClient
    /// For targets without a client of their own.
    public let target: DynamoDBClient
    public var sources: [String: DynamoDBClient]
    public var targets: [String: DynamoDBClient]

    /// One client for every table (a run on one connection).
    public init(_ client: DynamoDBClient) {
        self.init(source: client, target: client)
    }

    public init(
        source: DynamoDBClient, target: DynamoDBClient,
        sources: [String: DynamoDBClient] = [:], targets: [String: DynamoDBClient] = [:]
    ) {
        self.source = source; self.target = target; self.sources = sources; self.targets = targets
    }

    /// The client that reads source table `table`.
    public func source(_ table: String) -> DynamoDBClient { sources[table] ?? source }

    /// The client that writes (and describes, creates, checks) target table `table`.
    public func target(_ table: String) -> DynamoDBClient { targets[table] ?? target }

    /// Every distinct client (by identity), the target default first.
    public var all: [DynamoDBClient] {
        var seen: Set<ObjectIdentifier> = []
        return ([target, source] + Array(targets.values) + Array(sources.values)).filter { seen.insert(ObjectIdentifier($0)).inserted }
    }
}
