import AWSAuth
import Foundation

/// A record kept in a ``StateStore``, in a versioned format.
///
/// `formatVersion` is written with every record; a record without one is version 1 (every file
/// written before versions existed). A record of a version newer than ``currentFormatVersion`` is
/// refused with an error naming the file, rather than read wrongly.
public protocol StateRecord: Codable, Sendable {
    /// What the record is called in messages ("checkpoint", "verification record").
    static var recordKind: String { get }
    /// The newest format this build writes and reads.
    static var currentFormatVersion: Int { get }
    /// How its dates are written.
    static var dateStyle: RecordDateStyle { get }
    /// Nil in records written before format versions (read as 1).
    var formatVersion: Int? { get set }
}

extension StateRecord {
    public static var currentFormatVersion: Int { 1 }
    public static var dateStyle: RecordDateStyle { .seconds }
}

/// How a record's dates are written; each record keeps the style its files always had.
public enum RecordDateStyle: Sendable {
    /// ISO 8601 to the second (`2026-11-30T07:45:00Z`).
    case seconds
    /// ISO 8601 with milliseconds (`2026-11-30T07:45:00.123Z`); whole seconds read too.
    case fractional
}

/// The JSON encoders and decoders of state records.
public enum RecordJSON {
    /// A document: indented, keys sorted.
    public static func documentEncoder(_ style: RecordDateStyle) -> JSONEncoder {
        let encoder = lineEncoder(style)
        encoder.outputFormatting.insert(.prettyPrinted)
        return encoder
    }

