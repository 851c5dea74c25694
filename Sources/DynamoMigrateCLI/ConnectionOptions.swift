import AWSAuth
import ArgumentParser
import CurlTransport
import DynamoClient
import Foundation
import Logging
import Mappings
import RunState
import Synchronization
import TableIO

/// `--source-profile/--source-region/--source-role-arn/--source-external-id/--source-endpoint-url`: the
/// connection of the side a command reads (export, and the sources of migrate, verify, diff).
struct SourceConnectionOptions: ParsableArguments {
    @Option(name: .customLong("source-profile"), help: "Profile for the source side (default: --profile).")
    var sourceProfile: String?
    @Option(name: .customLong("source-region"), help: "Region of the source side (default: --region).")
    var sourceRegion: String?
    @Option(name: .customLong("source-role-arn"), help: "Role the source side assumes (STS AssumeRole) with the source profile's credentials.")
    var sourceRoleArn: String?
    @Option(name: .customLong("source-external-id"), help: "External id for --source-role-arn.")
    var sourceExternalId: String?
    @Option(name: .customLong("source-endpoint-url"), help: "DynamoDB endpoint of the source side (default: --endpoint-url).")
    var sourceEndpointURL: String?

    func validate() throws {
        try SideConnectionOptions.check(
            prefix: "--source-", profile: sourceProfile, region: sourceRegion, roleArn: sourceRoleArn,
            externalId: sourceExternalId, endpoint: sourceEndpointURL)
    }

    /// The flags given (nil fields: not given).
    var connection: Connection {
        Connection(profile: sourceProfile, region: sourceRegion, roleArn: sourceRoleArn, externalId: sourceExternalId, endpoint: sourceEndpointURL)
    }
}

/// `--target-profile/--target-region/--target-role-arn/--target-external-id/--target-endpoint-url`: the
/// connection of the side a command writes (import, and the targets of migrate, verify, diff).
struct TargetConnectionOptions: ParsableArguments {
    @Option(name: .customLong("target-profile"), help: "Profile for the target side (default: --profile).")
    var targetProfile: String?
    @Option(name: .customLong("target-region"), help: "Region of the target side (default: --region).")
    var targetRegion: String?
    @Option(name: .customLong("target-role-arn"), help: "Role the target side assumes (STS AssumeRole) with the target profile's credentials.")
    var targetRoleArn: String?
    @Option(name: .customLong("target-external-id"), help: "External id for --target-role-arn.")
    var targetExternalId: String?
    @Option(name: .customLong("target-endpoint-url"), help: "DynamoDB endpoint of the target side (default: --endpoint-url).")
    var targetEndpointURL: String?

    func validate() throws {
        try SideConnectionOptions.check(
            prefix: "--target-", profile: targetProfile, region: targetRegion, roleArn: targetRoleArn,
            externalId: targetExternalId, endpoint: targetEndpointURL)
    }

    /// The flags given (nil fields: not given).
    var connection: Connection {
        Connection(profile: targetProfile, region: targetRegion, roleArn: targetRoleArn, externalId: targetExternalId, endpoint: targetEndpointURL)
    }
}

/// `--source-*` and `--target-*`: the connection of each side, for commands that read one place and
/// write another (migrate, verify, diff, drill's source; export takes the source flags, import the
/// target ones). A flag left out takes the global `--profile`/`--region`/`--endpoint-url`; a side
/// written in the mapping file with its own `profile`/`region`/`role-arn`/`endpoint` takes those over these flags.
struct SideConnectionOptions: ParsableArguments {
    @OptionGroup var sourceSide: SourceConnectionOptions
    @OptionGroup var targetSide: TargetConnectionOptions

