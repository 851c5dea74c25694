import DynamoClient
import DynamoCore
import Foundation
import Pipeline
import RunState
import TableIO

/// Renders a ``MigrationPlan`` for a terminal (`text`) or a change ticket (`markdown`).
enum PlanRenderer {
    /// Longest item line in the terminal report; longer items are cut with their full size noted.
    static let textItemWidth = 200
    /// Longest item in the Markdown document.
    static let markdownItemWidth = 2000

    // MARK: - Terminal

    static func text(_ plan: MigrationPlan) -> String {
        var out: [String] = []
        out.append("Plan for \(plan.mappingFile)\(plan.env.map { " (env \($0))" } ?? "") at \(plan.endpoint)")
        out.append("Dry run: nothing was written. Item counts and sizes are DescribeTable's, refreshed by DynamoDB about every six hours.")
        out.append("")

        if plan.blocked {
            out.append("BLOCKING PROBLEMS: migrate would refuse or stop")
            for problem in plan.problems { out.append("  ✗ \(problem.message)") }
            out.append("")
        }

        out.append("SUMMARY")
        out.append(indent(summaryTable(plan).render(), 2))
        out.append("")

        for (i, target) in plan.targets.enumerated() {
            out += targetText(target, number: i + 1, of: plan.targets.count)
        }

        out.append("DECOMMISSION (each table once its target verifies)")
        if plan.decommission.isEmpty {
            out.append("  none")
        } else {
            var table = TextTable(["TABLE", "MIGRATED INTO", "ITEMS", "DEL.PROT."], rightAligned: [2])
            for d in plan.decommission {
                table.add([
                    d.table, d.migratedInto ?? "(not migrated)", d.itemCount.map(formatCount) ?? "?",
                    d.deletionProtection == true ? "ON" : "off",
                ])
            }
            out.append(indent(table.render(), 2))
        }
        out.append("")
        out.append("IGNORED: " + (plan.ignored.isEmpty ? "none" : plan.ignored.joined(separator: ", ")))
        out.append(
            "UNACCOUNTED FOR (not a source, target, ignored or decommissioned): "
                + (plan.unaccounted.isEmpty ? "none" : ""))
        for name in plan.unaccounted { out.append("  ? \(name)") }
        out.append("")
        if !plan.warnings.isEmpty {
            out.append("WARNINGS")
            for w in plan.warnings { out.append("  ! \(w)") }
            out.append("")
        }
        out.append("ESTIMATE")
        out.append("  \(estimateLine(plan.estimate))")
        out.append("  (\(plan.estimate.note))")
        out.append("")
        if let follow = plan.follow { out += followText(follow) }
        out.append(resultLine(plan))
        return out.joined(separator: "\n") + "\n"
    }

    static func summaryTable(_ plan: MigrationPlan) -> TextTable {
        var table = TextTable(
            ["TARGET", "STATE", "SOURCES", "ITEMS", "SIZE", "CONFLICT", "SAMPLES", "COLLISIONS", "LOST"],
            rightAligned: [2, 3, 4, 7, 8])
        for t in plan.targets {
            table.add([
                t.name, state(t), "\(t.sources.count)", formatCount(t.sources.reduce(0) { $0 + $1.itemCount }),
                formatBytes(t.sources.reduce(0) { $0 + $1.sizeBytes }), t.conflict, sampleSummary(t.sources.flatMap(\.samples)),
                "\(t.collisions.count)", "\(t.lostSettings.count)",
            ])
        }
        return table
    }

