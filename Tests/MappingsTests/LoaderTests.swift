// Loading mapping files: the minimal form, the full format, {env}, and every validation error class.
import DynamoCore
import Foundation
import Mappings
import TestSupport
import Testing

@Suite struct LoaderTests {
    @Test func minimalFormLoadsWithDefaults() throws {
        let doc = try load(
            """
            version: 1
            tables:
              - source: orders-old
                target: orders-new
            """)
        #expect(doc.version == 1)
        #expect(doc.env == nil)
        #expect(doc.file == "m.yaml")
        #expect(doc.decommission.isEmpty)
        #expect(doc.ignore.isEmpty)
        let entry = try #require(doc.entries.first)
        #expect(doc.entries.count == 1)
        #expect(entry.target.text == "orders-new")
        #expect(entry.target.location == SourceLocation(file: "m.yaml", line: 4, column: 13))
        #expect(entry.conflict == .overwrite)
        #expect(entry.settings == TargetSettingsSpec())
        #expect(entry.settings.inherit)
        #expect(entry.settings.effectivePointInTimeRecovery)
        #expect(entry.sources.map(\.table.text) == ["orders-old"])
        #expect(entry.sources[0].transforms.isEmpty)
        #expect(entry.sources[0].keyPrefix == nil)
    }

    @Test func exampleMinimalFileInTheRepositoryLoads() throws {
        let path = TestEnvironment.packageRoot.appendingPathComponent("mappings/example-minimal.yaml").path
        let doc = try MappingLoader.load(path: path, env: nil)
        #expect(doc.entries.map(\.target.text) == ["orders-new"])
        #expect(doc.entries.flatMap(\.sources).map(\.table.text) == ["orders-old"])
    }

    @Test func loadReportsAnUnreadableFile() {
        #expect(throws: MappingValidationError.self) { try MappingLoader.load(path: "/nonexistent/m.yaml", env: nil) }
        do {
            _ = try MappingLoader.load(path: "/nonexistent/m.yaml", env: nil)
        } catch {
            #expect(error.issues.count == 1)
            #expect(error.description.hasPrefix("/nonexistent/m.yaml: cannot read the mapping file: "))
        }
    }

