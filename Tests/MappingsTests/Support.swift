// Helpers shared by the mapping tests.
import DynamoCore
import Mappings
import Testing

/// Parses YAML as file "m.yaml".
func load(_ yaml: String, env: String? = nil) throws(MappingValidationError) -> MappingDocument {
    try MappingLoader.parse(yaml: yaml, file: "m.yaml", env: env)
}

/// The issue lines a YAML text produces (empty when it loads).
func issueLines(_ yaml: String, env: String? = nil) -> [String] {
    do {
        _ = try load(yaml, env: env)
        return []
    } catch {
        return error.issues.map(\.description)
    }
}

/// Compiles `transforms` (YAML list items, unindented) for source table `src-table`, env `prod`.
func transform(_ transforms: String) throws -> CompiledTransform {
    let body = transforms.split(separator: "\n", omittingEmptySubsequences: false)
        .map { "      " + $0 }.joined(separator: "\n")
    let yaml = """
        version: 1
        env: prod
        tables:
          - source: src-table
            target: dst-table
            transforms:
        \(body)
        """
    let doc = try load(yaml)
    let resolved = try doc.resolve(existingTables: ["src-table"])
    return try #require(resolved.targets.first?.sources.first).transform
}

/// The error a transform throws for an item, or nil.
func transformError(_ t: CompiledTransform, _ item: Item) -> TransformError? {
    do {
        _ = try t.apply(item)
        return nil
    } catch {
        return error
    }
}

func n(_ text: String) -> AttributeValue { .n(DynamoNumber(unchecked: text)) }