    static func targetText(_ t: PlannedTarget, number: Int, of count: Int) -> [String] {
        var out: [String] = []
        let title = "TARGET \(number) of \(count): \(t.name)  [\(state(t))]"
        out.append(title)
        out.append(String(repeating: "=", count: title.count))
        if let e = t.existing {
            out.append("  exists: \(e.status), key \(e.keySchema), \(formatCount(e.itemCount)) items, PITR \(e.pointInTimeRecovery ? "on" : "OFF")")
            if !e.keySchemaMatches {
                out.append("  ✗ KEY SCHEMA MISMATCH: the table has \(e.keySchema), the mapping needs \(t.settings.keySchema); migrate refuses to write into it")
            }
            for d in e.differences { out.append("  ! differs from the mapping: \(d) (migrate leaves it as it is)") }
        }
        out.append(
            "  settings\(t.exists ? " the mapping asks for" : " it is created with")\(t.inheritsFrom.map { " (unspecified ones inherited from \($0))" } ?? ""):"
        )
        out.append(indent(settingsRows(t.settings).map { "\($0.0.padding(toLength: 24, withPad: " ", startingAt: 0))\($0.1)" }.joined(separator: "\n"), 4))
        out.append("  conflict policy: \(t.conflict)")
        if !t.actions.isEmpty {
            out.append("  target actions:")
            for (i, a) in t.actions.enumerated() { out.append("    \(i + 1). \(a)") }
        }
        if !t.lostSettings.isEmpty {
            out.append("  settings that will be LOST:")
            for l in t.lostSettings { out.append("    - \(l)") }
        }
        for s in t.sources {
            out.append("")
            out.append("  source \(s.order) of \(t.sources.count): \(s.table)" + (s.matchedBy.map { " (from glob '\($0)')" } ?? ""))
            out.append(
                "    key \(s.keySchema), \(billingText(s.billing)), ~\(formatCount(s.itemCount)) items, ~\(formatBytes(s.sizeBytes))"
                    + (s.keyPrefix.map { ", key-prefix \"\($0)\"" } ?? "") + (s.hasTransforms ? "" : ", no transforms"))
            if let e = s.export { out.append("    " + exportSourceLine(e)) }
            for a in s.actions { out.append("    → \(a)") }
            if s.samples.isEmpty {
                out.append("    samples: none")
            } else {
                out.append("    samples (\(sampleSummary(s.samples))):")
                for (i, sample) in s.samples.enumerated() {
                    out.append("      #\(i + 1) \(outcomeText(sample))")
                    out.append("         before:  \(clip(ItemText.render(sample.before.item, key: s.keySchema), textItemWidth))")
                    if let after = sample.after {
                        out.append("         after:   \(clip(ItemText.render(after.item, key: t.settings.keySchema), textItemWidth))")
                        let lines = wrap(ItemText.changes(from: sample.before.item, to: after.item), width: 140)
                        for (n, line) in lines.enumerated() { out.append((n == 0 ? "         changes: " : "                  ") + line) }
                    }
                }
            }
        }
        if !t.collisions.isEmpty {
            out.append("")
            out.append("  key collisions among the samples (conflict: \(t.conflict)):")
            for c in t.collisions {
                out.append("    \(ItemText.key(c.key.item, t.settings.keySchema)): from \(c.sources.joined(separator: ", ")); \(c.outcome)")
            }
        }
        out.append("")
        return out
    }

    // MARK: - Markdown

