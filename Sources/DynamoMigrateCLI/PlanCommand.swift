import ArgumentParser
import DynamoClient
import Foundation
import Pipeline
import RunState
import TableIO

/// `dynamo-migrate plan`: a dry run of `migrate` that reads a few items and writes nothing.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what migrate would do with a mapping, without writing anything.",
        discussion: """
            For every target: whether it exists, the settings it gets, each source's size and the actions \
            migrate takes, sample items before and after their transforms, key collisions among the samples, \
            settings that would be lost, tables to decommission or left unaccounted for, and a duration \
            estimate. Reads only (ListTables, DescribeTable, DescribeContinuousBackups, DescribeTimeToLive, \
            ListTagsOfResource, Scan with Limit). With --follow, also what migrate --follow needs: streams, \
            the 24-hour stream window, merged targets that cannot be followed exactly. Exit status: 0 ready; 1 blocking problems (such as an \
            existing target with another key schema) or a failed request; 2 a mapping that cannot be used.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The mapping file (see docs/mappings.md).")
    var mapping: String

    @Option(help: "Value of {env} in the mapping (default: the file's env:).")
    var env: String?

    @Option(help: "Items to sample from each source (Scan with this Limit; 0 for none).")
    var sample: Int = 3

    @Option(name: .customLong("write-rate"), help: "Items written per second assumed for the duration estimate.")
    var writeRate: Double = 1000

    @OptionGroup var sides: SideConnectionOptions

    @OptionGroup var followOptions: PlanFollowOptions

    @OptionGroup var outputFormat: OutputFormatOptions

    @Flag(help: "Print the plan as a Markdown review document for a change ticket.")
    var markdown = false

    /// `--markdown` is plan's own third format, next to the shared `--json`.
    var format: OutputFormat { markdown ? .markdown : outputFormat.format }

    func validate() throws {
        if outputFormat.json && markdown { throw ValidationError("--json and --markdown cannot be used together") }
        if !(0...100).contains(sample) { throw ValidationError("--sample must be between 0 and 100") }
        if !(writeRate > 0 && writeRate.isFinite) { throw ValidationError("--write-rate must be a positive number of items per second") }
    }

    func run() async throws {
        try await runReportingErrors {
            let (loaded, clients) = try await LoadedMapping.load(
                path: mapping, env: env, connections: ConnectionClients(global: global), sides: sides)
            var options = PlanOptions(mappingFile: mapping, env: loaded.document.env, sampleSize: sample, writeRate: writeRate)
            followOptions.apply(to: &options)
            let planner = Planner(client: clients.target, mapping: loaded.resolved, options: options, clients: clients)
            let plan = try await planner.makePlan()
            switch format {
            case .json: print(try plan.jsonText())
            case .markdown: print(PlanRenderer.markdown(plan), terminator: "")
            case .text: print(PlanRenderer.text(plan), terminator: "")
            }
            if plan.blocked {
                let count = plan.problems.count
                throw CLIError.failed(
                    "the plan found \(count) blocking problem\(count == 1 ? "" : "s"); migrate would refuse or stop:\n"
                        + plan.problems.map { "  - \($0.message)" }.joined(separator: "\n"))
            }
        }
    }
}