    /// Bad values are bad input (exit 2), refused before any call.
    static func check(prefix: String, profile: String?, region: String?, roleArn: String?, externalId: String?, endpoint: String?) throws {
        for (name, value) in [("profile", profile), ("region", region), ("role-arn", roleArn), ("external-id", externalId), ("endpoint-url", endpoint)] {
            if let value, value.trimmingCharacters(in: .whitespaces).isEmpty {
                throw ValidationError("\(prefix)\(name) is empty; give a value, or leave the flag out")
            }
        }
        if let roleArn, let problem = Connection.roleArnProblem(roleArn) { throw ValidationError("\(prefix)role-arn: \(problem)") }
        if externalId != nil, roleArn == nil { throw ValidationError("\(prefix)external-id needs \(prefix)role-arn") }
        if let endpoint {
            let lower = endpoint.lowercased()
            guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
                throw ValidationError("\(prefix)endpoint-url \(endpoint) is not an http:// or https:// URL")
            }
            if let port = GlobalOptions.explicitPort(endpoint), !(1...65535).contains(port) {
                throw ValidationError("\(prefix)endpoint-url \(endpoint): port \(port) is out of range; ports are 1 to 65535")
            }
        }
    }

    /// The source side's flags (nil fields: not given).
    var source: Connection { sourceSide.connection }

    /// The target side's flags (nil fields: not given).
    var target: Connection { targetSide.connection }

    /// `--source-profile dev --source-region us-east-1` for messages: the flags a side was given.
    static func flagText(_ c: Connection, prefix: String) -> String {
        var parts: [String] = []
        if let p = c.profile { parts.append("\(prefix)profile \(p)") }
        if let r = c.region { parts.append("\(prefix)region \(r)") }
        if let a = c.roleArn { parts.append("\(prefix)role-arn \(a)") }
        if let e = c.endpoint { parts.append("\(prefix)endpoint-url \(e)") }
        return parts.joined(separator: " ")
    }
}

/// The one place that turns a ``Connection`` into a DynamoDB client: resolved as aws-cli would
/// (``AWSConfigurationResolver/resolve(connection:environment:http:)``), one client per distinct
/// connection, and the identity behind each (STS `GetCallerIdentity`) for the evidence records.
final class ConnectionClients: Sendable {
    /// The global `--profile`/`--region`/`--endpoint-url`: what every side starts from.
    let base: Connection
    let verbose: Bool
    private let clients = Mutex<[Connection: DynamoDBClient]>([:])
    private let identities = Mutex<[ObjectIdentifier: ConnectionIdentity]>([:])

    init(global: GlobalOptions) {
        base = Connection(profile: global.profile, region: global.region, endpoint: global.endpointURL)
        verbose = global.verbose
    }

    /// The client for `connection` laid over the global flags. `origin` names where the connection was
    /// written (`--target-profile prod`, `mappings/x.yaml:4:15`) in the error when it cannot be resolved.
    func client(for connection: Connection, origin: String?) throws -> DynamoDBClient {
        let effective = connection.overlaid(on: base)
        if let existing = clients.withLock({ $0[effective] }) { return existing }
        let configuration: AWSConfiguration
        do {
            configuration = try AWSConfigurationResolver.resolve(connection: effective)
        } catch {
            throw CLIError.configuration((origin.map { "\($0): " } ?? "") + error.description)
        }
        var logger = Logger(label: "dynamo-migrate")
        logger.logLevel = verbose ? .debug : .warning
        let client = DynamoDBClient(configuration: configuration, logger: logger)
        return clients.withLock { cache in
            if let raced = cache[effective] { return raced }
            cache[effective] = client
            return client
        }
    }

