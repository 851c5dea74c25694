import DynamoClient
import DynamoCore
import Foundation
import Logging
import Mappings
import RunState
import Synchronization
import TableIO

/// How to load an export into a table.
public struct ImportOptions: Sendable {
    /// Create the table (it must not exist yet); otherwise it must exist.
    public var createTable: Bool
    /// The key schema for `createTable` when the export does not record one (DynamoDB's own exports);
    /// for an existing table, a check.
    public var keySchema: KeySchema?
    /// Makes the transform applied to every item before it is written, given the target's key schema
    /// (a mapping's key prefix needs it); nil writes items as exported.
    public var transform: (@Sendable (KeySchema) -> CompiledTransform)?
    /// BatchWriteItem tasks.
    public var writers: Int
    /// Recreate the export's secondary indexes with `createTable`.
    public var createIndexes: Bool

    public init(
        createTable: Bool = false, keySchema: KeySchema? = nil, transform: (@Sendable (KeySchema) -> CompiledTransform)? = nil,
        writers: Int = 4, createIndexes: Bool = true
    ) {
        self.createTable = createTable; self.keySchema = keySchema; self.transform = transform
        self.writers = writers; self.createIndexes = createIndexes
    }
}

/// What an import did.
public struct ImportResult: Sendable, Codable {
    public var table: String
    public var createdTable: Bool
    public var itemsRead: Int
    public var itemsWritten: Int
    /// Dropped by the transform's filters.
    public var itemsFiltered: Int
    public var durationSeconds: Double
}

/// Loads an export (ours or DynamoDB's) into a table through ``TargetWriter``: batches of 25,
/// `UnprocessedItems` resent until written, memory bounded by a small queue.
public struct TableImporter: Sendable {
    public let client: DynamoDBClient
    public let logger: Logger

    public init(client: DynamoDBClient, logger: Logger = Logger(label: "dynamo-migrate.import")) {
        self.client = client; self.logger = logger
    }

    /// The key schema `--create` would use, or why there is none.
    public static func keySchemaForCreate(_ reader: ExportReader, override: KeySchema?) throws -> KeySchema {
        if let override { return override }
        if let recorded = reader.summary.dynamoMigrate?.keySchema { return recorded }
        throw BackupError.invalidOption(
            "this export does not record its table's key schema (DynamoDB's own exports do not): pass --key, e.g. --key pk:S or --key pk:S,sk:N")
    }

