// What a follow did and how far behind it is: for the progress line, report.json and Prometheus.
import Foundation

/// One shard's state.
public struct ShardFollowReport: Codable, Sendable, Equatable {
    public var shardId: String
    public var parentShardId: String?
    /// Closed and read to its end.
    public var finished: Bool
    /// The last GetRecords found nothing new.
    public var caughtUp: Bool
    public var recordsApplied: Int
    public var lastSequenceNumber: String?
    public var lastRecordAt: Date?
    /// Age of the last applied record when records are waiting, 0 when caught up; nil before the first
    /// record of a shard that is not caught up yet.
    public var lagSeconds: Double?
}

/// One source's state.
public struct SourceFollowReport: Codable, Sendable, Equatable {
    public var table: String
    public var streamArn: String
    /// Records applied in this run.
    public var recordsApplied: Int
    /// Records older than the position capture (already in the copy), skipped in this run.
    public var recordsSkipped: Int
    public var timeToLiveDeletes: Int
    public var lagSeconds: Double?
    public var lastRecordAt: Date?
    public var drainedAt: Date?
    public var shards: [ShardFollowReport]
}

/// A follow run.
public struct FollowReport: Codable, Sendable, Equatable {
    public var startedAt: Date
    public var finishedAt: Date
    /// Every shard was caught up and nothing arrived for the idle period (`--until-idle`).
    public var drained: Bool
    /// Stopped by the operator (Ctrl-C) before draining.
    public var interrupted: Bool
    public var recordsApplied: Int
    public var recordsPerSecond: Double
    public var puts: Int
    public var deletes: Int
    public var timeToLiveDeletes: Int
    public var deadLettered: Int
    /// The largest shard lag.
    public var lagSeconds: Double?
    public var sources: [SourceFollowReport]

    /// The one progress line.
    public var progressLine: String {
        let lag = lagSeconds.map { String(format: "%.1f s", $0) } ?? "-"
        let shards = sources.flatMap(\.shards)
        let caught = shards.filter { $0.caughtUp || $0.finished }.count
        return String(
            format: "follow: %d records applied (%.1f/s), lag %@, %d/%d shards caught up%@", recordsApplied, recordsPerSecond, lag,
            caught, shards.count, timeToLiveDeletes > 0 ? ", \(timeToLiveDeletes) TTL deletes" : "")
    }

    /// The progress line, then one line per source and, for sources with few shards, one per shard.
    public var progressLines: [String] {
        var lines = [progressLine]
        func lag(_ seconds: Double?) -> String { seconds.map { String(format: "%.1f s", $0) } ?? "-" }
        for source in sources {
            lines.append("  \(source.table): \(source.recordsApplied) applied, \(source.recordsSkipped) skipped (in the copy), lag \(lag(source.lagSeconds))")
            guard source.shards.count <= 8 else { continue }
            for shard in source.shards where !shard.finished {
                lines.append("    \(shard.shardId): \(shard.recordsApplied) applied, lag \(lag(shard.lagSeconds))\(shard.caughtUp ? ", caught up" : "")")
            }
        }
        return lines
    }

    /// The follow as a Markdown section, for report.md.
    public var markdown: String {
        func lag(_ seconds: Double?) -> String { seconds.map { String(format: "%.1f s", $0) } ?? "-" }
        var lines = ["## Follow", ""]
        lines.append("- started: \(startedAt.ISO8601Format()), ended: \(finishedAt.ISO8601Format())")
        lines.append(
            drained
                ? "- **drained**: every shard caught up, nothing new for the idle period" : "- not drained (stopped before); resume with `--follow --resume`")
        lines.append(
            String(
                format: "- records applied: %d (%.1f/s); %d puts, %d deletes, %d TTL deletes, %d dead-lettered; lag %@", recordsApplied,
                recordsPerSecond, puts, deletes, timeToLiveDeletes, deadLettered, lag(lagSeconds)))
        lines += ["", "| source | shard | parent | applied | last record | lag | state |", "|---|---|---|---:|---|---:|---|"]
        for source in sources {
            for shard in source.shards {
                let state = shard.finished ? "finished" : (shard.caughtUp ? "caught up" : "reading")
                lines.append(
                    "| \(source.table) | \(shard.shardId) | \(shard.parentShardId ?? "") | \(shard.recordsApplied) | \(shard.lastRecordAt?.ISO8601Format() ?? "") | \(lag(shard.lagSeconds)) | \(state) |"
                )
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The report as Prometheus text exposition (for node_exporter's textfile collector).
    public var prometheusText: String {
        var out = ""
        func escape(_ s: String) -> String {
            s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
        }
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: Double)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples {
                let value: String
                if !sample.value.isFinite {
                    value = "NaN"
                } else if sample.value == sample.value.rounded(), abs(sample.value) < 1e15 {
                    value = String(format: "%.0f", sample.value)
                } else {
                    value = String(format: "%.3f", sample.value)
                }
                out += sample.labels.isEmpty ? "\(name) \(value)\n" : "\(name){\(sample.labels)} \(value)\n"
            }
        }
        let shardLabels = sources.flatMap { s in s.shards.map { (s, $0) } }
        metric(
            "dynamo_migrate_follow_lag_seconds", "gauge", "Age of the last applied stream record while records wait (0 when caught up).",
            [("", lagSeconds ?? .nan)] + sources.map { ("source=\"\(escape($0.table))\"", $0.lagSeconds ?? .nan) })
        metric(
            "dynamo_migrate_follow_shard_lag_seconds", "gauge", "Per shard: age of the last applied record while records wait.",
            shardLabels.map { ("source=\"\(escape($0.0.table))\",shard=\"\(escape($0.1.shardId))\"", $0.1.lagSeconds ?? .nan) })
        metric(
            "dynamo_migrate_follow_shard_caught_up", "gauge", "1 when the shard's last GetRecords found nothing new (or it is finished).",
            shardLabels.map { ("source=\"\(escape($0.0.table))\",shard=\"\(escape($0.1.shardId))\"", $0.1.caughtUp || $0.1.finished ? 1 : 0) })
        metric(
            "dynamo_migrate_follow_records_applied_total", "counter", "Stream records applied to targets in this run.",
            sources.map { ("source=\"\(escape($0.table))\"", Double($0.recordsApplied)) })
        metric(
            "dynamo_migrate_follow_ttl_deletes_total", "counter", "Time to Live deletes applied in this run.",
            sources.map { ("source=\"\(escape($0.table))\"", Double($0.timeToLiveDeletes)) })
        metric("dynamo_migrate_follow_records_per_second", "gauge", "Records applied per second in this run.", [("", recordsPerSecond)])
        metric("dynamo_migrate_follow_drained", "gauge", "1 once the follow has drained (--until-idle).", [("", drained ? 1 : 0)])
        metric("dynamo_migrate_follow_updated_timestamp_seconds", "gauge", "When this file was written.", [("", finishedAt.timeIntervalSince1970)])
        return out
    }
}
