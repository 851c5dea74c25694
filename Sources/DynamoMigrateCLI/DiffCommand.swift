import ArgumentParser
import DynamoClient
import Foundation
import Mappings
import RunState
import TableIO
import Verification

/// `dynamo-migrate diff`: which keys differ between a source and a target.
struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "List the keys missing from, extra in, or changed in TARGET compared with SOURCE.",
        discussion: """
            Per-bucket checksums of both tables come first; only the buckets that differ are scanned again and \
            compared key by key. With --mapping, SOURCE's items go through its transforms first (SOURCE must be a \
            source of TARGET); with a merged target, the other sources' items show up as extra. Exits 0 when \
            there is no difference, 1 otherwise.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The table holding what TARGET should hold.")
    var source: String

    @Argument(help: "The table to check.")
    var target: String

    @Option(help: "A mapping file whose transforms turn SOURCE items into TARGET items.")
    var mapping: String?

    @Option(help: "Value of {env} in the mapping (default: the file's env:).")
    var env: String?

    @OptionGroup var scan: ScanOptions

    @OptionGroup var sides: SideConnectionOptions

    @OptionGroup var outputFormat: OutputFormatOptions

    func validate() throws {
        try validateTableNames([source, target])
        if env != nil, mapping == nil { throw ValidationError("--env needs --mapping") }
    }

    func run() async throws {
        try await runReportingErrors {
            let connections = ConnectionClients(global: global)
            let pair = try connections.sides(sides)
            var clients = TableClients(source: pair.source, target: pair.target)
            var transform: ResolvedSource?
            if let mapping {
                let (loaded, mapped) = try await LoadedMapping.load(path: mapping, env: env, connections: connections, sides: sides)
                clients = mapped
                guard let resolvedTarget = loaded.resolved.targets.first(where: { $0.name == target }) else {
                    throw CLIError.usage(VerificationError.notATarget(target).description + " \(mapping)")
                }
                guard let resolvedSource = resolvedTarget.sources.first(where: { $0.table == source }) else {
                    throw CLIError.usage(VerificationError.notASource(source: source, target: target).description)
                }
                transform = resolvedSource
            } else if let sourceTable = try await clients.source(source).describeTableIfExists(source),
                let targetTable = try await clients.target(target).describeTableIfExists(target),
                sourceTable.keySchema != targetTable.keySchema
            {
                // Without a mapping, items are compared as they are: with different keys nothing can match.
                throw CLIError.usage(
                    "\(source) is keyed by \(sourceTable.keySchema) and \(target) by \(targetTable.keySchema): "
                        + "pass --mapping FILE so \(source)'s items are turned into \(target)'s first")
            }
            let diff: TableDiff
            do {
                diff = try await TableDiffer(checksummer: Checksummer(clients: clients, segments: scan.segments))
                    .diff(source: source, target: target, transform: transform)
            } catch let error as VerificationError {
                throw CLIError.failed(error.description)
            }
            if outputFormat.json {
                print(try jsonText(diff))
            } else {
                printDiff(diff)
            }
            if !diff.isIdentical { throw ExitCode(1) }
        }
    }

    func printDiff(_ diff: TableDiff) {
        if diff.exclusions.itemsFiltered > 0 || diff.exclusions.itemsFailed > 0 {
            print(
                "\(diff.source): \(formatCount(diff.exclusions.itemsFiltered)) items filtered, \(formatCount(diff.exclusions.itemsFailed)) failing their transforms (left out)"
            )
        }
        if diff.isIdentical {
            print(
                "\(diff.target) holds exactly what \(diff.source) \(mapping == nil ? "holds" : "produces"): \(formatCount(diff.actual.itemCount)) items, hash \(diff.actual.hash.hex)"
            )
            return
        }
        for key in diff.missing { print("missing  \(describeKey(key, schema: diff.keySchema))") }
        for key in diff.extra { print("extra    \(describeKey(key, schema: diff.keySchema))") }
        for item in diff.changed {
            print("changed  \(describeKey(item.key, schema: diff.keySchema))  attributes: \(item.attributes.joined(separator: ", "))")
        }
        print(
            "\n\(formatCount(diff.missing.count)) missing, \(formatCount(diff.extra.count)) extra, \(formatCount(diff.changed.count)) changed (in \(diff.differingBuckets.count) of 256 buckets); expected \(formatCount(diff.expected.itemCount)) items, \(diff.target) holds \(formatCount(diff.actual.itemCount))"
        )
        if diff.duplicateKeys > 0 {
            print("note: \(formatCount(diff.duplicateKeys)) target keys are produced more than once by \(diff.source)")
        }
    }
}