    public func importExport(
        _ reader: ExportReader, into table: String, options: ImportOptions = ImportOptions(),
        progress: @escaping @Sendable (Int) -> Void = { _ in }
    ) async throws -> ImportResult {
        let clock = ContinuousClock.now
        let keySchema: KeySchema
        var created = false
        do {
            let existing = try await client.describeTableIfExists(table)
            if options.createTable {
                if existing != nil {
                    throw BackupError.invalidOption("table \(table) already exists; drop --create to load into it, or choose another --table")
                }
                keySchema = try Self.keySchemaForCreate(reader, override: options.keySchema)
                let extras = reader.summary.dynamoMigrate
                var input = CreateTableInput(name: table, keySchema: keySchema)
                if options.createIndexes, options.keySchema == nil || options.keySchema == extras?.keySchema {
                    input.globalSecondaryIndexes = extras?.globalSecondaryIndexes.map(\.secondaryIndex) ?? []
                    input.localSecondaryIndexes = extras?.localSecondaryIndexes.map(\.secondaryIndex) ?? []
                }
                // The table did not exist a moment ago: one that is there now came from our own
                // CreateTable whose answer was lost, and is adopted (same key schema) rather than refused.
                let (_, adopted) = try await client.createOrAdoptTable(input, pollInterval: .milliseconds(200))
                if adopted { logger.info("\(table) was created by an earlier attempt (its answer was lost): adopting it") }
                created = true
            } else {
                guard let existing else {
                    throw BackupError.invalidOption("table \(table) does not exist; pass --create to create it from the export's key schema")
                }
                if let wanted = options.keySchema, wanted != existing.keySchema {
                    throw BackupError.invalidOption("table \(table) has key schema \(existing.keySchema), not \(wanted)")
                }
                keySchema = existing.keySchema
            }
        } catch let error as DynamoDBError {
            throw BackupError.client(error)
        } catch let error as TableAdoptionError {
            throw BackupError.other(error.description)
        }

        let statistics = PipelineStatistics()
        let writer = TargetWriter(client: client, table: table, keySchema: keySchema, statistics: statistics, logger: logger)
        let queue = BoundedQueue<[WriteUnit]>(capacity: max(4, options.writers * 2))
        let transform = options.transform.map { $0(keySchema) }
        let counts = ImportCounts()

        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, options.writers) {
                group.addTask { try await writer.run(queue) }
            }
            group.addTask {
                defer { queue.finish() }
                for (fileIndex, entry) in reader.files.enumerated() {
                    let name = "data/" + (entry.dataFileS3Key as NSString).lastPathComponent
                    var sequence = 0
                    var line = 0
                    _ = try await reader.forEachItem(in: entry, batchSize: 100) { items in
                        var units: [WriteUnit] = []
                        units.reserveCapacity(items.count)
                        let page = PageRef(source: name, segment: fileIndex, sequence: sequence)
                        sequence += 1
                        for original in items {
                            line += 1
                            let item: Item
                            if let transform {
                                do {
                                    guard let transformed = try transform.apply(original) else { counts.filtered(); continue }
                                    item = transformed
                                } catch {
                                    throw BackupError.itemRejected(file: name, line: line, reason: "\(error)")
                                }
                            } else {
                                item = original
                            }
                            guard let key = keySchema.key(of: item) else {
                                throw BackupError.itemRejected(
                                    file: name, line: line,
                                    reason: "the item has no \(keySchema) key attributes")
                            }
                            let size = dynamoDBItemSize(item)
                            if size > dynamoDBMaximumItemSize {
                                throw BackupError.itemRejected(
                                    file: name, line: line,
                                    reason: "the item is \(size) bytes, over DynamoDB's 400 KB limit")
                            }
                            units.append(WriteUnit(item: item, key: key, size: size, page: page))
                        }
                        counts.read(items.count)
                        if !units.isEmpty, !(await queue.send(units)) {
                            throw CancellationError()
                        }
                        progress(counts.snapshot.read)
                    }
                }
            }
            do {
                try await group.waitForAll()
            } catch {
                queue.finish()
                group.cancelAll()
                throw error
            }
        }
        let elapsed = ContinuousClock.now - clock
        let snapshot = counts.snapshot
        return ImportResult(
            table: table, createdTable: created, itemsRead: snapshot.read,
            itemsWritten: statistics.snapshot.itemsWritten, itemsFiltered: snapshot.filtered,
            durationSeconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}

/// Read and filtered counts, shared between the producer and the caller.
final class ImportCounts: Sendable {
    struct Snapshot { var read = 0; var filtered = 0 }
    private let state = Mutex(Snapshot())
    func read(_ n: Int) { state.withLock { $0.read += n } }
    func filtered() { state.withLock { $0.filtered += 1 } }
    var snapshot: Snapshot { state.withLock { $0 } }
}

extension MappingDocument {
    /// The transform of the source `name` in this mapping (its steps and key prefix), for importing an
    /// export of that table as if it were migrated; nil when no source of the mapping matches `name`.
    public func importTransform(forSource name: String, partitionKey: String) -> CompiledTransform? {
        for entry in entries {
            for spec in entry.sources where spec.table.glob.matches(name) {
                var transform = CompiledTransform(steps: spec.transforms, env: env, source: name)
                if let prefix = spec.keyPrefix {
                    transform = transform.appendingKeyPrefix(prefix, partitionKey: partitionKey, location: spec.table.location)
                }
                return transform
            }
        }
        return nil
    }
}
