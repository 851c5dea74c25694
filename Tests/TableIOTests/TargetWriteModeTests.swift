import DynamoClient
import DynamoCore
import Mappings
import Testing

@testable import TableIO

/// The one rule that picks how a target is written (no server needed).
struct TargetWriteModeTests {
    let pk = KeySchema(partitionKey: KeyAttribute(name: "pk", type: .string))

    /// The compiled transform of the only source in a one-entry mapping with `transforms`.
    func transform(_ transforms: String, targetKey: KeySchema) throws -> CompiledTransform {
        let yaml = """
            version: 1
            tables:
              - source: src
                target: dst
                transforms:
            \(transforms)
            """
        let document = try MappingLoader.parse(yaml: yaml, file: "t.yaml", env: nil)
        let resolved = try document.resolve(existingTables: ["src"])
        return try #require(resolved.targets.first?.sources.first).itemTransform(targetKey: targetKey.spec)
    }

    @Test func overwriteIsAlwaysBatched() {
        for created in [true, false] {
            for position in 0..<3 {
                #expect(
                    TargetWriteMode.choose(
                        policy: .overwrite, targetCreatedByThisMigration: created, sourcePosition: position, keysDistinctWithinSource: false) == .batch)
            }
        }
    }

    @Test(arguments: [ConflictPolicy.keepExisting, .fail])
    func mergesBatchOnlyIntoATargetThisMigrationCreated(policy: ConflictPolicy) {
        func mode(_ created: Bool, _ position: Int, _ distinct: Bool) -> TargetWriteMode {
            TargetWriteMode.choose(policy: policy, targetCreatedByThisMigration: created, sourcePosition: position, keysDistinctWithinSource: distinct)
        }
        #expect(mode(true, 0, true) == .batch, "first source into an empty table of ours: nothing to collide with")
        #expect(mode(true, 1, true) == .probe)
        #expect(mode(true, 2, true) == .probe)
        #expect(mode(false, 0, true) == .conditional, "a table we did not create may have other writers")
        #expect(mode(false, 2, true) == .conditional)
        #expect(mode(true, 0, false) == .conditional, "two items of the source may meet at one key")
        #expect(mode(true, 1, false) == .conditional)
    }

    @Test func keysStayDistinctThroughRenamesPrefixesAndOtherAttributes() throws {
        let id = KeySchema(partitionKey: KeyAttribute(name: "id", type: .string))
        let identity = try transform("      - set: { copied: true }", targetKey: pk)
        #expect(TargetWriteMode.keysAreDistinct(transform: identity, sourceKey: pk, targetKey: pk))
        let renamed = try transform("      - rename: { pk: id }\n      - convert: { n: string }", targetKey: id)
        #expect(TargetWriteMode.keysAreDistinct(transform: renamed, sourceKey: pk, targetKey: id))
        let sorted = KeySchema(partitionKey: KeyAttribute(name: "pk", type: .string), sortKey: KeyAttribute(name: "sk", type: .number))
        let extraSort = try transform("      - set: { copied: true }", targetKey: sorted)
        #expect(TargetWriteMode.keysAreDistinct(transform: extraSort, sourceKey: pk, targetKey: sorted), "a longer key stays distinct")
    }

    @Test func keysMayMeetWhenAKeyAttributeIsComputedOrLeftOut() throws {
        let set = try transform("      - set: { pk: \"{category}\" }", targetKey: pk)
        #expect(!TargetWriteMode.keysAreDistinct(transform: set, sourceKey: pk, targetKey: pk))
        let converted = try transform("      - convert: { pk: string }", targetKey: pk)
        #expect(!TargetWriteMode.keysAreDistinct(transform: converted, sourceKey: pk, targetKey: pk))
        let defaulted = try transform("      - default: { pk: \"x\" }", targetKey: pk)
        #expect(!TargetWriteMode.keysAreDistinct(transform: defaulted, sourceKey: pk, targetKey: pk))
        let group = KeySchema(partitionKey: KeyAttribute(name: "group", type: .string))
        let other = try transform("      - set: { copied: true }", targetKey: group)
        #expect(!TargetWriteMode.keysAreDistinct(transform: other, sourceKey: pk, targetKey: group), "another attribute as the key")
        let sorted = KeySchema(partitionKey: KeyAttribute(name: "pk", type: .string), sortKey: KeyAttribute(name: "sk", type: .number))
        let dropsSort = try transform("      - set: { copied: true }", targetKey: pk)
        #expect(!TargetWriteMode.keysAreDistinct(transform: dropsSort, sourceKey: sorted, targetKey: pk), "the source's sort key left out")
    }
}
