import DynamoClient
import DynamoCore
import Foundation
import Synchronization

/// Run state kept in a DynamoDB table (`--state dynamodb://control-table[/prefix]`), shared by every
/// worker of a job.
///
/// The table (created on demand, on-demand billing) has the key `name` (S) + `part` (N):
/// - a **document** is the one item `part = 0`: `data` (B), `generation` (N), `writer` (S, a token
///   unique to each write). A replace is one PutItem conditioned on the generation read
///   (`attribute_not_exists(#name)` for "no document yet"), so two writers can never both advance a
///   document: the fencing ``AsyncStateStore`` promises. A document is never split: a replace stays one
///   atomic PutItem, and a document over ``maxDocumentBytes`` is refused with a message saying so.
/// - a **log** is the items `part = 1, 2, ...`, one per line, each put with `attribute_not_exists` so
///   two appenders cannot overwrite each other's line. A line longer than one item allows is split
///   over consecutive parts (`more = true` on all but the last) and joined again when read.
///
/// A lost answer (the server applied the put, the client never heard) makes the client's retry fail
/// its condition; the store then reads the item back and, when it holds this write's `writer` token,
/// takes the write as done. Reads are strongly consistent.
public final class DynamoDBStateStore: AsyncStateStore {
    public let client: DynamoDBClient
    public let table: String
    /// Prepended (with a `/`) to every name, so that one table can hold several jobs.
    public let prefix: String
    /// The next free part of each log this process appends to.
    private let nextPart = Mutex<[String: Int]>([:])

    /// The largest document kept (one item, with room for the key and the other attributes).
    public static let maxDocumentBytes = DynamoDBLimits.maxItemBytes - 8 * 1024
    /// The largest piece of a log line kept in one item.
    static let maxLinePieceBytes = DynamoDBLimits.maxItemBytes - 8 * 1024

    static let nameAttribute: AttributeName = "name"
    static let partAttribute: AttributeName = "part"

    public init(client: DynamoDBClient, table: String, prefix: String = "") {
        self.client = client
        self.table = table
        self.prefix = prefix.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
    }

    public func location(of name: String) -> String { "dynamodb://\(table)/\(fullName(name))" }

    func fullName(_ name: String) -> String { prefix.isEmpty ? name : "\(prefix)/\(name)" }

    func key(_ name: String, part: Int) -> Item {
        [Self.nameAttribute: .s(fullName(name)), Self.partAttribute: .n(DynamoNumber(part))]
    }

    /// Creates the control table when it is not there (another worker creating it at the same time is
    /// fine) and waits until it is ACTIVE; refuses a table of that name with another key.
    public func prepare(timeout: Duration = .seconds(300)) async throws {
        let expected = KeySchema(
            partitionKey: KeyAttribute(name: "name", type: .string), sortKey: KeyAttribute(name: "part", type: .number))
        var description = try await client.describeTableIfExists(table)
        if description == nil {
            do {
                try await client.createTable(CreateTableInput(name: table, keySchema: expected))
            } catch {
                // ResourceInUseException: another worker (or a retry of ours whose answer was lost) created it: use it.
                guard error.errorType == "ResourceInUseException" else { throw error }
            }
            description = try await client.waitUntilActive(table, timeout: timeout)
        } else if description?.status != "ACTIVE" {
            description = try await client.waitUntilActive(table, timeout: timeout)
        }
        if let description, description.keySchema != expected {
            throw StateFileError.invalid(
                path: "dynamodb://\(table)", record: "control table",
                reason: "its key is \(description.keySchema), a control table's is \(expected); pass another --state table")
        }
    }

    // MARK: Documents

    public func read(_ name: String) async throws -> StoredDocument? {
        guard let item = try await get(name, part: 0) else { return nil }
        return try document(from: item, name: name)
    }

    func get(_ name: String, part: Int) async throws -> Item? {
        do { return try await client.getItem(table: table, key: key(name, part: part), consistentRead: true) } catch {
            throw StateFileError.unreadable(path: location(of: name), reason: error.description)
        }
    }

    func document(from item: Item, name: String) throws -> StoredDocument {
        guard case .b(let bytes)? = item["data"], case .n(let number)? = item["generation"], let generation = UInt64(number.text) else {
            throw StateFileError.invalid(path: location(of: name), record: "state document", reason: "the item has no data or generation attribute")
        }
        return StoredDocument(data: Data(bytes), generation: generation)
    }

    @discardableResult
    public func replace(_ name: String, with data: Data, expectedGeneration: UInt64?) async throws -> UInt64 {
        guard data.count <= Self.maxDocumentBytes else {
            throw StateFileError.unwritable(
                path: location(of: name),
                reason: "the document is \(data.count) bytes, over the \(Self.maxDocumentBytes) bytes one control-table item holds "
                    + "(documents are one item so that replacing them stays atomic); use fewer --segments, or a directory for --state")
        }
        var expected = expectedGeneration
        while true {
            // An unconditional replace still goes through the generation: read it, then write on it.
            let current = try await expected.asyncOr { try await self.read(name)?.generation ?? 0 }
            let next = current + 1
            let token = UUID().uuidString
            var item = key(name, part: 0)
            item["data"] = .b([UInt8](data))
            item["generation"] = .n(DynamoNumber(Int(next)))
            item["writer"] = .s(token)
            let condition = current == 0 ? "attribute_not_exists(#name)" : "#generation = :generation"
            let written = try await put(
                item, name: name, condition: condition,
                names: current == 0 ? ["#name": "name"] : ["#generation": "generation"],
                values: current == 0 ? [:] : [":generation": .n(DynamoNumber(Int(current)))])
            if written { return next }
            let now = try await get(name, part: 0)
            if case .s(let writer)? = now?["writer"], writer == token { return next }  // our retried put
            let found = try now.map { try document(from: $0, name: name).generation } ?? 0
            // Unconditional: someone wrote in between; write on what is there now.
            guard expectedGeneration == nil else {
                throw StateFileError.staleGeneration(path: location(of: name), expected: current, found: found)
            }
            expected = nil
        }
    }