    /// One line of a log: keys sorted, slashes as they are.
    public static func lineEncoder(_ style: RecordDateStyle) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        switch style {
        case .seconds: encoder.dateEncodingStrategy = .iso8601
        case .fractional:
            encoder.dateEncodingStrategy = .custom { date, encoder in
                var container = encoder.singleValueContainer()
                try container.encode(iso8601(date))
            }
        }
        return encoder
    }

    public static func decoder(_ style: RecordDateStyle) -> JSONDecoder {
        let decoder = JSONDecoder()
        switch style {
        case .seconds: decoder.dateDecodingStrategy = .iso8601
        case .fractional:
            decoder.dateDecodingStrategy = .custom { decoder in
                let container = try decoder.singleValueContainer()
                let text = try container.decode(String.self)
                guard let date = parseDate(text) else {
                    throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an ISO 8601 date: \(text)")
                }
                return date
            }
        }
        return decoder
    }

    /// ISO 8601 in UTC with milliseconds, the form DynamoDB's export manifests use.
    public static func iso8601(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    /// ISO 8601, with or without fractional seconds.
    public static func parseDate(_ text: String?) -> Date? {
        guard let text else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}

/// Reads only the version of a record, before decoding the rest.
private struct FormatVersionProbe: Decodable {
    var formatVersion: Int?
}

extension StateStore {
    /// Decodes one record read from `path`, refusing a newer format and naming the file on any error.
    static func decodeRecord<R: StateRecord>(_ type: R.Type, from data: Data, path: String) throws -> R {
        let decoder = RecordJSON.decoder(R.dateStyle)
        let version: Int
        do { version = try decoder.decode(FormatVersionProbe.self, from: data).formatVersion ?? 1 } catch {
            throw StateFileError.invalid(path: path, record: R.recordKind, reason: decodingProblem(error, in: data))
        }
        guard version <= R.currentFormatVersion, version >= 1 else {
            throw StateFileError.newerFormat(path: path, record: R.recordKind, found: version, supported: R.currentFormatVersion)
        }
        do { return try decoder.decode(R.self, from: data) } catch {
            throw StateFileError.invalid(path: path, record: R.recordKind, reason: decodingProblem(error, in: data))
        }
    }

    /// The record in document `name` with its generation, or nil when there is none.
    public func load<R: StateRecord>(_ type: R.Type, from name: String) throws -> (record: R, generation: UInt64)? {
        guard let document = try read(name) else { return nil }
        return (try Self.decodeRecord(R.self, from: document.data, path: location(of: name)), document.generation)
    }

    /// Replaces document `name` with `record` (in the current format version); see
    /// ``replace(_:with:expectedGeneration:)`` for `expectedGeneration`. Returns the new generation.
    @discardableResult
    public func save<R: StateRecord>(_ record: R, to name: String, expectedGeneration: UInt64? = nil) throws -> UInt64 {
        var versioned = record
        versioned.formatVersion = R.currentFormatVersion
        let data: Data
        do { data = try RecordJSON.documentEncoder(R.dateStyle).encode(versioned) } catch {
            throw StateFileError.unwritable(path: location(of: name), reason: "cannot encode the \(R.recordKind): \(error)")
        }
        return try replace(name, with: data, expectedGeneration: expectedGeneration)
    }

    /// Appends `record` as one line of log `name`.
    public func append<R: StateRecord>(_ record: R, to name: String) throws {
        try append(line: try Self.encodeLine(record, path: location(of: name)), to: name)
    }

    /// One record as a log line (without the newline), in the current format version.
    public static func encodeLine<R: StateRecord>(_ record: R, path: String) throws -> Data {
        var versioned = record
        versioned.formatVersion = R.currentFormatVersion
        do { return try RecordJSON.lineEncoder(R.dateStyle).encode(versioned) } catch {
            throw StateFileError.unwritable(path: path, reason: "cannot encode the \(R.recordKind): \(error)")
        }
    }

    /// Every record of log `name`, oldest first. A line that does not parse (cut short by a crash, say)
    /// is skipped and its number returned in `skipped`; a line in a newer format refuses the whole log.
    public func records<R: StateRecord>(_ type: R.Type, in name: String) throws -> (records: [R], skipped: [Int]) {
        var records: [R] = []
        var skipped: [Int] = []
        let path = location(of: name)
        for (index, line) in try lines(of: name).enumerated() where !line.isEmpty {
            do {
                records.append(try Self.decodeRecord(R.self, from: line, path: path))
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

// MARK: - Checkpoints

extension MigrationCheckpoint: StateRecord {
    public static var recordKind: String { "checkpoint" }
    public static let fileName = "checkpoint.json"
}

extension StateStore {
    /// The migration's checkpoint, or nil when there is none.
    public func loadCheckpoint() throws -> MigrationCheckpoint? {
        do {
            guard var checkpoint = try load(MigrationCheckpoint.self, from: MigrationCheckpoint.fileName)?.record else { return nil }
            // Older checkpoints kept the endpoint as typed; compare in the one form clients use.
            checkpoint.endpoint = checkpoint.endpoint.map(AWSConfiguration.normalizedEndpoint)
            return checkpoint
        } catch let error as StateFileError {
            if case .invalid(let path, _, let problem) = error { throw CheckpointError.invalid(path: path, problem: problem) }
            throw CheckpointError.unreadable(path: location(of: MigrationCheckpoint.fileName), reason: error.reasonForCheckpoint)
        }
    }

    public func saveCheckpoint(_ checkpoint: MigrationCheckpoint) throws {
        do {
            try save(checkpoint, to: MigrationCheckpoint.fileName)
        } catch let error as StateFileError {
            throw CheckpointError.unwritable(path: location(of: MigrationCheckpoint.fileName), reason: error.reasonForCheckpoint)
        }
    }
}

extension StateFileError {
    /// The message without the path, for ``CheckpointError`` (whose messages name it already).
    var reasonForCheckpoint: String {
        switch self {
        case .invalid(_, let record, let reason): "not a valid \(record) (\(reason))"
        case .newerFormat(_, _, let found, let supported):
            "format version \(found), written by a newer dynamo-migrate (this one reads up to version \(supported)); upgrade, or pass another --state-dir"
        case .unreadable(_, let reason), .unwritable(_, let reason): reason
        case .notAFile(_, let what): "it is \(what), not a regular file"
        case .staleGeneration(_, let expected, let found): "changed by another run (generation \(found), expected \(expected))"
        }
    }
}