    static func markdown(_ plan: MigrationPlan) -> String {
        var out: [String] = []
        out.append("# Migration plan: \(plan.mappingFile)\(plan.env.map { " (env `\($0)`)" } ?? "")")
        out.append("")
        out.append("- Endpoint: `\(plan.endpoint)`")
        out.append("- Status: " + (plan.blocked ? "**BLOCKED**: \(plan.problems.count) problem\(plan.problems.count == 1 ? "" : "s") (below)" : "**ready**"))
        out.append("- Made by `dynamo-migrate plan`, a dry run: nothing was written.")
        out.append("- Item counts and sizes are DescribeTable's, which DynamoDB refreshes about every six hours.")
        out.append("- Estimate: \(estimateLine(plan.estimate)) (\(plan.estimate.note)).")
        out.append("")
        if plan.blocked {
            out.append("## Blocking problems")
            out.append("")
            for p in plan.problems { out.append("- **\(md(p.message))**") }
            out.append("")
        }
        out.append("## Summary")
        out.append("")
        out.append("| Target | State | Sources | Items | Size | Conflict | Samples | Collisions | Lost settings |")
        out.append("|---|---|---:|---:|---:|---|---|---:|---:|")
        for t in plan.targets {
            out.append(
                "| `\(t.name)` | \(state(t)) | \(t.sources.count) | \(formatCount(t.sources.reduce(0) { $0 + $1.itemCount })) | \(formatBytes(t.sources.reduce(0) { $0 + $1.sizeBytes })) | \(t.conflict) | \(sampleSummary(t.sources.flatMap(\.samples))) | \(t.collisions.count) | \(t.lostSettings.count) |"
            )
        }
        out.append("")

        for t in plan.targets {
            out.append("## Target `\(t.name)` (\(state(t)))")
            out.append("")
            if let e = t.existing {
                out.append("Exists: \(e.status), key `\(e.keySchema)`, \(formatCount(e.itemCount)) items, PITR \(e.pointInTimeRecovery ? "on" : "off").")
                if !e.keySchemaMatches {
                    out.append("")
                    out.append(
                        "**Key schema mismatch**: the table has `\(e.keySchema)`, the mapping needs `\(t.settings.keySchema)`; migrate refuses to write into it."
                    )
                }
                for d in e.differences { out.append("- Differs from the mapping: \(md(d)) (migrate leaves it as it is)") }
                out.append("")
            }
            out.append("Conflict policy: `\(t.conflict)`." + (t.inheritsFrom.map { " Unspecified settings are inherited from `\($0)`." } ?? ""))
            out.append("")
            out.append("| Setting | Value |")
            out.append("|---|---|")
            for (name, value) in settingsRows(t.settings) { out.append("| \(name) | \(md(value)) |") }
            out.append("")
            if !t.actions.isEmpty {
                out.append("Target actions:")
                out.append("")
                for (i, a) in t.actions.enumerated() { out.append("\(i + 1). \(md(a))") }
                out.append("")
            }
            if !t.lostSettings.isEmpty {
                out.append("Settings that will be **lost**:")
                out.append("")
                for l in t.lostSettings { out.append("- \(md(l))") }
                out.append("")
            }
            out.append("| # | Source | Key | Billing | Items | Size | Actions |")
            out.append("|---:|---|---|---|---:|---:|---|")
            for s in t.sources {
                let actions = s.actions.map(md).joined(separator: "<br>")
                out.append(
                    "| \(s.order) | `\(s.table)`\(s.matchedBy.map { " (from glob `\($0)`)" } ?? "") | `\(s.keySchema)`\(s.keyPrefix.map { " (key-prefix `\($0)`)" } ?? "") | \(billingText(s.billing)) | \(formatCount(s.itemCount)) | \(formatBytes(s.sizeBytes)) | \(actions) |"
                )
            }
            out.append("")
            for s in t.sources where !s.samples.isEmpty {
                out.append("Samples of `\(s.table)` (\(sampleSummary(s.samples))):")
                out.append("")
                out.append("```")
                for (i, sample) in s.samples.enumerated() {
                    out.append("#\(i + 1) \(outcomeText(sample))")
                    out.append("  before:  \(clip(ItemText.render(sample.before.item, key: s.keySchema), markdownItemWidth))")
                    if let after = sample.after {
                        out.append("  after:   \(clip(ItemText.render(after.item, key: t.settings.keySchema), markdownItemWidth))")
                        out.append("  changes: \(ItemText.changes(from: sample.before.item, to: after.item).joined(separator: "  "))")
                    }
                }
                out.append("```")
                out.append("")
            }
            if !t.collisions.isEmpty {
                out.append("Key collisions among the samples:")
                out.append("")
                for c in t.collisions {
                    out.append(
                        "- `\(ItemText.key(c.key.item, t.settings.keySchema))` from \(c.sources.map { "`\($0)`" }.joined(separator: ", ")): \(md(c.outcome))")
                }
                out.append("")
            }
            out.append("Review:")
            out.append("")
            out.append("- [ ] Settings of `\(t.name)` checked (key, billing, indexes, stream, encryption, TTL, PITR, tags)")
            if !t.lostSettings.isEmpty { out.append("- [ ] Loss of \(t.lostSettings.count) source setting\(t.lostSettings.count == 1 ? "" : "s") accepted") }
            out.append("- [ ] Sample items before and after their transforms checked")
            if t.sources.count > 1 || t.exists { out.append("- [ ] Conflict policy `\(t.conflict)` is right for overlapping keys") }
            if !t.collisions.isEmpty {
                out.append("- [ ] Outcome of the \(t.collisions.count) sampled key collision\(t.collisions.count == 1 ? "" : "s") accepted")
            }
            out.append("")
        }

        out.append("## Decommission")
        out.append("")
        if plan.decommission.isEmpty {
            out.append("None.")
        } else {
            out.append("Each table is deleted only once its target verifies.")
            out.append("")
            out.append("| Table | Migrated into | Items | Deletion protection |")
            out.append("|---|---|---:|---|")
            for d in plan.decommission {
                out.append(
                    "| `\(d.table)` | \(d.migratedInto.map { "`\($0)`" } ?? "not migrated") | \(d.itemCount.map(formatCount) ?? "?") | \(d.deletionProtection == true ? "**on**" : "off") |"
                )
            }
        }
        out.append("")
        out.append("## Other tables")
        out.append("")
        out.append("- Ignored: " + (plan.ignored.isEmpty ? "none" : plan.ignored.map { "`\($0)`" }.joined(separator: ", ")))
        out.append(
            "- Unaccounted for (not a source, target, ignored or decommissioned): "
                + (plan.unaccounted.isEmpty ? "none" : plan.unaccounted.map { "`\($0)`" }.joined(separator: ", ")))
        out.append("")
        if !plan.warnings.isEmpty {
            out.append("## Warnings")
            out.append("")
            for w in plan.warnings { out.append("- \(md(w))") }
            out.append("")
        }
        if let follow = plan.follow { out += followMarkdown(follow) }
        out.append("## Checklist")
        out.append("")
        out.append("- [ ] No blocking problems" + (plan.blocked ? " (currently \(plan.problems.count))" : ""))
        out.append("- [ ] Every target section reviewed")
        let failed = plan.sampleCounts.failed
        if failed > 0 {
            out.append("- [ ] The \(failed) sampled item\(failed == 1 ? "" : "s") failing a transform understood (such items go to the dead letters)")
        }
        if !plan.unaccounted.isEmpty { out.append("- [ ] Each unaccounted table has an owner or is added to the mapping") }
        let protected = plan.decommission.filter { $0.deletionProtection == true }.map(\.table)
        if !protected.isEmpty {
            out.append("- [ ] Deletion protection turned off, at decommission time, on \(protected.map { "`\($0)`" }.joined(separator: ", "))")
        }
        if !plan.decommission.isEmpty { out.append("- [ ] Backups of the tables to decommission exist and are restorable") }
        out.append("- [ ] Write capacity and the time window fit the estimate (\(durationText(plan.estimate.seconds)))")
        if let follow = plan.follow {
            let changes = follow.sources.filter { !$0.ready }.map(\.table)
            if !changes.isEmpty {
                out.append("- [ ] Stream changes on \(changes.map { "`\($0)`" }.joined(separator: ", ")) approved (production tables)")
            }
            out.append("- [ ] Applications switched to the targets, writes to the sources stopped, follow drained before verify")
        }
        out.append("- [ ] After migrate: targets verified before any decommission")
        return out.joined(separator: "\n") + "\n"
    }

