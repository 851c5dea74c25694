// `discard-data:`: decommissioned tables whose data need not be kept.
import Mappings
import Testing

@Suite struct DiscardDataTests {
    @Test func discardDataNamesDecommissionedTablesOnly() throws {
        let doc = try load(
            """
            version: 1
            tables:
              - source: orders-old
                target: orders-new
            decommission: ["orders-old", "scratch-*"]
            discard-data: ["scratch-*"]
            """)
        #expect(doc.discardData.map(\.text) == ["scratch-*"])
        let resolved = try doc.resolve(existingTables: ["orders-old", "scratch-a", "scratch-b", "other"])
        #expect(resolved.decommission == ["orders-old", "scratch-a", "scratch-b"])
        #expect(resolved.discardData == ["scratch-a", "scratch-b"])
        #expect(resolved.unaccounted == ["other"])
    }

    @Test func aDiscardDataPatternOutsideDecommissionIsAnError() {
        #expect(
            issueLines(
                """
                version: 1
                tables:
                  - source: orders-old
                    target: orders-new
                decommission: ["orders-old"]
                discard-data: ["scratch-*"]
                """) == [
                    "m.yaml:6:16: discard-data pattern 'scratch-*' is not under 'decommission'; discard-data only marks decommissioned tables whose data need not be kept; add it to 'decommission' too"
                ])
    }
}
