import DynamoCore
import Foundation
import S3Client
import Synchronization

/// Run state kept in S3 (`--state s3://bucket/prefix`), shared by every worker of a job.
///
/// - a **document** is the object `prefix/name`: one header line (`{"generation":N,"writer":"token"}`)
///   and the document's bytes. A replace reads the object and its ETag, then PUTs with `If-Match` on
///   that ETag (`If-None-Match: *` when there is none): S3's conditional writes make this a
///   compare-and-swap, so two writers can never both advance a document, the same guarantee as the
///   DynamoDB control table. A store that ignores the conditions (some S3-compatible servers) would
///   silently lose that guarantee, so ``prepare()`` checks that the endpoint enforces them and refuses
///   it otherwise.
/// - a **log** is the objects `prefix/name/<part>` (part zero-padded, so listing order is line order),
///   each put with `If-None-Match: *`.
///
/// A lost answer makes the retried PUT fail its condition; the store reads the object back and takes
/// the write as done when it holds this write's token. Reads after writes are strongly consistent in S3.
public final class S3StateStore: AsyncStateStore {
    public let client: S3Client
    public let bucket: String
    public let prefix: String
    private let nextPart = Mutex<[String: Int]>([:])

    public init(client: S3Client, bucket: String, prefix: String) {
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
    }

    public func location(of name: String) -> String { "s3://\(bucket)/\(key(name))" }

    func key(_ name: String) -> String { prefix.isEmpty ? name : "\(prefix)/\(name)" }

    func partKey(_ name: String, part: Int) -> String {
        let digits = String(part)
        return "\(key(name))/\(String(repeating: "0", count: max(0, 20 - digits.count)))\(digits)"
    }

    /// Checks that the bucket is there and that the endpoint enforces conditional writes.
    public func prepare() async throws {
        let probe = key(".conditional-write-probe-\(UUID().uuidString)")
        do {
            _ = try await client.putObject(bucket: bucket, key: probe, body: Array("probe".utf8), condition: .noObject)
            let second = try await client.putObject(bucket: bucket, key: probe, body: Array("probe".utf8), condition: .noObject)
            try? await client.deleteObject(bucket: bucket, key: probe)
            guard second == .preconditionFailed || second == .conflict else {
                throw StateFileError.unwritable(
                    path: "s3://\(bucket)/\(prefix)",
                    reason: "this S3 endpoint ignores conditional writes (If-None-Match), so two workers could both advance one checkpoint; "
                        + "use --state dynamodb://TABLE instead")
            }
        } catch let error as S3Error {
            throw StateFileError.unwritable(path: "s3://\(bucket)/\(prefix)", reason: error.description)
        }
    }

    struct Header: Codable {
        var generation: UInt64?
        var writer: String
    }

