/// Writes JSON into a byte buffer, placing commas and colons itself.
// STUB: the codec work replaces the bodies below with a byte-level implementation.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    public init(capacity: Int = 1024) { bytes.reserveCapacity(capacity) }
    public mutating func beginObject() {}
    public mutating func endObject() {}
    public mutating func beginArray() {}
    public mutating func endArray() {}
    /// Writes an object key; the next value written is its value.
    public mutating func key(_ name: String) {}
    public mutating func string(_ value: String) {}
    /// Writes number text as is (the caller guarantees it is valid JSON number text).
    public mutating func numberText(_ text: String) {}
    public mutating func int(_ value: Int) {}
    public mutating func bool(_ value: Bool) {}
    public mutating func null() {}
    public mutating func attributeValue(_ value: AttributeValue) {}
    public mutating func item(_ item: Item) {}
    public mutating func json(_ value: JSON) {}
}

extension JSON {
    /// Serialises to compact UTF-8 JSON.
    public func encoded() -> [UInt8] {
        var writer = JSONWriter()
        writer.json(self)
        return writer.bytes
    }
}