    // MARK: - Pieces

    static func state(_ t: PlannedTarget) -> String {
        guard let e = t.existing else { return "create" }
        return e.keySchemaMatches ? "exists" : "KEY MISMATCH"
    }

    static func settingsRows(_ s: PlannedSettings) -> [(String, String)] {
        func indexText(_ i: PlannedIndex) -> String {
            var text = "\(i.name): \(i.keySchema), \(i.projection)"
            if let names = i.nonKeyAttributes { text += " [\(names.joined(separator: ", "))]" }
            if let r = i.readCapacityUnits, let w = i.writeCapacityUnits { text += ", \(r)/\(w)" }
            return text
        }
        let sse = s.sseType == "KMS" ? "KMS, " + (s.kmsKeyId ?? "AWS managed key (alias/aws/dynamodb)") : "AWS owned key (default)"
        return [
            ("key", s.keySchema.description),
            ("billing", billingText(s.billing)),
            ("global indexes", s.globalSecondaryIndexes.isEmpty ? "none" : s.globalSecondaryIndexes.map(indexText).joined(separator: "; ")),
            ("local indexes", s.localSecondaryIndexes.isEmpty ? "none" : s.localSecondaryIndexes.map(indexText).joined(separator: "; ")),
            ("stream", s.stream == "OFF" ? "off" : s.stream),
            ("encryption", sse),
            ("deletion protection", s.deletionProtection ? "on" : "off"),
            ("TTL", s.ttlAttribute.map { "on \($0)" } ?? "off"),
            ("point-in-time recovery", s.pointInTimeRecovery ? "on" : "off"),
            ("tags", s.tags.isEmpty ? "none" : s.tags.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")),
        ]
    }

    static func billingText(_ b: PlannedBilling) -> String {
        if b.mode == "PROVISIONED" { return "provisioned \(b.readCapacityUnits ?? 0)/\(b.writeCapacityUnits ?? 0)" }
        return "on-demand"
    }

    static func sampleSummary(_ samples: [PlannedSample]) -> String {
        if samples.isEmpty { return "none" }
        let failed = samples.filter { $0.outcome == .failed }.count
        let filtered = samples.filter { $0.outcome == .filtered }.count
        var parts = ["\(samples.count) sampled"]
        if failed > 0 { parts.append("\(failed) FAILED") }
        if filtered > 0 { parts.append("\(filtered) filtered") }
        return parts.joined(separator: ", ")
    }

    static func outcomeText(_ s: PlannedSample) -> String {
        switch s.outcome {
        case .transformed: "written"
        case .filtered: "filtered out (not written)"
        case .failed: "FAILS: \(s.error ?? "")"
        }
    }

    static func estimateLine(_ e: PlanEstimate) -> String {
        "\(formatCount(e.sourceItems)) source items (\(formatBytes(e.sourceBytes))) at \(formatCount(Int(e.writeRate.rounded()))) items/s: about \(durationText(e.seconds))"
    }

    /// 0.4 → "1 s", 95 → "1 min 35 s", 7300 → "2 h 2 min".
    static func durationText(_ seconds: Double) -> String {
        let s = max(1, Int(seconds.rounded(.up)))
        if s < 60 { return "\(s) s" }
        if s < 3600 { return "\(s / 60) min" + (s % 60 > 0 ? " \(s % 60) s" : "") }
        let minutes = (s + 59) / 60
        return "\(minutes / 60) h" + (minutes % 60 > 0 ? " \(minutes % 60) min" : "")
    }

    static func resultLine(_ plan: MigrationPlan) -> String {
        if plan.blocked {
            return "RESULT: BLOCKED by \(plan.problems.count) problem\(plan.problems.count == 1 ? "" : "s") (see the top); migrate would refuse or stop."
        }
        let c = plan.sampleCounts
        var text =
            "RESULT: ready. \(plan.targets.count) target\(plan.targets.count == 1 ? "" : "s"), "
            + "\(plural(plan.targets.reduce(0) { $0 + $1.sources.count }, "source")), \(plan.decommission.count) to decommission"
        if c.failed > 0 { text += "; \(c.failed) of \(c.sampled) sampled items fail their transform" }
        return text + "."
    }

    static func plural(_ n: Int, _ noun: String) -> String { "\(formatCount(n)) \(noun)\(n == 1 ? "" : "s")" }

    static func clip(_ text: String, _ width: Int) -> String {
        guard text.count > width else { return text }
        return String(text.prefix(width)) + "… (\(formatCount(text.utf8.count)) bytes in all)"
    }

    /// Joins parts with two spaces into lines of about `width` characters.
    static func wrap(_ parts: [String], width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for part in parts {
            if !line.isEmpty, line.count + 2 + part.count > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : "  ") + part
        }
        if !line.isEmpty { lines.append(line) }
        return lines.isEmpty ? ["none"] : lines
    }

