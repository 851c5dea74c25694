// Export sources: `source: { export: …, key: … }` and `sources:` items with `export:`.
import Foundation
import Mappings
import Testing

@Suite struct ExportSourceSpecTests {
    @Test func exportSourcesCarryTheirURLAndKeyAndResolveWithoutATable() throws {
        let doc = try load(
            """
            version: 1
            env: prod
            tables:
              - source: { export: "s3://bk/{env}/AWSDynamoDB/0170-ab", key: "pk:S,sk:N" }
                target: orders
              - target: users
                sources:
                  - export: /var/exports/users
                    profile: dev
                  - table: users-legacy
            """)
        let first = try #require(doc.entries[0].sources[0].table.export)
        #expect(first.url == "s3://bk/prod/AWSDynamoDB/0170-ab")
        #expect(first.key == KeySchemaSpec(partition: KeyAttributeSpec(name: "pk", type: .s), sort: KeyAttributeSpec(name: "sk", type: .n)))
        #expect(first.location == SourceLocation(file: "m.yaml", line: 4, column: 23))
        let local = try #require(doc.entries[1].sources[0].table.export)
        #expect(local.url == "/var/exports/users" && local.key == nil)
        #expect(doc.entries[1].sources[0].connection?.connection.profile == "dev")
        #expect(doc.entries[1].sources[1].table.export == nil)

        // No table of that name exists: an export is not looked up among the tables.
        let resolved = try doc.resolve(existingTables: ["users-legacy"])
        #expect(resolved.targets.map(\.name) == ["orders", "users"])
        #expect(resolved.targets[0].sources[0].table == "s3://bk/prod/AWSDynamoDB/0170-ab")
        #expect(resolved.targets[0].sources[0].export?.url == "s3://bk/prod/AWSDynamoDB/0170-ab")
        #expect(resolved.targets[1].sources.map(\.table) == ["/var/exports/users", "users-legacy"])
        #expect(resolved.unaccounted.isEmpty)
    }

    @Test func badExportSourcesAreReportedAtTheirLines() {
        let lines = issueLines(
            """
            version: 1
            tables:
              - source: { export: "s3://bucket", key: "pk:S" }
                target: a
              - source: { table: t1, export: /x }
                target: b
              - source: { table: t2, key: "pk:S" }
                target: c
              - source: { export: /x, key: "pk:Q" }
                target: d
              - source: { profile: dev }
                target: e
              - source: { export: "https://example.com/x" }
                target: f
            """)
        #expect(
            lines.contains(
                "m.yaml:3:23: 'export' 's3://bucket' names no export folder (s3://bucket/prefix/AWSDynamoDB/<export id>); write s3://bucket/prefix/AWSDynamoDB/<export id>, or a local export folder"
            ), "\(lines)")
        #expect(lines.contains("m.yaml:5:26: a source has either 'table' or 'export', not both; a source is a live table or an export of one"), "\(lines)")
        #expect(lines.contains("m.yaml:7:26: 'key' belongs to an 'export' source; a live table's key schema comes from DescribeTable; remove it"), "\(lines)")
        #expect(lines.contains("m.yaml:9:32: 'key' 'pk:Q' is not a key schema; write it like pk:S or pk:S,sk:N (types S, N, B)"), "\(lines)")
        #expect(lines.contains("m.yaml:11:13: missing required key 'table' in source"), "\(lines)")
        #expect(lines.contains { $0.hasPrefix("m.yaml:13:23: 'export' 'https://example.com/x' is not an s3:// URL or a local folder") }, "\(lines)")
    }

    @Test func aGlobTargetOrADecommissionedExportIsRefused() throws {
        let glob = issueLines(
            """
            version: 1
            tables:
              - source: { export: /exports/a, key: "pk:S" }
                target: "new-*"
            """)
        #expect(glob == ["m.yaml:4:13: target 'new-*' is a pattern, but its source is an export; name the target table in full"])
        let lines = issueLines(
            """
            version: 1
            tables:
              - source: { export: /exports/b, key: "pk:S" }
                target: bbb
            decommission: [/exports/b]
            """)
        #expect(
            lines == [
                "m.yaml:5:16: decommission names '/exports/b', an export source: decommission deletes tables, never exports; remove it; to retire the exported table, name that table"
            ])
    }
}
