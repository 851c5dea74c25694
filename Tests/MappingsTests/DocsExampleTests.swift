// The full example in docs/mappings.md must load and resolve as the document says.
import DynamoCore
import Foundation
import Mappings
import Testing
import TestSupport

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
            "omnix-ai-cdk-products", "omnix-ai-cdk-orders-archive", "omnix-ai-dev-users", "omnix-users",
            "orders-old", "omnix-ai-dev-sessions", "terraform-locks", "misc",
        ])
        #expect(r.targets.map(\.name) == ["omnix-ai-prod-orders-archive", "omnix-ai-prod-products",
                                          "omnix-ai-prod-users", "omnix-ai-prod-orders"])
        #expect(r.targets[2].sources.map(\.table) == ["omnix-ai-dev-users", "omnix-users"])
        #expect(r.decommission == ["omnix-ai-dev-sessions", "omnix-ai-dev-users", "omnix-users"])
        #expect(r.ignored == ["terraform-locks"])
        #expect(r.unaccounted == ["misc"])

        let users = r.targets[2]
        let key = try #require(users.settings.key)
        let dev = users.sources[0].itemTransform(targetKey: key)
        #expect(try dev.apply(["user_id": .s("7"), "EmailAddress": .s("Ann@X.io"), "createdAt": n("0")])
                == ["userId": .s("7"), "email": .s("ann@x.io"), "createdAt": .s("1970-01-01T00:00:00Z"), "status": .s("active")])
        let legacy = users.sources[1].itemTransform(targetKey: key)
        #expect(try legacy.apply(["userId": .s("9"), "createdAt": .s("2020"), "legacyFlag": .bool(true), "status": .s("deleted")]) == nil)
        #expect(try legacy.apply(["userId": .s("9"), "createdAt": .s("2020"), "legacyFlag": .bool(true)])
                == ["userId": .s("LEGACY#9"), "createdAt": .s("2020")])
        let orders = r.targets[3].sources[0].transform
        #expect(try orders.apply(["tenantId": .s("t"), "orderId": .s("o"), "price": .s("3.20")])
                == ["tenantId": .s("t"), "orderId": .s("o"), "price": n("3.20"), "pk": .s("t#o")])
    }
}
