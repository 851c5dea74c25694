// The dry run behind `dynamo-migrate plan`: reads tables and a few sample items, writes nothing.
import DynamoClient
import DynamoCore
import Foundation
import Mappings
import RunState
import TableIO

/// How a plan is made.
public struct PlanOptions: Sendable {
    /// The mapping file, as the operator named it (shown in the plan).
    public var mappingFile: String
    /// The effective environment (shown in the plan).
    public var env: String?
    /// Items sampled from each source with one `Scan` of this `Limit` (0: none).
    public var sampleSize = 3
    /// Items written per second assumed for the duration estimate.
    public var writeRate = 1000.0
    /// Also plan what `migrate --follow` needs (``PlannedFollow``).
    public var follow = false
    /// `migrate --follow` would be given `--enable-streams`: a missing stream is a change, not a problem.
    public var enableStreams = false

    public init(mappingFile: String, env: String?, sampleSize: Int = 3, writeRate: Double = 1000) {
        self.mappingFile = mappingFile
        self.env = env
        self.sampleSize = sampleSize
        self.writeRate = writeRate
    }
}

/// Makes a ``MigrationPlan`` for a resolved mapping.
///
/// Only reads: DescribeTable, DescribeContinuousBackups, DescribeTimeToLive, ListTagsOfResource and one
/// Scan with `Limit` per source. Settings come from ``TargetBlueprint/make(for:sources:sourceTTL:sourceTags:)``
/// and per-item work from ``ResolvedSource/itemTransform(targetKey:)``, exactly as `migrate` uses them.
public struct Planner: Sendable {
    /// The target side's client (its endpoint is the plan's).
    public let client: DynamoDBClient
    /// The client of each source and target (other accounts and regions); all `client` by default.
    public let clients: TableClients
    public let mapping: ResolvedMapping
    public let options: PlanOptions

    public init(client: DynamoDBClient, mapping: ResolvedMapping, options: PlanOptions, clients: TableClients? = nil) {
        self.client = client
        self.clients = clients ?? TableClients(client)
        self.mapping = mapping
        self.options = options
    }

    /// The note every count from DescribeTable deserves.
    public static let countsNote = "item counts and sizes come from DescribeTable, which DynamoDB refreshes about every six hours"

    /// Reads what the plan needs and assembles it.
    /// - Throws: ``PipelineError/missingTable(_:)`` when a source disappeared since ListTables, or the client's error.
    public func makePlan() async throws -> MigrationPlan {
        var described: [String: TableDescription] = [:]
        var targets: [PlannedTarget] = []
        var problems: [PlanProblem] = []
        var warnings = mapping.warnings.map(\.description)
        let decommissioned = Set(mapping.decommission)

        for target in mapping.targets {
            var sources: [TableDescription] = []
            for source in target.sources {
                guard let description = try await describePlanSource(source) else {
                    throw PipelineError.missingTable(source.table)
                }
                described[source.table] = description
                sources.append(description)
            }
            guard let first = sources.first else { continue }
            let sourceClient = clients.source(first.name)
            let sourceTTL = target.sources[0].export == nil ? try await sourceClient.describeTimeToLive(first.name) : nil
            let sourceTags = try await first.arn.asyncFlatMap { try await sourceClient.listTags(arn: $0) } ?? [:]
            let blueprint = TargetBlueprint.make(for: target, sources: sources, sourceTTL: sourceTTL, sourceTags: sourceTags)
            let planned = try await planTarget(
                target, blueprint: blueprint, sources: sources,
                decommissioned: decommissioned, problems: &problems)
            targets.append(planned)
        }

        var decommission: [PlannedDecommission] = []
        for table in mapping.decommission {
            let description: TableDescription?
            if let known = described[table] { description = known } else { description = try await clients.source(table).describeTableIfExists(table) }
            let into = mapping.targets.first { $0.sources.contains { $0.table == table } }?.name
            decommission.append(
                PlannedDecommission(
                    table: table, migratedInto: into, itemCount: description?.itemCount,
                    deletionProtection: description?.deletionProtection))
            if description?.deletionProtection == true {
                warnings.append("\(table) has deletion protection on: it must be turned off before it can be decommissioned")
            }
        }

        let allSources = targets.flatMap(\.sources)
        let samples = allSources.flatMap(\.samples)
        let failed = samples.filter { $0.outcome == .failed }.count
        if failed > 0 {
            warnings.append("\(failed) of \(samples.count) sampled items fail their transform; migrate sends such items to the dead letters")
        }
        for target in targets where target.existing.map({ $0.status != "ACTIVE" }) == true {
            warnings.append("\(target.name) is \(target.existing!.status); migrate waits until it is ACTIVE")
        }
        let items = allSources.reduce(0) { $0 + $1.itemCount }
        let rate = options.writeRate
        let estimate = PlanEstimate(
            sourceItems: items, sourceBytes: allSources.reduce(0) { $0 + $1.sizeBytes }, writeRate: rate,
            seconds: rate > 0 ? Double(items) / rate : 0,
            note: "an estimate: the sources' item counts divided by the write rate; item sizes, capacity and throttling change the real duration")
        let follow =
            options.follow
            ? planFollow(described: described, targets: targets, estimate: estimate, problems: &problems, warnings: &warnings) : nil
        var plan = MigrationPlan(
            endpoint: client.configuration.endpoint, mappingFile: options.mappingFile, env: options.env,
            sampleSize: options.sampleSize, targets: targets, decommission: decommission,
            ignored: mapping.ignored, unaccounted: mapping.unaccounted, warnings: warnings,
            problems: problems, estimate: estimate)
        plan.follow = follow
        return plan
    }

