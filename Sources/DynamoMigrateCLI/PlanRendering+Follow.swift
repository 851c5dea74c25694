import Pipeline

/// The `plan --follow` section, for the terminal and for Markdown.
extension PlanRenderer {
    static func followText(_ f: PlannedFollow) -> [String] {
        var out: [String] = []
        out.append("FOLLOW (migrate --follow\(f.enableStreams ? " --enable-streams" : ""))")
        out.append("  streams (DynamoDB keeps stream records \(f.streamRetentionHours) h):")
        var table = TextTable(["SOURCE", "STREAM", "FOLLOW NEEDS"])
        for s in f.sources {
            let needs: String
            if s.ready {
                needs = "ready"
            } else if s.viewType == nil, f.enableStreams {
                needs = "migrate turns it on (--enable-streams)"
            } else {
                needs = s.change ?? "?"
            }
            table.add([s.table, s.viewType ?? "off", needs])
        }
        out.append(indent(table.render(), 4))
        for s in f.sources where !s.ready {
            if let command = s.command { out.append("    \(s.table): \(command)") }
        }
        out.append("  copy before follow: about \(durationText(f.backfillSeconds)), \(retentionText(f))")
        out.append("  targets:")
        for t in f.targets {
            out.append("    \(t.exact ? "✓" : "✗") \(t.name): \(t.method)")
            if let limitation = t.limitation { out.append("      NOT EXACT: \(limitation)") }
        }
        out.append("")
        return out
    }

    static func followMarkdown(_ f: PlannedFollow) -> [String] {
        var out: [String] = []
        out.append("## Follow (`migrate --follow`\(f.enableStreams ? " `--enable-streams`" : ""))")
        out.append("")
        out.append(
            "DynamoDB keeps stream records \(f.streamRetentionHours) hours. Copy before follow: about \(durationText(f.backfillSeconds)), \(retentionText(f)).")
        out.append("")
        out.append("| Source | Stream | Follow needs |")
        out.append("|---|---|---|")
        for s in f.sources {
            let needs: String
            if s.ready {
                needs = "ready"
            } else if s.viewType == nil, f.enableStreams {
                needs = "migrate turns it on (`--enable-streams`)"
            } else {
                needs = md(s.change ?? "?") + (s.command.map { "<br>`\(md($0))`" } ?? "")
            }
            out.append("| `\(s.table)` | \(s.viewType ?? "off") | \(needs) |")
        }
        out.append("")
        out.append("| Target | Exact | How |")
        out.append("|---|---|---|")
        for t in f.targets {
            out.append("| `\(t.name)` | \(t.exact ? "yes" : "**no**: \(md(t.limitation ?? ""))") | \(md(t.method)) |")
        }
        out.append("")
        return out
    }

    static func retentionText(_ f: PlannedFollow) -> String {
        switch f.retention {
        case "over": "LONGER than the \(f.streamRetentionHours) h stream window"
        case "close": "at least half the \(f.streamRetentionHours) h stream window"
        default: "well within the \(f.streamRetentionHours) h stream window"
        }
    }
}