    /// Who `client` calls AWS as, where. STS is asked once per client; when it cannot be reached (a
    /// network with a DynamoDB endpoint only) the account is unknown, which is recorded as such.
    func identity(of client: DynamoDBClient) async -> ConnectionIdentity {
        if let known = identities.withLock({ $0[ObjectIdentifier(client)] }) { return known }
        let configuration = client.configuration
        var identity = ConnectionIdentity(account: nil, arn: nil, region: configuration.region, endpoint: configuration.endpoint)
        // A local endpoint (DynamoDB Local, moto) has no AWS account: AWS's own STS would describe
        // credentials that mean nothing there. STS is asked when DynamoDB is AWS's, or STS was pointed
        // somewhere else too (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_STS, the profile's endpoint).
        if !Self.isAWSHost(configuration.endpoint), Self.isAWSHost(configuration.stsEndpoint) {
            identities.withLock { $0[ObjectIdentifier(client)] = identity }
            return identity
        }
        let http = CurlTransport()
        defer { http.shutdown() }
        do {
            let current = try await client.credentials.credentials()
            let caller = try await STSClient(endpoint: configuration.stsEndpoint, region: configuration.region, http: http)
                .getCallerIdentity(credentials: current.credentials)
            identity.account = caller.account
            identity.arn = caller.arn
        } catch {
            printWarning("cannot ask STS who \(configuration.endpoint) is called as (\(error)); the account is recorded as unknown")
        }
        let result = identity
        identities.withLock { $0[ObjectIdentifier(client)] = result }
        return result
    }

    /// Whether `url`'s host is one of AWS's (`*.amazonaws.com`, `*.amazonaws.com.cn`, `*.api.aws`).
    static func isAWSHost(_ url: String) -> Bool {
        guard let host = URLComponents(string: url)?.host?.lowercased() else { return false }
        return host.hasSuffix(".amazonaws.com") || host.hasSuffix(".amazonaws.com.cn") || host.hasSuffix(".api.aws")
    }

    /// Clients for both sides of a command that reads one place and writes another.
    func sides(_ options: SideConnectionOptions) throws -> (source: DynamoDBClient, target: DynamoDBClient) {
        (try sourceClient(options), try targetClient(options))
    }

    /// The client of the `--source-*` flags (over the global ones).
    func sourceClient(_ options: SideConnectionOptions) throws -> DynamoDBClient { try sourceClient(options.sourceSide) }

    /// The client of the `--target-*` flags (over the global ones).
    func targetClient(_ options: SideConnectionOptions) throws -> DynamoDBClient { try targetClient(options.targetSide) }

    func sourceClient(_ options: SourceConnectionOptions) throws -> DynamoDBClient {
        try client(for: options.connection, origin: nonEmpty(SideConnectionOptions.flagText(options.connection, prefix: "--source-")))
    }

    func targetClient(_ options: TargetConnectionOptions) throws -> DynamoDBClient {
        try client(for: options.connection, origin: nonEmpty(SideConnectionOptions.flagText(options.connection, prefix: "--target-")))
    }

    /// The client of each table of a mapping: a side's own connection in the file over the side's flags.
    /// `defaults`: the clients of sides without their own connection (the side flags' by default).
    func tableClients(
        _ resolved: ResolvedMapping, sides options: SideConnectionOptions, defaults: (source: DynamoDBClient, target: DynamoDBClient)? = nil
    ) throws -> TableClients {
        let (sourceDefault, targetDefault) = try defaults ?? sides(options)
        var clients = TableClients(source: sourceDefault, target: targetDefault)
        for target in resolved.targets {
            if let spec = target.connection {
                clients.targets[target.name] = try client(for: spec.connection.overlaid(on: options.target), origin: "\(spec.location)")
            }
            for source in target.sources {
                if let spec = source.connection {
                    clients.sources[source.table] = try client(for: spec.connection.overlaid(on: options.source), origin: "\(spec.location)")
                }
            }
        }
        return clients
    }

    private func nonEmpty(_ text: String) -> String? { text.isEmpty ? nil : text }
}

