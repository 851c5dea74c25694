import Foundation
import RunState
import TableIO

extension MigrationReport {
    /// The run report as Markdown, for a change ticket.
    public var markdown: String {
        var lines = ["# Migration report", ""]
        lines.append("- started: \(startedAt.ISO8601Format()), duration \(String(format: "%.1f", durationSeconds)) s")
        if alreadyComplete { lines.append("- already complete: nothing to do") }
        if interrupted { lines.append("- **interrupted**: resume with `dynamo-migrate migrate MAPPING --resume --state-dir \(stateDirectory)`") }
        if !createdTables.isEmpty { lines.append("- created: \(createdTables.joined(separator: ", "))") }
        lines.append(
            "- items: \(counts.itemsRead) read, \(counts.itemsWritten) written, \(counts.itemsFiltered) filtered, \(counts.itemsDeadLettered) dead-lettered, \(counts.itemsKeptExisting) kept existing"
        )
        lines.append(
            String(
                format: "- throughput: %.0f items/s, %.2f MB/s; retries %d, throttles %d, unprocessed items resent %d",
                itemsPerSecond, megabytesPerSecond, retries, throttles, unprocessedResent))
        if let deadLetterFile { lines.append("- dead letters: `\(deadLetterFile)`") }
        lines += [
            "", "| source | target | segments | read | written | filtered | dead-lettered | kept existing | bytes read | complete |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for s in sources {
            lines.append(
                "| \(s.source) | \(s.target) | \(s.segments) | \(s.itemsRead) | \(s.itemsWritten) | \(s.itemsFiltered) | \(s.itemsDeadLettered) | \(s.itemsKeptExisting) | \(s.bytesRead) | \(s.complete ? "yes" : "no") |"
            )
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