    func planTarget(
        _ target: ResolvedTarget, blueprint: TargetBlueprint, sources: [TableDescription],
        decommissioned: Set<String>, problems: inout [PlanProblem]
    ) async throws -> PlannedTarget {
        let settings = PlannedSettings(blueprint)
        var existing: ExistingTarget?
        var targetActions: [String] = []
        let targetClient = clients.target(target.name)
        if let table = try await targetClient.describeTableIfExists(target.name) {
            let pitr = try await targetClient.describeContinuousBackups(table: target.name).isPointInTimeRecoveryEnabled
            let ttl = try await targetClient.describeTimeToLive(target.name)
            let matches = table.keySchema == blueprint.keySchema
            existing = ExistingTarget(
                status: table.status, keySchema: table.keySchema, keySchemaMatches: matches,
                itemCount: table.itemCount, pointInTimeRecovery: pitr,
                differences: Self.differences(existing: table, ttl: ttl, blueprint: blueprint))
            if matches {
                targetActions.append("use the existing table (\(table.itemCount) items now); its settings stay as they are")
                if blueprint.pointInTimeRecovery, !pitr { targetActions.append("enable point-in-time recovery") }
            } else {
                problems.append(
                    PlanProblem(
                        kind: .keySchemaMismatch, target: target.name,
                        message:
                            "target table \(target.name) already exists with key schema \(table.keySchema), but the mapping needs \(blueprint.keySchema); migrate refuses to write into it"
                    ))
            }
        } else {
            targetActions.append("create the table and wait until it is ACTIVE")
            if let ttl = blueprint.ttlAttribute { targetActions.append("enable TTL on \(ttl)") }
            if blueprint.pointInTimeRecovery { targetActions.append("enable point-in-time recovery") }
        }

        let targetKey = blueprint.keySchema
        var planned: [PlannedSource] = []
        var produced: [(key: Item, source: String, item: Item)] = []
        for (index, (source, description)) in zip(target.sources, sources).enumerated() {
            let transform = source.itemTransform(targetKey: targetKey.spec)
            var samples: [PlannedSample] = []
            if options.sampleSize > 0 {
                for item in try await sampleItems(source) {
                    do {
                        if let after = try transform.apply(item) {
                            let key = targetKey.key(of: after) ?? [:]
                            samples.append(
                                PlannedSample(
                                    before: DynamoItem(item), outcome: .transformed,
                                    after: DynamoItem(after), targetKey: DynamoItem(key)))
                            produced.append((key, source.table, after))
                        } else {
                            samples.append(PlannedSample(before: DynamoItem(item), outcome: .filtered))
                        }
                    } catch {
                        samples.append(PlannedSample(before: DynamoItem(item), outcome: .failed, error: error.description))
                    }
                }
            }
            let failing = samples.filter { $0.outcome == .failed }
            if !samples.isEmpty, failing.count == samples.count {
                problems.append(
                    PlanProblem(
                        kind: .everySampleFails, target: target.name,
                        message:
                            "every sampled item of \(source.table) (\(samples.count)) fails its transform, e.g. \(failing[0].error ?? "?"): migrate would dead-letter the whole table"
                    ))
            }
            planned.append(
                PlannedSource(
                    table: source.table, order: index + 1, keySchema: description.keySchema,
                    billing: PlannedBilling(description.billingMode), itemCount: description.itemCount,
                    sizeBytes: description.sizeBytes, keyPrefix: source.keyPrefix, hasTransforms: !source.transform.isIdentity,
                    deletionProtection: description.deletionProtection, decommission: decommissioned.contains(source.table),
                    actions: Self.sourceActions(
                        target: target, position: index, exists: existing != nil,
                        previous: index > 0 ? target.sources[index - 1].table : nil,
                        decommission: decommissioned.contains(source.table),
                        deletionProtection: description.deletionProtection),
                    samples: samples, matchedBy: source.matchedBy?.text, export: try await plannedExport(source)))
        }

        let collisions = Self.collisions(produced, conflict: target.conflict)
        for collision in collisions where target.conflict == .fail && !collision.identical {
            problems.append(
                PlanProblem(
                    kind: .conflictWouldFail, target: target.name,
                    message:
                        "sampled items of \(collision.sources.joined(separator: " and ")) share the key \(Self.describe(collision.key.item, schema: targetKey)) in \(target.name) with different content, and its conflict policy is 'fail': migrate would stop there"
                ))
        }
        return PlannedTarget(
            name: target.name, exists: existing != nil, existing: existing, conflict: target.conflict.rawValue,
            inheritsFrom: target.inheritsFrom, settings: settings, actions: targetActions,
            lostSettings: blueprint.lostSettings, sources: planned, collisions: collisions)
    }

