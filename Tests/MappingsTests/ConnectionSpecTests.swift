// Sides with their own connection: `source: { table: …, profile: … }`, `target: { … }`, `sources:` items.
import AWSAuth
import Foundation
import Mappings
import Testing

@Suite struct ConnectionSpecTests {
    @Test func sidesCarryTheirConnectionAndWhereItIsWritten() throws {
        let doc = try load(
            """
            version: 1
            env: prod
            tables:
              - source: { table: omnix-users, profile: dev, region: us-east-1 }
                target:
                  table: omnix-users
                  role-arn: "arn:aws:iam::222222222222:role/migrator"
                  external-id: ops-{env}
                  region: eu-west-1
              - target: omnix-orders
                sources:
                  - table: orders-a
                    endpoint: http://127.0.0.1:8000
                  - table: orders-b
            """)
        let first = doc.entries[0]
        #expect(
            first.sources[0].connection
                == ConnectionSpec(
                    connection: Connection(profile: "dev", region: "us-east-1"), location: SourceLocation(file: "m.yaml", line: 4, column: 35)))
        #expect(
            first.targetConnection?.connection
                == Connection(
                    region: "eu-west-1", roleArn: "arn:aws:iam::222222222222:role/migrator", externalId: "ops-prod"))
        #expect(first.targetConnection?.location.line == 7)
        #expect(doc.entries[1].sources[0].connection?.connection == Connection(endpoint: "http://127.0.0.1:8000"))
        #expect(doc.entries[1].sources[1].connection == nil)
        #expect(doc.entries[1].targetConnection == nil)

        // One name on both sides is two tables once the sides are apart.
        let resolved = try doc.resolve(existingTables: ["omnix-users", "orders-a", "orders-b"], targetTables: [])
        #expect(resolved.targets.map(\.name) == ["omnix-users", "omnix-orders"])
        #expect(resolved.targets[0].exists == false)
        #expect(resolved.targets[0].sources[0].connection?.connection.profile == "dev")
        #expect(resolved.targets[0].connection?.connection.region == "eu-west-1")
    }

    @Test func badConnectionValuesAreReportedAtTheirLines() {
        #expect(throws: MappingValidationError.self) {
            try load("version: 1\ntables:\n  - source: a-1\n    target: { table: a-1 }\n")
        }
        do {
            _ = try load(
                """
                version: 1
                tables:
                  - source: { table: aaa, profile: "", role-arn: "arn:aws:iam::1:user/x", endpoint: "ftp://x" }
                    target: { table: bbb, tabel: x, session-name: s }
                """)
            Issue.record("expected issues")
        } catch {
            let lines = error.issues.map(\.description)
            #expect(lines.contains("m.yaml:3:36: 'profile' is empty; remove it, or give a value"), "\(lines)")
            #expect(lines.contains { $0.hasPrefix("m.yaml:3:50: 'role-arn' 'arn:aws:iam::1:user/x' is not a role ARN") }, "\(lines)")
            #expect(lines.contains { $0.hasPrefix("m.yaml:3:85: 'endpoint' 'ftp://x' is not an http:// or https:// URL") }, "\(lines)")
            #expect(lines.contains { $0.hasPrefix("m.yaml:4:27: unknown key 'tabel' in 'target'") }, "\(lines)")
            #expect(lines.contains { $0.hasPrefix("m.yaml:4:37: 'session-name' needs a 'role-arn' beside it") }, "\(lines)")
        }
    }
}
