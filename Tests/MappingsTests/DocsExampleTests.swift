// The full example in docs/mappings.md must load and resolve as the document says.
import DynamoCore
import Foundation
import Mappings
import TestSupport
import Testing

@Suite struct DocsExampleTests {
    /// The first ```yaml block after "## A full example".
    private func fullExample() throws -> String {
        let url = TestEnvironment.packageRoot.appendingPathComponent("docs/mappings.md")
        let text = try String(contentsOf: url, encoding: .utf8)
        let section = try #require(text.range(of: "## A full example"))
        let rest = text[section.upperBound...]
        let open = try #require(rest.range(of: "```yaml\n"))
        let close = try #require(rest[open.upperBound...].range(of: "```"))
        return String(rest[open.upperBound..<close.lowerBound])
    }

    @Test func fullExampleLoadsAndResolves() throws {
        let doc = try MappingLoader.parse(yaml: try fullExample(), file: "docs.yaml", env: nil)
        #expect(doc.env == "prod")
        let r = try doc.resolve(existingTables: [
            "omnix-ai-cdk-products", "omnix-ai-cdk-users", "omnix-ai-cdk-orders", "omnix-ai-dev-users", "omnix-users",
            "omnix-orders-v1", "omnix-ai-dev-sessions", "omnix-terraform-locks", "misc",
        ])
        // A target appears where its first source is written: the glob comes first.
        #expect(r.targets.map(\.name) == ["omnix-ai-prod-orders", "omnix-ai-prod-products", "omnix-ai-prod-users"])
        #expect(r.targets[0].sources.map(\.table) == ["omnix-ai-cdk-orders", "omnix-orders-v1"])
        #expect(r.targets[0].inheritsFrom == "omnix-ai-cdk-orders")
        #expect(r.targets[2].sources.map(\.table) == ["omnix-ai-cdk-users", "omnix-ai-dev-users", "omnix-users"])
        #expect(r.targets[2].sources.map { $0.matchedBy?.text } == ["omnix-ai-cdk-*", nil, nil])
        #expect(r.targets[2].conflict == .keepExisting)
        #expect(
            r.decommission == [
                "omnix-ai-cdk-orders", "omnix-ai-cdk-products", "omnix-ai-cdk-users",
                "omnix-ai-dev-users", "omnix-orders-v1", "omnix-users",
            ])
        #expect(r.ignored == ["omnix-terraform-locks"])
        #expect(r.unaccounted == ["misc", "omnix-ai-dev-sessions"])

        let users = r.targets[2]
        let key = try #require(users.settings.key)
        let cdk = users.sources[0].itemTransform(targetKey: key)
        #expect(
            try cdk.apply(["user_id": .s("7"), "EmailAddress": .s("A@x.io")])
                == ["user_id": .s("7"), "EmailAddress": .s("A@x.io"), "migratedFrom": .s("omnix-ai-cdk-users")])
        let dev = users.sources[1].itemTransform(targetKey: key)
        #expect(
            try dev.apply(["userId": .s("7"), "email": .s("Ann@X.io")])
                == ["user_id": .s("7"), "email": .s("ann@x.io"), "marketingOptIn": .bool(false)])
        let legacy = users.sources[2].itemTransform(targetKey: key)
        #expect(try legacy.apply(["UserId": .s("9"), "Email": .s("A@X.IO"), "AccountStatus": .s("DELETED")]) == nil)
        #expect(
            try legacy.apply([
                "UserId": .s("9"), "Email": .s("A@X.IO"), "SignupDate": n("0"), "AccountStatus": .s("ACTIVE"),
                "LegacyFlags": .ns([DynamoNumber(8)]),
            ])
                == ["user_id": .s("LEGACY#9"), "email": .s("a@x.io"), "createdAt": .s("1970-01-01T00:00:00Z"), "status": .s("active")])
        let orders = r.targets[0].sources[1].transform
        #expect(
            try orders.apply(["OrderId": n("100001"), "UserId": .s("u"), "OrderDate": n("1000")])
                == ["OrderId": n("100001"), "user_id": .s("u"), "order_id": .s("ord_v1_100001"), "OrderDate": .s("1970-01-01T00:00:01Z")])
    }
}
