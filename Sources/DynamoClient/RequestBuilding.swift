import DynamoCore

/// Builds a JSON object body with the byte writer.
func requestBody(_ build: (inout JSONWriter) -> Void) -> [UInt8] {
    var writer = JSONWriter(capacity: 256)
    writer.beginObject()
    build(&writer)
    writer.endObject()
    return writer.bytes
}

extension JSONWriter {
    mutating func field(_ name: String, _ value: String) { key(name); string(value) }
    mutating func field(_ name: String, _ value: Int) { key(name); int(value) }
    mutating func field(_ name: String, _ value: Bool) { key(name); bool(value) }
    mutating func field(_ name: String, item value: Item) { key(name); item(value) }
    mutating func object(_ name: String, _ build: (inout JSONWriter) -> Void) {
        key(name); beginObject(); build(&self); endObject()
    }
    mutating func array<S: Sequence>(_ name: String, _ elements: S, _ build: (inout JSONWriter, S.Element) -> Void) {
        key(name); beginArray()
        for element in elements { build(&self, element) }
        endArray()
    }
    mutating func stringMap(_ name: String, _ map: [String: String]) {
        object(name) { w in for (k, v) in map.sorted(by: { $0.key < $1.key }) { w.field(k, v) } }
    }
    mutating func valueMap(_ name: String, _ map: [AttributeName: AttributeValue]) {
        key(name); item(map)
    }
}

extension DynamoDBClient {
    /// Performs a call and parses the answer as generic JSON.
    func performJSON(_ operation: String, table: String?, body: [UInt8], idempotent: Bool = true) async throws(DynamoDBError) -> JSON {
        let bytes = try await perform(operation, table: table, body: body, idempotent: idempotent)
        do {
            return try JSON.parse(bytes)
        } catch {
            throw .malformedResponse(reason: "\(error)", context: CallContext(operation: operation, table: table, attempts: 1))
        }
    }

    func decoded<T>(_ operation: String, table: String?, _ decode: () throws -> T) throws(DynamoDBError) -> T {
        do {
            return try decode()
        } catch {
            throw .malformedResponse(reason: "\(error)", context: CallContext(operation: operation, table: table, attempts: 1))
        }
    }
}