    func envelope(_ header: Header, _ data: Data) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var bytes = [UInt8]((try? encoder.encode(header)) ?? Data())
        bytes.append(UInt8(ascii: "\n"))
        bytes.append(contentsOf: data)
        return bytes
    }

    func open(_ bytes: [UInt8], name: String) throws -> (Header, Data) {
        guard let newline = bytes.firstIndex(of: UInt8(ascii: "\n")),
            let header = try? JSONDecoder().decode(Header.self, from: Data(bytes[..<newline]))
        else {
            throw StateFileError.invalid(path: location(of: name), record: "state object", reason: "it has no dynamo-migrate header line")
        }
        return (header, Data(bytes[(newline + 1)...]))
    }

    func get(_ key: String, name: String) async throws -> (body: [UInt8], etag: String)? {
        do { return try await client.getObjectWithETag(bucket: bucket, key: key) } catch {
            throw StateFileError.unreadable(path: location(of: name), reason: error.description)
        }
    }

    func put(_ key: String, name: String, body: [UInt8], condition: S3PutCondition) async throws -> S3ConditionalPutResult {
        do { return try await client.putObject(bucket: bucket, key: key, body: body, condition: condition) } catch {
            throw StateFileError.unwritable(path: location(of: name), reason: error.description)
        }
    }

    // MARK: Documents

    public func read(_ name: String) async throws -> StoredDocument? {
        guard let object = try await get(key(name), name: name) else { return nil }
        let (header, data) = try open(object.body, name: name)
        return StoredDocument(data: data, generation: header.generation ?? 0)
    }

    @discardableResult
    public func replace(_ name: String, with data: Data, expectedGeneration: UInt64?) async throws -> UInt64 {
        while true {
            let object = try await get(key(name), name: name)
            let current = try object.map { try open($0.body, name: name).0.generation ?? 0 } ?? 0
            if let expectedGeneration, expectedGeneration != current {
                throw StateFileError.staleGeneration(path: location(of: name), expected: expectedGeneration, found: current)
            }
            let token = UUID().uuidString
            let next = current + 1
            let result = try await put(
                key(name), name: name, body: envelope(Header(generation: next, writer: token), data),
                condition: object.map { .etag($0.etag) } ?? .noObject)
            switch result {
            case .stored: return next
            case .conflict: continue  // another conditional write was in flight: read again
            case .preconditionFailed:
                let now = try await get(key(name), name: name)
                let header = try now.map { try open($0.body, name: name).0 }
                if header?.writer == token { return next }  // our own PUT, retried after a lost answer
                guard expectedGeneration == nil else {
                    throw StateFileError.staleGeneration(path: location(of: name), expected: current, found: header?.generation ?? 0)
                }
            }
        }
    }

    public func remove(_ name: String) async throws {
        do { try await client.deleteObject(bucket: bucket, key: key(name)) } catch {
            if case .noSuchKey = error { return }
            throw StateFileError.unwritable(path: location(of: name), reason: error.description)
        }
    }

    public func names(in collection: String) async throws -> [String] {
        let base = key(collection) + "/"
        let objects: [S3ObjectInfo]
        do { objects = try await client.listAllObjects(bucket: bucket, prefix: base) } catch {
            throw StateFileError.unreadable(path: location(of: collection), reason: error.description)
        }
        return objects.map { String($0.key.dropFirst(base.count)) }.filter { !$0.isEmpty && !$0.contains("/") }.sorted()
    }

    // MARK: Logs

    func partKeys(of name: String) async throws -> [String] {
        let base = key(name) + "/"
        do {
            return try await client.listAllObjects(bucket: bucket, prefix: base).map(\.key)
                .filter { $0.count == base.count + 20 && $0.dropFirst(base.count).allSatisfy(\.isNumber) }.sorted()
        } catch {
            throw StateFileError.unreadable(path: location(of: name), reason: error.description)
        }
    }

    public func append(line: Data, to name: String) async throws {
        let token = UUID().uuidString
        let body = envelope(Header(generation: nil, writer: token), line)
        while true {
            let part: Int
            if let known = nextPart.withLock({ $0[name] }) {
                part = known
            } else {
                part = (try await partKeys(of: name).last.flatMap { Int($0.suffix(20)) } ?? 0) + 1
            }
            let result = try await put(partKey(name, part: part), name: name, body: body, condition: .noObject)
            var ours = result != .preconditionFailed && result != .conflict
            if result == .preconditionFailed, let there = try await get(partKey(name, part: part), name: name),
                try open(there.body, name: name).0.writer == token
            {
                ours = true
            }
            if ours {
                nextPart.withLock { $0[name] = part + 1 }
                return
            }
            nextPart.withLock { $0[name] = nil }  // another appender took the part: look again
        }
    }

    public func lines(of name: String) async throws -> [Data] {
        var lines: [Data] = []
        for key in try await partKeys(of: name) {
            guard let object = try await get(key, name: name) else { continue }
            lines.append(try open(object.body, name: name).1)
        }
        return lines
    }
}
