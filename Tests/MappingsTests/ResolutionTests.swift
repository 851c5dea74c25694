// Resolving mappings against the endpoint's table names.
import DynamoCore
import Mappings
import Testing

@Suite struct ResolutionTests {
    static let consolidation = """
        version: 1
        env: prod
        tables:
          - target: "omnix-ai-{env}-users"
            conflict: keep-existing
            settings:
              key: { partition: { name: userId, type: S } }
            sources:
              - table: omnix-ai-dev-users
                key-prefix: "DEV#"
              - table: "omnix-users-*"
                transforms:
                  - set: { origin: "{source}" }
          - source: "omnix-ai-cdk-*"
            target: "omnix-ai-{env}-*"
        decommission: ["omnix-ai-dev-*", "legacy-*"]
        ignore: ["terraform-locks", "audit-*"]
        """

    static let tables = [
        "omnix-ai-dev-users", "omnix-users-eu", "omnix-users-us", "omnix-ai-cdk-orders", "omnix-ai-cdk-products",
        "omnix-ai-prod-users", "omnix-ai-dev-sessions", "legacy-carts", "terraform-locks", "audit-2024",
        "scratch", "omnix-ai-prod-orders",
    ]

    @Test func manyToOneAndGlobCaptures() throws {
        let r = try load(Self.consolidation).resolve(existingTables: Self.tables)
        #expect(r.targets.map(\.name) == ["omnix-ai-prod-users", "omnix-ai-prod-orders", "omnix-ai-prod-products"])
        #expect(r.targets.map(\.exists) == [true, true, false])
        let users = r.targets[0]
        #expect(users.conflict == .keepExisting)
        #expect(users.sources.map(\.table) == ["omnix-ai-dev-users", "omnix-users-eu", "omnix-users-us"])
        #expect(users.sources.map(\.keyPrefix) == ["DEV#", nil, nil])
        #expect(users.inheritsFrom == "omnix-ai-dev-users")
        #expect(users.settings.key?.partition.name == "userId")
        #expect(users.location == SourceLocation(file: "m.yaml", line: 4, column: 5))
        // {source} is each table's own name.
        #expect(try users.sources[2].transform.apply(["userId": .s("u")]) == ["userId": .s("u"), "origin": .s("omnix-users-us")])
        #expect(
            try users.sources[0].itemTransform(targetKey: users.settings.key!).apply(["userId": .s("u")])
                == ["userId": .s("DEV#u")])
        #expect(r.targets[1].sources.map(\.table) == ["omnix-ai-cdk-orders"])
        #expect(r.targets[1].conflict == .overwrite)
        #expect(r.targets[2].sources.map(\.table) == ["omnix-ai-cdk-products"])
        #expect(r.decommission == ["legacy-carts", "omnix-ai-dev-sessions", "omnix-ai-dev-users"])
        #expect(r.ignored == ["audit-2024", "terraform-locks"])
        #expect(r.unaccounted == ["scratch"])
        #expect(r.warnings.isEmpty)
    }

    @Test func everyTableIsAccountedForExactlyOnceOrUnaccounted() throws {
        let r = try load(Self.consolidation).resolve(existingTables: Self.tables)
        let mapped = Set(r.targets.map(\.name)).intersection(Self.tables)
            .union(r.targets.flatMap(\.sources).map(\.table))
        // Sources may also be decommissioned (after verification); everything else is in one list.
        let all = mapped.union(r.decommission).union(r.ignored).union(r.unaccounted)
        #expect(all == Set(Self.tables))
        #expect(Set(r.unaccounted).isDisjoint(with: mapped.union(r.decommission).union(r.ignored)))
    }

    @Test func missingNamedSourceIsAnErrorWithItsLine() throws {
        let doc = try load(Self.consolidation)
        let error = #expect(throws: MappingResolutionError.self) {
            try doc.resolve(existingTables: ["omnix-ai-dev-user", "omnix-users-eu"])
        }
        #expect(
            error?.description == """
                m.yaml:9:16: source table 'omnix-ai-dev-users' does not exist; tables with similar names: omnix-ai-dev-user
                """)
    }

    @Test func globMatchingNothingIsAWarning() throws {
        let r = try load(Self.consolidation).resolve(existingTables: ["omnix-ai-dev-users"])
        #expect(
            r.warnings.map(\.description) == [
                "m.yaml:11:16: source pattern 'omnix-users-*' matches no table",
                "m.yaml:14:13: source pattern 'omnix-ai-cdk-*' matches no table",
                "m.yaml:16:34: decommission pattern 'legacy-*' matches no table",
                "m.yaml:17:10: ignore pattern 'terraform-locks' matches no table",
                "m.yaml:17:29: ignore pattern 'audit-*' matches no table",
            ])
        #expect(r.targets.map(\.name) == ["omnix-ai-prod-users"])
        #expect(r.decommission == ["omnix-ai-dev-users"])
    }

    @Test func oneTableClaimedByTwoEntries() throws {
        let doc = try load(
            """
            version: 1
            tables:
              - source: "orders-*"
                target: "new-orders-*"
              - source: "*-eu"
                target: "eu-*"
            """)
        let error = #expect(throws: MappingResolutionError.self) {
            try doc.resolve(existingTables: ["orders-eu", "orders-us", "users-eu"])
        }
        #expect(
            error?.description == """
                m.yaml:5:13: table 'orders-eu' is claimed by '*-eu' here and by the source at line 3; make the patterns exclusive, or add the table to 'ignore'
                """)
    }

    @Test func globSourcesSkipTargetsAndIgnoredTables() throws {
        let r = try load(
            """
            version: 1
            env: dev
            tables:
              - target: "omnix-ai-{env}-users"
                sources:
                  - table: "omnix-ai-dev-*"
            ignore: ["omnix-ai-dev-locks"]
            """
        ).resolve(existingTables: ["omnix-ai-dev-users", "omnix-ai-dev-people", "omnix-ai-dev-locks"])
        #expect(r.targets.map(\.name) == ["omnix-ai-dev-users"])
        #expect(r.targets[0].sources.map(\.table) == ["omnix-ai-dev-people"])
        #expect(r.ignored == ["omnix-ai-dev-locks"])
        #expect(r.unaccounted == [])
    }

    @Test func globTargetsCollidingAcrossEntries() throws {
        let doc = try load(
            """
            version: 1
            tables:
              - source: "a-*"
                target: "new-*"
              - source: "b-*"
                target: "new-*-x"
            """)
        #expect(throws: Never.self) { try doc.resolve(existingTables: ["a-1", "b-1"]) }
        let doc2 = try load(
            """
            version: 1
            tables:
              - source: "a-*"
                target: "new-*"
              - source: "b-*"
                target: "new-1*"
            """)
        let error = #expect(throws: MappingResolutionError.self) { try doc2.resolve(existingTables: ["a-1x", "b-x"]) }
        #expect(
            error?.description == """
                m.yaml:6:13: target 'new-1x' is also filled by the entry at line 3; list all its sources under one entry's 'sources:'
                """)
    }

    @Test func aNamedTargetTakesTheGlobMatchesForItInFileOrder() throws {
        let doc = try load(
            """
            version: 1
            tables:
              - source: "cdk-*"
                target: "new-*"
                transforms:
                  - set: { via: glob }
              - target: new-users
                conflict: keep-existing
                settings:
                  key: { partition: { name: id, type: S } }
                sources:
                  - table: dev-users
                  - table: old-users
              - source: "zz-user*"
                target: "new-user*"
            """)
        let r = try doc.resolve(existingTables: ["old-users", "zz-users", "cdk-users", "dev-users", "cdk-orders"])
        #expect(r.targets.map(\.name) == ["new-orders", "new-users"])
        let users = r.targets[1]
        // File order: the glob above the entry first, the entry's own sources, the glob below it last.
        #expect(users.sources.map(\.table) == ["cdk-users", "dev-users", "old-users", "zz-users"])
        #expect(users.sources.map { $0.matchedBy?.text } == ["cdk-*", nil, nil, "zz-user*"])
        #expect(users.sources.map(\.location.line) == [3, 12, 13, 14])
        // The naming entry owns the target: its conflict policy, settings and place in the file.
        #expect(users.conflict == .keepExisting)
        #expect(users.settings.key?.partition.name == "id")
        #expect(users.location.line == 7)
        #expect(users.inheritsFrom == "cdk-users")
        // The glob source keeps the glob's transforms.
        #expect(try users.sources[0].transform.apply(["id": .s("1")]) == ["id": .s("1"), "via": .s("glob")])
        #expect(try users.sources[1].transform.apply(["id": .s("1")]) == ["id": .s("1")])
        // A glob target no entry names stays the glob entry's.
        #expect(r.targets[0].sources.map(\.table) == ["cdk-orders"])
        #expect(r.targets[0].sources[0].matchedBy == nil)
        #expect(r.targets[0].conflict == .overwrite)
        #expect(r.unaccounted == [])
    }

    @Test func twoGlobsForOneUnnamedTargetAreStillRefused() throws {
        let doc = try load(
            """
            version: 1
            tables:
              - source: "a-*"
                target: "new-*"
              - source: "b*"
                target: "new*"
              - source: c-users
                target: new-users
            """)
        // Both globs join the entry naming new-users ...
        let r = try doc.resolve(existingTables: ["a-users", "b-users", "c-users"])
        #expect(r.targets.map(\.name) == ["new-users"])
        #expect(r.targets[0].sources.map(\.table) == ["a-users", "b-users", "c-users"])
        // ... but a target only globs produce belongs to one of them.
        let error = #expect(throws: MappingResolutionError.self) { try doc.resolve(existingTables: ["a-x", "b-x", "c-users"]) }
        #expect(
            error?.description == """
                m.yaml:6:13: target 'new-x' is also filled by the entry at line 3; list all its sources under one entry's 'sources:'
                """)
    }

    @Test func ignoreWinsOverDecommission() throws {
        let r = try load(
            """
            version: 1
            tables: []
            decommission: ["old-*"]
            ignore: ["old-keep"]
            """
        ).resolve(existingTables: ["old-a", "old-keep"])
        #expect(r.decommission == ["old-a"])
        #expect(r.ignored == ["old-keep"])
        #expect(
            r.warnings.map(\.description) == [
                "m.yaml:3:16: 'old-keep' matches decommission pattern 'old-*' and 'ignore'; it is left alone"
            ])
    }

    @Test func namedSourceThatIsIgnored() throws {
        let doc = try load(
            """
            version: 1
            tables:
              - { source: orders-old, target: orders-new }
            ignore: [orders-old]
            """)
        let error = #expect(throws: MappingResolutionError.self) { try doc.resolve(existingTables: ["orders-old"]) }
        #expect(error?.description == "m.yaml:3:15: source table 'orders-old' is also in 'ignore'; remove it from one of the two")
    }

    @Test func sameTableAsSourceAndTargetIsRejectedAtLoad() {
        #expect(
            issueLines(
                """
                version: 1
                tables:
                  - { source: orders, target: orders }
                """) == [
                    "m.yaml:3:15: table 'orders' is a source here and the target at line 3; a table cannot be copied into itself; give the target another name"
                ])
    }
}
