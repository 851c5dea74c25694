import Foundation

/// The face of a ``StateStore`` that remote stores can implement without blocking the cooperative
/// thread pool: the same documents (replaced whole, with a generation), the same logs, the same names,
/// every call `async`.
///
/// The local directory store satisfies it with its synchronous methods (a sync method witnesses an
/// async requirement), so code written against `any AsyncStateStore` runs on a local `--state-dir`, a
/// DynamoDB control table (``DynamoDBStateStore``) or any later store alike. It has no process lock:
/// stores shared by many processes fence writers with conditional replaces instead (see
/// ``replace(_:with:expectedGeneration:)``).
///
/// The engines that predate shared state still call the synchronous ``StateStore`` on a local
/// directory; moving them onto this protocol is a mechanical `await` at each call.
public protocol AsyncStateStore: Sendable {
    /// Where `name` is, for messages: a file path, or a URL such as `dynamodb://table/name`.
    func location(of name: String) -> String
    /// The document `name`, or nil when there is none. Reads are strongly consistent.
    func read(_ name: String) async throws -> StoredDocument?
    /// Replaces document `name` atomically and returns its new generation. `expectedGeneration`: nil
    /// writes whatever is there, 0 only when there is no document, n only when it is at generation n;
    /// otherwise ``StateFileError/staleGeneration(path:expected:found:)`` and nothing is written.
    @discardableResult
    func replace(_ name: String, with data: Data, expectedGeneration: UInt64?) async throws -> UInt64
    /// Removes document `name`; removing one that is not there is not an error.
    func remove(_ name: String) async throws
    /// Names of the documents in `collection`, sorted, without the collection prefix.
    func names(in collection: String) async throws -> [String]
    /// Appends one line to log `name`, durable before returning.
    func append(line: Data, to name: String) async throws
    /// The lines of log `name` in order (empty when there is none).
    func lines(of name: String) async throws -> [Data]
}

extension LocalDirectoryStateStore: AsyncStateStore {}

extension AsyncStateStore {
    /// The record in document `name` with its generation, or nil when there is none; a record in a
    /// newer format, or one that does not parse, is refused with an error naming where it is.
    public func loadRecord<R: StateRecord>(_ type: R.Type, from name: String) async throws -> (record: R, generation: UInt64)? {
        guard let document = try await read(name) else { return nil }
        return (try LocalDirectoryStateStore.decodeRecord(R.self, from: document.data, path: location(of: name)), document.generation)
    }

    /// Replaces document `name` with `record` in the current format; returns the new generation.
    @discardableResult
    public func saveRecord<R: StateRecord>(_ record: R, to name: String, expectedGeneration: UInt64? = nil) async throws -> UInt64 {
        var versioned = record
        versioned.formatVersion = R.currentFormatVersion
        let data: Data
        do { data = try RecordJSON.documentEncoder(R.dateStyle).encode(versioned) } catch {
            throw StateFileError.unwritable(path: location(of: name), reason: "cannot encode the \(R.recordKind): \(error)")
        }
        return try await replace(name, with: data, expectedGeneration: expectedGeneration)
    }

    /// Appends `record` as one line of log `name`.
    public func appendRecord<R: StateRecord>(_ record: R, to name: String) async throws {
        try await append(line: try LocalDirectoryStateStore.encodeLine(record, path: location(of: name)), to: name)
    }

    /// Every record of log `name`, oldest first; lines that do not parse are skipped (their numbers in `skipped`).
    public func readRecords<R: StateRecord>(_ type: R.Type, in name: String) async throws -> (records: [R], skipped: [Int]) {
        var records: [R] = []
        var skipped: [Int] = []
        let path = location(of: name)
        for (index, line) in try await lines(of: name).enumerated() where !line.isEmpty {
            do {
                records.append(try LocalDirectoryStateStore.decodeRecord(R.self, from: line, path: path))
            } catch let error as StateFileError {
                if case .newerFormat(_, let record, let found, let supported) = error {
                    throw StateFileError.newerFormat(path: "\(path), line \(index + 1)", record: record, found: found, supported: supported)
                }
                skipped.append(index + 1)
            }
        }
        return (records, skipped)
    }
}
