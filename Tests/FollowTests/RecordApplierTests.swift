// What one stream record becomes in the target: the copy's projection of its old and new images.
import DynamoClient
import DynamoCore
import Follow
import Mappings
import TableIO
import TestSupport
import Testing

@Suite struct RecordApplierTests {
    /// A target keyed `id`, filled from a source keyed `pk` through a rename and a filter on `status`.
    func applier() throws -> RecordApplier {
        let yaml = """
            version: 1
            tables:
              - source: src-table
                target: dst-table
                settings:
                  key: { partition: { name: id, type: S } }
                transforms:
                  - rename: { pk: id }
                  - filter: { attribute: status, equals: active }
            """
        let mapping = try MappingLoader.parse(yaml: yaml, file: "m.yaml", env: nil).resolve(existingTables: ["src-table"])
        let targetKey = KeySchema(partitionKey: KeyAttribute(name: "id", type: .string), sortKey: nil)
        let source = try #require(mapping.targets.first?.sources.first)
        return RecordApplier(
            client: makeClient(endpoint: "http://127.0.0.1:9"), source: "src-table", target: "dst-table",
            transform: source.itemTransform(targetKey: targetKey.spec), targetKey: targetKey)
    }

    func item(_ pk: String, _ status: String) -> Item { ["pk": .s(pk), "status": .s(status)] }

    @Test func aModifyInsideTheFilterIsAPut() throws {
        let r = StreamRecord(eventName: .modify, keys: ["pk": .s("a")], newImage: item("a", "active"), oldImage: item("a", "active"), sequenceNumber: "1")
        let plan = try applier().plan(r)
        #expect(plan.delete == nil)
        #expect(plan.put == ["id": .s("a"), "status": .s("active")])
    }

    @Test func anItemLeavingTheFilterIsDeletedFromTheTarget() throws {
        let r = StreamRecord(eventName: .modify, keys: ["pk": .s("a")], newImage: item("a", "gone"), oldImage: item("a", "active"), sequenceNumber: "1")
        let plan = try applier().plan(r)
        #expect(plan.delete == ["id": .s("a")])
        #expect(plan.put == nil)
    }

    @Test func anItemEnteringTheFilterIsWritten() throws {
        let r = StreamRecord(eventName: .modify, keys: ["pk": .s("a")], newImage: item("a", "active"), oldImage: item("a", "gone"), sequenceNumber: "1")
        let plan = try applier().plan(r)
        #expect(plan.delete == nil)
        #expect(plan.put == ["id": .s("a"), "status": .s("active")])
    }

    @Test func aRemoveDeletesTheProjectedKeyOfTheOldImageOnlyWhenItWasInTheTarget() throws {
        let inTarget = StreamRecord(eventName: .remove, keys: ["pk": .s("a")], oldImage: item("a", "active"), sequenceNumber: "1")
        #expect(try applier().plan(inTarget).delete == ["id": .s("a")])
        let filtered = StreamRecord(eventName: .remove, keys: ["pk": .s("a")], oldImage: item("a", "gone"), sequenceNumber: "2")
        #expect(try applier().plan(filtered).delete == nil)
    }

    @Test func aTimeToLiveDeleteIsRecognisedByItsPrincipal() {
        let r = StreamRecord(
            eventName: .remove, keys: ["pk": .s("a")], oldImage: item("a", "active"), sequenceNumber: "1", principalId: "dynamodb.amazonaws.com")
        #expect(r.isTimeToLiveDelete)
        #expect(!StreamRecord(eventName: .remove, keys: [:], sequenceNumber: "1").isTimeToLiveDelete)
    }

    @Test func aRecordWithoutImagesIsRefusedNotGuessed() throws {
        let r = StreamRecord(eventName: .remove, keys: ["pk": .s("a")], sequenceNumber: "7")
        #expect(throws: FollowError.missingImage(source: "src-table", sequenceNumber: "7", image: "OldImage")) { try applier().plan(r) }
    }
}