    static func indent(_ text: String, _ n: Int) -> String {
        let pad = String(repeating: " ", count: n)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { pad + $0 }.joined(separator: "\n")
    }

    /// Escapes what would break a Markdown table cell.
    static func md(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}

/// Items on one line in PartiQL's notation, which keeps DynamoDB's types visible: S quoted, N bare,
/// BOOL true/false, NULL null, M {...}, L [...], sets <<...>>, binary b64"...". Key attributes come
/// first and every map's names are sorted, so the same item always reads the same.
enum ItemText {
    static func render(_ item: Item, key: KeySchema?) -> String {
        let keyNames = key?.attributeNames.map { AttributeName($0) }.filter { item[$0] != nil } ?? []
        let rest = item.keys.filter { !keyNames.contains($0) }.sorted()
        return "{" + (keyNames + rest).map { "\(name($0)): \(render(item[$0]!))" }.joined(separator: ", ") + "}"
    }

    static func render(_ value: AttributeValue) -> String {
        switch value {
        case .s(let s): quote(s)
        case .n(let n): n.text
        case .b(let b): "b64\"\(Base64.encode(b))\""
        case .bool(let b): b ? "true" : "false"
        case .null: "null"
        case .m(let m): render(m, key: nil)
        case .l(let l): "[" + l.map(render).joined(separator: ", ") + "]"
        case .ss(let ss): "<<" + ss.map(quote).joined(separator: ", ") + ">>"
        case .ns(let ns): "<<" + ns.map(\.text).joined(separator: ", ") + ">>"
        case .bs(let bs): "<<" + bs.map { "b64\"\(Base64.encode($0))\"" }.joined(separator: ", ") + ">>"
        }
    }

