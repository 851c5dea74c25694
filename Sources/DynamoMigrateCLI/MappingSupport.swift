import ArgumentParser
import DynamoClient
import Foundation
import Mappings
import RunState
import TableIO

/// Loads a mapping file and resolves it against the endpoint's tables, turning problems into
/// operator-facing errors (exit code 2) that name the file, line and column.
struct LoadedMapping {
    var document: MappingDocument
    var resolved: ResolvedMapping
    var tables: [String]
    var fileBytes: [UInt8]

    /// - Parameter alsoExisting: tables to treat as existing though ListTables no longer shows them
    ///   (sources an earlier decommission deleted).
    static func load(path: String, env: String?, client: DynamoDBClient, alsoExisting: [String] = []) async throws -> LoadedMapping {
        let document: MappingDocument
        do {
            document = try MappingLoader.load(path: path, env: env)
        } catch {
            throw CLIError.usage("the mapping file has problems:\n\(error.description)")
        }
        let listed = try await client.listTables()
        let tables = listed + alsoExisting.filter { !listed.contains($0) }
        let resolved: ResolvedMapping
        do {
            resolved = try document.resolve(existingTables: tables)
        } catch {
            throw CLIError.usage("the mapping does not fit the tables at \(client.configuration.endpoint):\n\(error.description)")
        }
        for warning in resolved.warnings { printWarning(warning.description) }
        let bytes = (try? Data(contentsOf: URL(fileURLWithPath: path))).map { [UInt8]($0) } ?? []
        return LoadedMapping(document: document, resolved: resolved, tables: tables, fileBytes: bytes)
    }

    /// Identifies this mapping applied to these tables, so a checkpoint is only resumed by the same plan.
    var fingerprint: String {
        var text = "env=\(document.env ?? "")\n"
        for target in resolved.targets {
            text += "\(target.name)<-\(target.sources.map(\.table).joined(separator: ","))\n"
        }
        // Unpadded hex, as recorded in existing checkpoints.
        return String(stableHash(Array(text.utf8) + fileBytes), radix: 16)
    }

    /// `.dynamo-migrate/<mapping name>-<env>`.
    static func defaultStateDirectory(mappingPath: String, env: String?) -> URL {
        let name = URL(fileURLWithPath: mappingPath).deletingPathExtension().lastPathComponent
        return URL(fileURLWithPath: ".dynamo-migrate").appendingPathComponent(env.map { "\(name)-\($0)" } ?? name)
    }
}

func printWarning(_ message: String) {
    FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
}

/// The mapping file, `--env` and `--state-dir`, shared by the commands that keep state.
struct MappingArguments: ParsableArguments {
    @Argument(help: "The mapping file (see docs/mappings.md).")
    var mapping: String

    @Option(help: "Value of {env} in the mapping (default: the file's env:).")
    var env: String?

    @Option(name: .customLong("state-dir"), help: "Checkpoint, reports, verification and audit records (default: .dynamo-migrate/<mapping>-<env>).")
    var stateDir: String?

    /// `--state-dir`, or the default for this mapping and its effective env.
    func stateDirectory(effectiveEnv: String?) -> URL {
        stateDir.map { URL(fileURLWithPath: $0) }
            ?? LoadedMapping.defaultStateDirectory(mappingPath: mapping, env: effectiveEnv)
    }
}

/// The glob of a `--match` flag, in the one syntax of mapping files (`*`, `?`; docs/mappings.md, "Globs").
/// A character no table name can hold is bad input rather than a pattern that silently matches nothing.
func matchGlob(_ pattern: String?) throws -> Glob? {
    guard let pattern else { return nil }
    let glob = Glob(pattern)
    if let bad = glob.impossibleCharacter {
        throw CLIError.usage(
            "--match '\(pattern)': '\(bad)' cannot be part of a table name; a glob has * (any run of characters) and ? (one character), nothing else")
    }
    return glob
}
