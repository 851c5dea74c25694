import ArgumentParser
import Foundation
import RunState
import TableIO
import Verification

/// `dynamo-migrate verify`: checks that every target holds what its sources should produce.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Compare each target's checksum with the checksum of what its sources should produce.",
        discussion: """
            Every source item goes through the mapping's transforms as in `migrate`; filtered items are left out, \
            and items that fail their transforms (which `migrate` dead-letters) are left out and counted. Merged \
            sources follow the target's conflict policy in mapping order. Prints MATCH or MISMATCH per target, \
            with the buckets that differ (narrow them down with `diff`), and records both checksums in \
            verification.json in the state directory. Exits 0 when every target matches, 1 otherwise.
            """)

    @OptionGroup var global: GlobalOptions

    @OptionGroup var arguments: MappingArguments

    @OptionGroup var sides: SideConnectionOptions

    @OptionGroup var scan: ScanOptions

    @OptionGroup var outputFormat: OutputFormatOptions

    @OptionGroup var sharedState: SharedStateOption

    func validate() throws {
    }

    func run() async throws {
        try await runReportingErrors {
            let connections = ConnectionClients(global: global)
            let (loaded, clients) = try await LoadedMapping.load(
                path: arguments.mapping, env: arguments.env, connections: connections, sides: sides)
            let directory = arguments.stateDirectory(effectiveEnv: loaded.document.env)
            let verifier = MappingVerifier(
                checksummer: Checksummer(clients: clients, segments: scan.segments), mapping: loaded.resolved,
                fingerprints: MappingFingerprints(document: loaded.document, resolved: loaded.resolved))
            var record: VerificationRecord
            do {
                record = try await verifier.verify(mappingPath: arguments.mapping, env: loaded.document.env)
                try await record.recordIdentities(clients: clients, connections: connections)
                try record.write(to: directory)
                // A job of many workers keeps its evidence with its state, where decommission --state reads it.
                if sharedState.state != nil {
                    try await sharedState.store(client: connections.client(for: connections.base, origin: nil))?
                        .saveRecord(record, to: VerificationRecord.fileName)
                }
            } catch let error as VerificationError {
                throw CLIError.failed(error.description)
            }
            if outputFormat.json {
                print(try jsonText(record))
            } else {
                printSummary(record, directory: directory)
            }
            if !record.matched { throw ExitCode(1) }
        }
    }

    func printSummary(_ record: VerificationRecord, directory: URL) {
        var table = TextTable(["TARGET", "STATUS", "EXPECTED", "ACTUAL", "FILTERED", "FAILED", "BUCKETS"], rightAligned: [2, 3, 4, 5, 6])
        for t in record.targets {
            let filtered = t.sources.reduce(0) { $0 + $1.exclusions.itemsFiltered }
            let failed = t.sources.reduce(0) { $0 + $1.exclusions.itemsFailed }
            table.add([
                t.target, t.status.rawValue, formatCount(t.expected.itemCount), formatCount(t.actual.itemCount),
                formatCount(filtered), formatCount(failed), "\(t.differingBuckets.count)",
            ])
        }
        print(table.render())
        for t in record.targets {
            print("\n\(t.target): \(t.status.rawValue): \(t.reason)")
            print("  expected \(t.expected.hash.hex)  \(formatCount(t.expected.itemCount)) items  \(formatCount(t.expected.canonicalBytes)) bytes")
            if let identity = t.identity { print("  target read as \(identity)") }
            for source in t.sources { if let identity = source.identity { print("  source \(source.table) read as \(identity)") } }
            print("  actual   \(t.actual.hash.hex)  \(formatCount(t.actual.itemCount)) items  \(formatCount(t.actual.canonicalBytes)) bytes")
            for source in t.sources where source.exclusions.itemsFailed > 0 {
                print("  \(source.table): \(formatCount(source.exclusions.itemsFailed)) items fail their transforms (migrate dead-letters them), e.g.")
                for sample in source.exclusions.failureSamples { print("    \(sample)") }
            }
            if t.duplicateKeys > 0 { print("  \(formatCount(t.duplicateKeys)) target keys are produced more than once; policy: \(t.conflictPolicy)") }
            if !t.conflicts.isEmpty {
                print("  conflicting keys (\(formatCount(t.conflictCount))):")
                for key in t.conflicts { print("    \(key)") }
            }
            if t.status == .mismatch, !t.differingBuckets.isEmpty {
                let shown = t.differingBuckets.prefix(32).joined(separator: " ")
                print("  differing buckets: \(shown)\(t.differingBuckets.count > 32 ? " ..." : "")")
                if t.sources.count == 1 {
                    print(
                        "  details: dynamo-migrate diff \(t.sources[0].table) \(t.target) --mapping \(record.mapping)\(arguments.env.map { " --env \($0)" } ?? "")"
                    )
                }
            }
        }
        print("\nrecorded in \(directory.appendingPathComponent(VerificationRecord.fileName).path)")
    }
}