    /// A conditional PutItem: true when written, false when its condition failed.
    func put(_ item: Item, name: String, condition: String, names: [String: String], values: Item) async throws -> Bool {
        do {
            try await client.putItem(
                table: table, item: item, conditionExpression: condition, expressionAttributeNames: names, expressionAttributeValues: values)
            return true
        } catch {
            if error.isConditionalCheckFailed { return false }
            throw StateFileError.unwritable(path: location(of: name), reason: error.description)
        }
    }

    public func remove(_ name: String) async throws {
        do { try await client.deleteItem(table: table, key: key(name, part: 0)) } catch {
            throw StateFileError.unwritable(path: location(of: name), reason: error.description)
        }
    }

    public func names(in collection: String) async throws -> [String] {
        // Names are partition keys, which only a Scan can list; the control table is small.
        let base = fullName(collection) + "/"
        var names: Set<String> = []
        var start: Item?
        repeat {
            let page: ItemPage
            do { page = try await client.scan(ScanInput(table: table, exclusiveStartKey: start, consistentRead: true)) } catch {
                throw StateFileError.unreadable(path: location(of: collection), reason: error.description)
            }
            for item in page.items {
                guard case .s(let name)? = item[Self.nameAttribute], case .n(let part)? = item[Self.partAttribute], part.text == "0",
                    name.hasPrefix(base)
                else { continue }
                let rest = String(name.dropFirst(base.count))
                if !rest.isEmpty, !rest.contains("/") { names.insert(rest) }
            }
            start = page.lastEvaluatedKey
        } while start != nil
        return names.sorted()
    }

    // MARK: Logs

    public func append(line: Data, to name: String) async throws {
        let bytes = [UInt8](line)
        var pieces: [ArraySlice<UInt8>] = []
        var offset = 0
        repeat {
            let end = min(bytes.count, offset + Self.maxLinePieceBytes)
            pieces.append(bytes[offset..<end])
            offset = end
        } while offset < bytes.count
        var part = try await firstFreePart(of: name)
        var index = 0
        let token = UUID().uuidString
        while index < pieces.count {
            var item = key(name, part: part)
            item["data"] = .b(Array(pieces[index]))
            item["writer"] = .s(token)
            if index < pieces.count - 1 { item["more"] = .bool(true) }
            let written = try await put(item, name: name, condition: "attribute_not_exists(#name)", names: ["#name": "name"], values: [:])
            var ours = written
            if !written, case .s(let writer)? = try await get(name, part: part)?["writer"], writer == token {
                ours = true  // our own put, retried after a lost answer: it is written
            }
            if ours {
                part += 1
                index += 1
            } else {
                // Another appender took this part. A line already begun must stay contiguous: start it again after theirs.
                nextPart.withLock { $0[name] = nil }
                part = try await firstFreePart(of: name)
                index = 0
            }
        }
        nextPart.withLock { $0[name] = part }
    }

    /// The part after the last line of log `name` (1 for a new log).
    func firstFreePart(of name: String) async throws -> Int {
        if let known = nextPart.withLock({ $0[name] }) { return known }
        let page: ItemPage
        do {
            page = try await client.query(
                QueryInput(
                    table: table, keyConditionExpression: "#name = :name AND #part > :zero",
                    expressionAttributeNames: ["#name": "name", "#part": "part"],
                    expressionAttributeValues: [":name": .s(fullName(name)), ":zero": .n(DynamoNumber(0))],
                    limit: 1, scanIndexForward: false, consistentRead: true))
        } catch {
            throw StateFileError.unreadable(path: location(of: name), reason: error.description)
        }
        guard case .n(let last)? = page.items.first?[Self.partAttribute], let value = Int(last.text) else { return 1 }
        return value + 1
    }

    public func lines(of name: String) async throws -> [Data] {
        var lines: [Data] = []
        var current = Data()
        var start: Item?
        repeat {
            let page: ItemPage
            do {
                page = try await client.query(
                    QueryInput(
                        table: table, keyConditionExpression: "#name = :name AND #part > :zero",
                        expressionAttributeNames: ["#name": "name", "#part": "part"],
                        expressionAttributeValues: [":name": .s(fullName(name)), ":zero": .n(DynamoNumber(0))],
                        exclusiveStartKey: start, consistentRead: true))
            } catch {
                throw StateFileError.unreadable(path: location(of: name), reason: error.description)
            }
            for item in page.items {
                if case .b(let bytes)? = item["data"] { current.append(contentsOf: bytes) }
                if case .bool(true)? = item["more"] { continue }
                lines.append(current)
                current = Data()
            }
            start = page.lastEvaluatedKey
        } while start != nil
        if !current.isEmpty { lines.append(current) }  // a line whose last piece was never written
        return lines
    }
}

extension Optional where Wrapped == UInt64 {
    fileprivate func asyncOr(_ fallback: () async throws -> UInt64) async throws -> UInt64 {
        if let value = self { return value }
        return try await fallback()
    }
}