extension LoadedMapping {
    /// Loads a mapping whose sides may each have their own connection: source tables are listed through
    /// the source connections, targets through the target ones, and the mapping resolved across them.
    static func load(
        path: String, env: String?, connections: ConnectionClients, sides: SideConnectionOptions, alsoExisting: [String] = []
    ) async throws -> (LoadedMapping, TableClients) {
        let document: MappingDocument
        do {
            document = try MappingLoader.load(path: path, env: env, sidesApart: sides.source != sides.target)
        } catch {
            throw CLIError.usage("the mapping file has problems:\n\(error.description)")
        }
        // Every connection the file and flags name, each listed once; the flags' (or the global) one
        // only when some side has none of its own, so it need not resolve otherwise.
        var sourceClients: [DynamoDBClient] = []
        var targetClients: [DynamoDBClient] = []
        var sourcesWithout = document.entries.isEmpty
        var targetsWithout = document.entries.isEmpty
        for entry in document.entries {
            if let spec = entry.targetConnection {
                targetClients.append(try connections.client(for: spec.connection.overlaid(on: sides.target), origin: "\(spec.location)"))
            } else {
                targetsWithout = true
            }
            for source in entry.sources {
                if let spec = source.connection {
                    sourceClients.append(try connections.client(for: spec.connection.overlaid(on: sides.source), origin: "\(spec.location)"))
                } else {
                    sourcesWithout = true
                }
            }
        }
        if sourcesWithout || sourceClients.isEmpty { sourceClients.insert(try connections.sourceClient(sides), at: 0) }
        if targetsWithout || targetClients.isEmpty { targetClients.insert(try connections.targetClient(sides), at: 0) }
        func distinct(_ list: [DynamoDBClient]) -> [DynamoDBClient] {
            var seen: Set<ObjectIdentifier> = []
            return list.filter { seen.insert(ObjectIdentifier($0)).inserted }
        }
        sourceClients = distinct(sourceClients)
        targetClients = distinct(targetClients)
        // Sides are apart only when no source connection reaches the place (account, region, endpoint) of a
        // target one: two spellings of one place (a flag repeating a profile's region) are one side, and
        // keep every check that a table is not copied into, or decommissioned as, itself.
        var sameSide = sourceClients.count == 1 && targetClients.count == 1 && sourceClients[0] === targetClients[0]
        if !sameSide {
            for s in sourceClients {
                let sourcePlace = await connections.identity(of: s)
                for t in targetClients {
                    let targetPlace = await connections.identity(of: t)
                    if s === t || sourcePlace.isSamePlace(as: targetPlace) { sameSide = true }
                }
            }
        }
        func tables(_ list: [DynamoDBClient]) async throws -> [String] {
            var all: [String] = []
            for client in list {
                for name in try await client.listTables() where !all.contains(name) { all.append(name) }
            }
            return all
        }
        let listed = try await tables(sourceClients)
        let sourceTables = listed + alsoExisting.filter { !listed.contains($0) }
        let targetTables = sameSide ? nil : try await tables(targetClients)
        let resolved: ResolvedMapping
        do {
            resolved = try document.resolve(existingTables: sourceTables, targetTables: targetTables)
        } catch {
            let places = Set((sourceClients + targetClients).map { "\($0.configuration.endpoint) (\($0.configuration.region))" }).sorted()
            throw CLIError.usage("the mapping does not fit the tables at \(places.joined(separator: ", ")):\n\(error.description)")
        }
        for warning in resolved.warnings { printWarning(warning.description) }
        let bytes = (try? Data(contentsOf: URL(fileURLWithPath: path))).map { [UInt8]($0) } ?? []
        let loaded = LoadedMapping(document: document, resolved: resolved, tables: sourceTables, fileBytes: bytes)
        return (loaded, try connections.tableClients(resolved, sides: sides, defaults: (sourceClients[0], targetClients[0])))
    }
}

extension VerificationRecord {
    /// Records who read each source and target, and where, as the evidence `decommission` checks.
    mutating func recordIdentities(clients: TableClients, connections: ConnectionClients) async throws {
        for t in targets.indices {
            targets[t].identity = await connections.identity(of: clients.target(targets[t].target))
            for s in targets[t].sources.indices {
                targets[t].sources[s].identity = await connections.identity(of: clients.source(targets[t].sources[s].table))
            }
        }
    }
}