    @Test func fullFormatParses() throws {
        let doc = try load(
            """
            version: 1
            env: prod
            tables:
              - target: "omnix-ai-{env}-users"
                conflict: keep-existing
                settings:
                  inherit: false
                  key: { partition: { name: userId, type: S }, sort: { name: createdAt, type: N } }
                  billing: { mode: provisioned, read: 5, write: 7 }
                  global-secondary-indexes:
                    - { name: byEmail, partition: { name: email, type: S }, projection: keys-only, read: 1, write: 2 }
                    - { name: byTeam, partition: { name: team, type: S }, sort: { name: createdAt, type: N }, projection: [email, name], read: 3, write: 4 }
                  local-secondary-indexes:
                    - { name: byStatus, sort: { name: status, type: S } }
                  ttl: expiresAt
                  pitr: false
                  deletion-protection: true
                  sse: { kms-key: "arn:aws:kms:eu-west-1:111:key/{env}" }
                  stream: off
                  tags: { team: platform, stage: "{env}" }
                sources:
                  - table: omnix-ai-dev-users
                    key-prefix: "USER#"
                    transforms:
                      - rename: { user_id: userId }
                  - table: "omnix-users-*"
            decommission: ["omnix-ai-dev-*"]
            ignore: ["terraform-locks"]
            """)
        #expect(doc.env == "prod")
        let e = try #require(doc.entries.first)
        #expect(e.target.text == "omnix-ai-prod-users")
        #expect(e.conflict == .keepExisting)
        var s = TargetSettingsSpec()
        s.inherit = false
        s.key = KeySchemaSpec(
            partition: KeyAttributeSpec(name: "userId", type: .s),
            sort: KeyAttributeSpec(name: "createdAt", type: .n))
        s.billing = .provisioned(read: 5, write: 7)
        s.globalSecondaryIndexes = [
            SecondaryIndexSpec(
                name: "byEmail", partition: KeyAttributeSpec(name: "email", type: .s), sort: nil,
                projection: .keysOnly, read: 1, write: 2),
            SecondaryIndexSpec(
                name: "byTeam", partition: KeyAttributeSpec(name: "team", type: .s),
                sort: KeyAttributeSpec(name: "createdAt", type: .n),
                projection: .include(["email", "name"]), read: 3, write: 4),
        ]
        s.localSecondaryIndexes = [
            SecondaryIndexSpec(name: "byStatus", partition: nil, sort: KeyAttributeSpec(name: "status", type: .s), projection: .all)
        ]
        s.ttl = "expiresAt"
        s.pointInTimeRecovery = false
        s.deletionProtection = true
        s.sse = .customerKMS(keyID: "arn:aws:kms:eu-west-1:111:key/prod")
        s.stream = .off
        s.tags = [TagSpec(key: "team", value: "platform"), TagSpec(key: "stage", value: "prod")]
        #expect(e.settings == s)
        #expect(!e.settings.effectivePointInTimeRecovery)
        #expect(e.sources.map(\.table.text) == ["omnix-ai-dev-users", "omnix-users-*"])
        #expect(e.sources[0].keyPrefix == "USER#")
        #expect(
            e.sources[0].transforms == [
                TransformStep(
                    .rename([Rename(from: "user_id", to: "userId", location: SourceLocation(file: "m.yaml", line: 25, column: 23))]),
                    location: SourceLocation(file: "m.yaml", line: 25, column: 13))
            ])
        #expect(doc.decommission.map(\.text) == ["omnix-ai-dev-*"])
        #expect(doc.ignore.map(\.text) == ["terraform-locks"])
    }

    @Test func sseAndBillingShortForms() throws {
        let doc = try load(
            """
            version: 1
            tables:
              - { source: a-old, target: a-new, settings: { sse: true, billing: on-demand, stream: new-and-old-images } }
              - { source: b-old, target: b-new, settings: { sse: false } }
            """)
        #expect(doc.entries[0].settings.sse == .awsManagedKMS)
        #expect(doc.entries[0].settings.billing == .onDemand)
        #expect(doc.entries[0].settings.stream == .newAndOldImages)
        #expect(doc.entries[1].settings.sse == .awsOwned)
    }

    // MARK: {env}

    static let envYAML = """
        version: 1
        env: dev
        tables:
          - source: "omnix-ai-cdk-{env}-orders"
            target: "omnix-ai-{env}-orders"
            transforms:
              - set: { stage: "{env}", origin: "from-{env}", literal: "{{env}}" }
        decommission: ["legacy-{env}-*"]
        """

    @Test func envFromTheFile() throws {
        let doc = try load(Self.envYAML)
        #expect(doc.env == "dev")
        #expect(doc.entries[0].sources[0].table.text == "omnix-ai-cdk-dev-orders")
        #expect(doc.entries[0].target.text == "omnix-ai-dev-orders")
        #expect(doc.decommission.map(\.text) == ["legacy-dev-*"])
        let r = try doc.resolve(existingTables: ["omnix-ai-cdk-dev-orders"])
        let out = try r.targets[0].sources[0].transform.apply([:])
        #expect(out == ["stage": .s("dev"), "origin": .s("from-dev"), "literal": .s("{env}")])
    }

    @Test func envOverrideWins() throws {
        let doc = try load(Self.envYAML, env: "prod")
        #expect(doc.env == "prod")
        #expect(doc.entries[0].sources[0].table.text == "omnix-ai-cdk-prod-orders")
        #expect(doc.entries[0].target.text == "omnix-ai-prod-orders")
        #expect(doc.decommission.map(\.text) == ["legacy-prod-*"])
        let r = try doc.resolve(existingTables: ["omnix-ai-cdk-prod-orders"])
        let out = try r.targets[0].sources[0].transform.apply([:])
        #expect(out == ["stage": .s("prod"), "origin": .s("from-prod"), "literal": .s("{env}")])
    }

    @Test func envOverrideWithoutEnvInFile() throws {
        let yaml = """
            version: 1
            tables:
              - source: users-old
                target: "omnix-ai-{env}-users"
            """
        #expect(try load(yaml, env: "staging").entries[0].target.text == "omnix-ai-staging-users")
        #expect(
            issueLines(yaml) == [
                "m.yaml:4:13: '{env}' is used but no environment is set; add 'env: <name>' at the top level or pass --env"
            ])
    }

    @Test func badEnvValues() {
        let yaml = """
            version: 1
            env: "pr od"
            tables: []
            """
        #expect(
            issueLines(yaml) == [
                "m.yaml:2:6: env 'pr od' contains ' ', which DynamoDB does not allow in table names; use letters, digits, '_', '-' and '.'"
            ])
        #expect(
            issueLines("version: 1\ntables: []\n", env: "") == [
                "m.yaml: --env value is empty; give a name such as 'prod'"
            ])
    }

    // MARK: Validation errors, one class at a time

    @Test func unknownKeySuggestsTheClosest() {
        #expect(
            issueLines(
                """
                version: 1
                tables:
                  - source: a-old
                    target: a-new
                    tranforms: []
                """) == ["m.yaml:5:5: unknown key 'tranforms' in table entry; did you mean 'transforms'?"])
        #expect(
            issueLines(
                """
                version: 1
                tabels: []
                """) == [
                    "m.yaml:1:1: missing required key 'tables' at the top level",
                    "m.yaml:2:1: unknown key 'tabels' at the top level; did you mean 'tables'?",
                ])
        #expect(
            issueLines(
                """
                version: 1
                tables:
                  - source: a-old
                    target: a-new
                    settings: { zzzz: 1 }
                """) == [
                    "m.yaml:5:17: unknown key 'zzzz' in settings; known keys: inherit, key, billing, global-secondary-indexes, local-secondary-indexes, ttl, pitr, deletion-protection, sse, stream, tags"
                ])
    }

    @Test func wrongTypes() {
        #expect(
            issueLines(
                """
                version: 1
                tables:
                  - source: [a, b]
                    target: a-new
                    settings:
                      pitr: "yes please"
                      billing: { mode: provisioned, read: five, write: 5 }
                    transforms: { rename: { a: b } }
                """) == [
                    "m.yaml:3:13: 'source' must be text, found a list",
                    "m.yaml:6:13: 'pitr' must be true or false, found 'yes please'",
                    "m.yaml:7:43: 'read' must be a whole number of capacity units of at least 1, found 'five'",
                    "m.yaml:8:17: 'transforms' must be a list, found a mapping",
                ])
        #expect(
            issueLines(
                """
                version: 1
                tables: { a: b }
                """) == ["m.yaml:2:9: 'tables' must be a list, found a mapping"])
    }

    @Test func missingRequiredKeys() {
        #expect(
            issueLines(
                """
                version: 1
                tables:
                  - source: a-old
                  - target: b-new
                  - target: c-new
                    sources:
                      - key-prefix: "X#"
                """) == [
                    "m.yaml:3:5: missing required key 'target' in table entry",
                    "m.yaml:4:5: table entry has no 'source' or 'sources'; add 'source: <table>' or a 'sources:' list",
                    "m.yaml:7:9: missing required key 'table' in source",
                ])
        #expect(issueLines("tables: []") == ["m.yaml:1:1: missing required key 'version' at the top level"])
    }

    @Test func unknownTransformConvertAndFilterNames() {
        let lines = issueLines(
            """
            version: 1
            tables:
              - source: a-old
                target: a-new
                transforms:
                  - renam: { a: b }
                  - convert: { price: nubmer, at: iso8601 }
                  - filter: { attribute: status, equal: active }
            """)
        #expect(
            lines == [
                "m.yaml:6:9: unknown transform 'renam'; did you mean 'rename'?",
                "m.yaml:7:27: unknown conversion 'nubmer' for attribute 'price'; did you mean 'number'?",
                "m.yaml:7:39: unknown conversion 'iso8601' for attribute 'at'; known conversions: number, string, iso8601-from-epoch-seconds, iso8601-from-epoch-millis, epoch-seconds-from-iso8601, epoch-millis-from-iso8601, string-set, string-from-set, lowercase, uppercase",
                "m.yaml:8:17: filter on 'status' has no condition; add one of exists, equals, not-equals, less-than, less-or-equal, greater-than, greater-or-equal, begins-with",
                "m.yaml:8:38: unknown key 'equal' in filter; did you mean 'equals'?",
            ])
    }

    @Test func targetGlobWithoutSourceCapture() {
        #expect(
            issueLines(
                """
                version: 1
                env: prod
                tables:
                  - source: orders-old
                    target: "omnix-ai-{env}-*"
                  - source: "a-*"
                    target: "b-*-*"
                """) == [
                    "m.yaml:5:13: target 'omnix-ai-prod-*' has a '*' but source 'orders-old' has none to capture; name the target in full, or give the source a '*' for each one in the target",
                    "m.yaml:7:13: target 'b-*-*' has 2 '*' but source 'a-*' has only 1 to capture; name the target in full, or give the source a '*' for each one in the target",
                ])
    }

    @Test func sourceClaimedTwice() {
        #expect(
            issueLines(
                """
                version: 1
                tables:
                  - source: "legacy-*"
                    target: "new-*"
                  - target: users-new
                    sources:
                      - table: users-old
                      - table: "legacy-*"
                  - source: users-old
                    target: users-other
                """) == [
                    "m.yaml:8:16: source 'legacy-*' is already claimed at line 3; each source table belongs to one entry",
                    "m.yaml:9:13: source 'users-old' is already claimed at line 7; each source table belongs to one entry",
                ])
    }

    @Test func targetKeyAttributeNotProduced() {
        #expect(
            issueLines(
                """
                version: 1
                tables:
                  - target: users-new
                    settings:
                      key: { partition: { name: userId, type: S }, sort: { name: createdAt, type: S } }
                    sources:
                      - table: users-a
                        transforms:
                          - keep: [email, createdAt]
                      - table: users-b
                        transforms:
                          - drop: [createdAt]
                      - table: users-c
                        transforms:
                          - rename: { userId: uid }
                      - table: users-d
                        transforms:
                          - keep: [email]
                          - rename: { email: userId }
                          - set: { createdAt: "{at}" }
                """) == [
                    "m.yaml:9:13: 'keep' removes 'userId', the target's partition key, from source 'users-a'; keep it, or rename or set an attribute to 'userId' after this step",
                    "m.yaml:12:13: 'drop' removes 'createdAt', the target's sort key, from source 'users-b'; keep it, or rename or set an attribute to 'createdAt' after this step",
                    "m.yaml:15:23: 'rename' (userId -> uid) removes 'userId', the target's partition key, from source 'users-c'; keep it, or rename or set an attribute to 'userId' after this step",
                ])
    }

    @Test func decommissionMatchingATarget() {
        #expect(
            issueLines(
                """
                version: 1
                env: dev
                tables:
                  - source: omnix-users
                    target: "omnix-ai-{env}-users"
                decommission: ["omnix-ai-dev-*", "omnix-users", "omnix-ai-*-users"]
                """) == [
                    "m.yaml:6:16: decommission pattern 'omnix-ai-dev-*' matches target 'omnix-ai-dev-users' (line 5); a target is never decommissioned; narrow the pattern",
                    "m.yaml:6:49: decommission pattern 'omnix-ai-*-users' matches target 'omnix-ai-dev-users' (line 5); a target is never decommissioned; narrow the pattern",
                ])
    }

    @Test func unsupportedVersion() {
        #expect(
            issueLines("version: 2\ntables: []\n") == [
                "m.yaml:1:10: unsupported version 2; this tool reads version 1 mapping files"
            ])
        #expect(
            issueLines("version: one\ntables: []\n") == [
                "m.yaml:1:10: 'version' must be the number 1, found 'one'"
            ])
    }

    @Test func yamlSyntaxErrorHasAPosition() {
        let lines = issueLines(
            """
            version: 1
            tables:
              - source: a-old
                target: [a-new
            """)
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("m.yaml:5:1: YAML syntax error: ") == true)
        #expect(
            issueLines("version: 1\n  tables: x\n") == [
                "m.yaml:2:9: YAML syntax error: mapping values are not allowed in this context"
            ])
    }

    @Test func emptyFile() {
        #expect(issueLines("") == ["m.yaml:1:1: the mapping file is empty; it needs at least 'version: 1' and 'tables:'"])
    }

    @Test func allProblemsAreCollectedInFileOrder() {
        let error = #expect(throws: MappingValidationError.self) {
            try load(
                """
                version: 3
                tables:
                  - source: a-old
                    target: a-new
                    conflict: overwrit
                    transforms:
                      - set: { pk: "{tenantId" }
                      - keep: []
                  - source: a-old
                    target: b-new
                    key-prefx: "A#"
                """)
        }
        #expect(
            error?.description == """
                m.yaml:1:10: unsupported version 3; this tool reads version 1 mapping files
                m.yaml:5:15: unknown conflict policy 'overwrit'; did you mean 'overwrite'?
                m.yaml:7:20: unclosed '{' in template "{tenantId"; write '{{' for a literal '{'
                m.yaml:8:15: 'keep' lists no attributes, so it would empty every item; list the attributes to keep
                m.yaml:9:13: source 'a-old' is already claimed at line 3; each source table belongs to one entry
                m.yaml:11:5: unknown key 'key-prefx' in table entry; did you mean 'key-prefix'?
                """)
    }

    @Test func otherStructuralErrors() {
        #expect(
            issueLines(
                """
                version: 1
                tables:
                  - source: a-old
                    target: "a-{stage}"
                  - source: "b old"
                    target: b-new
                  - source: c-old
                    target: "c-?"
                  - source: dd
                    target: d-new
                  - source: e-old
                    target: e-new
                    sources: [{ table: e-2 }]
                  - target: f-new
                    transforms: []
                    sources: [{ table: f-old }]
                  - source: g-old
                    target: g-new
                    transforms:
                      - { drop: [a], keep: [b] }
                      - rename: { a: x, b: x, c: c }
                      - set: { l: [1, 2], m: { N: "x1" }, t: { Q: 1 } }
                      - filter: { attribute: n, less-than: true }
                      - filter: { all: [], any: [] }
                      - filter: { attribute: n, equals: 1, exists: true }
                """) == [
                    "m.yaml:4:13: unknown placeholder '{stage}' in table name 'a-{stage}'; only {env} is available",
                    "m.yaml:5:13: table name 'b old' contains ' ', which DynamoDB does not allow; use letters, digits, '_', '-' and '.' (and '*' or '?' in patterns)",
                    "m.yaml:8:13: target 'c-?' contains '?'; a target can use '*' to take what the source's '*' matched, but not '?'",
                    "m.yaml:9:13: table name 'dd' is 2 characters long; DynamoDB needs 3 to 255",
                    "m.yaml:13:5: a table entry has either 'source' or 'sources', not both; use 'source' for one table, 'sources' for several",
                    "m.yaml:15:5: 'transforms' belongs under each of 'sources' in a many-to-one entry; move it under the source it applies to",
                    "m.yaml:20:22: a transform has exactly one key; found 'drop' and 'keep'; start each transform with its own '- '",
                    "m.yaml:21:28: 'a' and 'b' are both renamed to 'x'; an attribute can receive only one value",
                    "m.yaml:21:31: 'rename' renames 'c' to itself; remove this line",
                    "m.yaml:22:19: a list needs an explicit type; write {SS: [...]}, {NS: [...]}, {BS: [...]} or {L: [...]}",
                    "m.yaml:22:35: 'x1' is not a number DynamoDB can store; write decimal digits such as 12, -3.5 or 1.5E3",
                    "m.yaml:22:48: unknown type 'Q' in a typed value; known types: S, N, B, BOOL, NULL, M, L, SS, NS, BS",
                    "m.yaml:23:44: 'less-than' compares with a number, string or binary, found type BOOL",
                    "m.yaml:24:28: 'all' cannot be combined with 'any' in one filter; put each condition in its own filter inside 'all'",
                    "m.yaml:25:44: filter on 'n' has both 'equals' and 'exists'; combine conditions with all: [...] or any: [...]",
                ])
    }

    @Test func settingsCrossChecks() {
        #expect(
            issueLines(
                """
                version: 1
                tables:
                  - source: a-old
                    target: a-new
                    key-prefix: "A#"
                    settings:
                      inherit: false
                      billing: { mode: provisioned, read: 1, write: 1 }
                      global-secondary-indexes:
                        - { name: gs1, partition: { name: x, type: S } }
                  - source: b-old
                    target: b-new
                    key-prefix: "B#"
                    settings:
                      key: { partition: { name: id, type: N } }
                      billing: on-demand
                      global-secondary-indexes:
                        - { name: gs2, partition: { name: x, type: X }, read: 1, write: 1 }
                        - { name: gs3, partition: { name: x, type: S }, read: 1, write: 1 }
                      local-secondary-indexes:
                        - { name: ls1, partition: { name: other, type: S }, sort: { name: s, type: S } }
                      stream: sometimes
                """) == [
                    "m.yaml:7:7: 'inherit: false' needs a 'key' in settings; add key: { partition: { name: ..., type: S } }",
                    "m.yaml:10:11: global secondary index 'gs1' needs 'read' and 'write' because billing is provisioned",
                    "m.yaml:11:13: key-prefix needs an S partition key, but the target's partition key 'id' is N; remove the key-prefix, or make the partition key type S",
                    "m.yaml:18:52: key type 'X' is not S, N or B; key attributes are strings (S), numbers (N) or binary (B)",
                    "m.yaml:19:11: global secondary index 'gs3' has 'read'/'write' but billing is on-demand; remove them, or make billing provisioned",
                    "m.yaml:21:11: local secondary index 'ls1' must use the table's partition key 'id' (N); remove its 'partition', or make it a global secondary index",
                    "m.yaml:22:15: unknown stream view 'sometimes'; known views: off, new-image, old-image, new-and-old-images, keys-only",
                ])
    }

    @Test func duplicateKeys() {
        #expect(
            issueLines(
                """
                version: 1
                tables:
                  - source: a-old
                    target: a-new
                    target: b-new
                    transforms:
                      - set: { x: 1, x: 2 }
                """) == [
                    "m.yaml:5:5: duplicate key 'target' in table entry; the first is at line 4",
                    "m.yaml:7:22: duplicate key 'x' in 'set'; the first is at line 7",
                ])
    }
}