    static func sourceActions(
        target: ResolvedTarget, position: Int, exists: Bool, previous: String?,
        decommission: Bool, deletionProtection: Bool
    ) -> [String] {
        var actions: [String] = []
        let count = target.sources.count
        let order = count > 1 ? " (source \(position + 1) of \(count))" : ""
        if let glob = target.sources[position].matchedBy {
            // Said first: the table reaches this target through another entry's glob, with that glob's transforms.
            actions.append(
                "matched by source glob '\(glob.text)' (line \(glob.location.line)), with that entry's transforms; "
                    + "the entry at line \(target.location.line) names \(target.name) and sets its settings and conflict policy")
        }
        if position == 0, !exists {
            actions.append("copy into the new table \(target.name)\(order)")
        } else {
            let after = previous.map { ", after \($0)" } ?? ""
            actions.append("merge into \(exists ? "the existing table " : "")\(target.name)\(order)\(after)")
            switch target.conflict {
            case .overwrite:
                actions.append("conflict: overwrite: where a key is already in the target, this source's item replaces it (later sources win)")
            case .keepExisting:
                actions.append("conflict: keep-existing: where a key is already in the target, the item there is kept and this one skipped")
            case .fail:
                actions.append("conflict: fail: a key already in the target with different content stops the migration")
            }
        }
        if decommission {
            actions.append(
                "decommission once \(target.name) verifies"
                    + (deletionProtection ? " (deletion protection is on: turn it off first)" : ""))
        }
        return actions
    }