    /// `userId="u1", sk=3`: a key with the table's key attributes in order.
    static func key(_ key: Item, _ schema: KeySchema) -> String {
        schema.attributeNames.compactMap { name in key[AttributeName(name)].map { "\(self.name(name))=\(render($0))" } }.joined(separator: ", ")
    }

    /// What a transform changed: `old→new` renamed, `-old` removed, `+new: value` added, `~name: old → new` changed.
    static func changes(from before: Item, to after: Item) -> [String] {
        var parts: [String] = []
        // A removed attribute whose value reappears under a new name reads as a rename.
        var renamedTo: Set<AttributeName> = []
        for n in before.keys.sorted() where after[n] == nil {
            if let to = after.keys.sorted().first(where: { before[$0] == nil && !renamedTo.contains($0) && after[$0] == before[n] }) {
                renamedTo.insert(to)
                parts.append("\(name(n))→\(name(to))")
            } else {
                parts.append("-\(name(n))")
            }
        }
        for n in after.keys.sorted() where !renamedTo.contains(n) {
            let new = after[n]!
            if let old = before[n] {
                if old != new { parts.append("~\(name(n)): \(short(old)) → \(short(new))") }
            } else {
                parts.append("+\(name(n)): \(short(new))")
            }
        }
        return parts
    }

    static func short(_ value: AttributeValue) -> String {
        let text = render(value)
        return text.count > 40 ? String(text.prefix(39)) + "…" : text
    }

    static func name(_ n: AttributeName) -> String { name(n.string) }

    /// Attribute names bare when they are plain identifiers, quoted otherwise.
    static func name(_ n: String) -> String {
        let plain =
            !n.isEmpty && n.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" }
            && !("0"..."9").contains(n.unicodeScalars.first!)
        return plain ? n : quote(n)
    }

    static func quote(_ s: String) -> String {
        var writer = JSONWriter()
        writer.string(s)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}

/// How plan shows an export source (`source: { export: … }`).
func exportSourceLine(_ e: PlannedExport) -> String {
    let items = e.items.map { "\(formatCount($0)) items" } ?? "items not recorded (no manifests)"
    return "export: \(e.dataFiles) data files, \(formatBytes(e.bytes)), \(items)"
        + (e.exportedTable.map { ", taken of \($0)" } ?? "") + "; read from its files (no read capacity)"
}