    static func collisions(_ produced: [(key: Item, source: String, item: Item)], conflict: ConflictPolicy) -> [KeyCollision] {
        var order: [Item] = []
        var groups: [Item: [(source: String, item: Item)]] = [:]
        for p in produced {
            if groups[p.key] == nil { order.append(p.key) }
            groups[p.key, default: []].append((p.source, p.item))
        }
        return order.compactMap { key in
            let group = groups[key]!
            guard group.count > 1 else { return nil }
            let identical = group.allSatisfy { $0.item == group[0].item }
            let sources = group.map(\.source)
            let first = sources[0], last = sources[sources.count - 1]
            let outcome: String
            switch conflict {
            case .overwrite:
                outcome =
                    identical
                    ? "the copies are identical; the target gets that item"
                    : "the item from \(last) is written last and wins"
            case .keepExisting:
                outcome = "the item from \(first) is kept; later copies are skipped"
            case .fail:
                outcome =
                    identical
                    ? "the copies are identical, which is not a conflict; the item is written once"
                    : "migrate stops at this key"
            }
            return KeyCollision(
                key: DynamoItem(key), sources: sources, conflict: conflict.rawValue,
                identical: identical, outcome: outcome)
        }
    }

    /// Where an existing target differs from what the mapping would create.
    static func differences(existing: TableDescription, ttl: TimeToLive, blueprint: TargetBlueprint) -> [String] {
        var out: [String] = []
        let wanted = blueprint.table
        if existing.billingMode != wanted.billingMode {
            out.append("billing is \(describe(existing.billingMode)), the mapping says \(describe(wanted.billingMode))")
        }
        for (kind, have, want) in [
            ("global", existing.globalSecondaryIndexes, wanted.globalSecondaryIndexes),
            ("local", existing.localSecondaryIndexes, wanted.localSecondaryIndexes),
        ] {
            let haveNames = Set(have.map(\.name)), wantNames = Set(want.map(\.name))
            for name in wantNames.subtracting(haveNames).sorted() { out.append("\(kind) index \(name) is missing") }
            for name in haveNames.subtracting(wantNames).sorted() { out.append("\(kind) index \(name) is not in the mapping") }
        }
        if existing.stream != wanted.stream {
            out.append("stream is \(existing.stream?.rawValue ?? "OFF"), the mapping says \(wanted.stream?.rawValue ?? "OFF")")
        }
        if existing.deletionProtection != wanted.deletionProtection {
            out.append("deletion protection is \(existing.deletionProtection ? "on" : "off"), the mapping says \(wanted.deletionProtection ? "on" : "off")")
        }
        let haveTTL = ttl.isEnabled ? ttl.attributeName : nil
        if haveTTL != blueprint.ttlAttribute {
            out.append("TTL is \(haveTTL.map { "on \($0)" } ?? "off"), the mapping says \(blueprint.ttlAttribute.map { "on \($0)" } ?? "off")")
        }
        return out
    }

    static func describe(_ billing: BillingMode) -> String {
        switch billing {
        case .payPerRequest: "on-demand"
        case .provisioned(let r, let w): "provisioned \(r)/\(w)"
        }
    }

    /// `pk="a", sk=3`: key attributes in the schema's order, strings quoted, numbers bare, binaries in base64.
    public static func describe(_ key: Item, schema: KeySchema) -> String {
        schema.attributeNames.compactMap { name -> String? in
            switch key[AttributeName(name)] {
            case .s(let s)?: "\(name)=\"\(s)\""
            case .n(let n)?: "\(name)=\(n.text)"
            case .b(let b)?: "\(name)=b64\"\(Base64.encode(b))\""
            case let v?: "\(name)=\(v)"
            case nil: nil
            }
        }.joined(separator: ", ")
    }
}

extension PlannedSettings {
    /// The settings of a blueprint.
    public init(_ blueprint: TargetBlueprint) {
        let t = blueprint.table
        keySchema = t.keySchema
        billing = PlannedBilling(t.billingMode)
        globalSecondaryIndexes = t.globalSecondaryIndexes.map(PlannedIndex.init)
        localSecondaryIndexes = t.localSecondaryIndexes.map(PlannedIndex.init)
        stream = t.stream?.rawValue ?? "OFF"
        sseType = t.sse?.enabled == true ? "KMS" : "AWS_OWNED"
        kmsKeyId = t.sse?.enabled == true ? t.sse?.kmsKeyId : nil
        deletionProtection = t.deletionProtection
        tags = t.tags
        ttlAttribute = blueprint.ttlAttribute
        pointInTimeRecovery = blueprint.pointInTimeRecovery
    }
}
