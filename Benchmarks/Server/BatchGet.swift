// BatchGetItem over the in-memory tables (the migrator's probe of which keys a merge target holds).
import DynamoCore

extension Store {
    /// `RequestItems` → `{TableName: {Keys: [...], ConsistentRead}}`; answers every item found (each
    /// read is consistent here) and an empty `UnprocessedKeys`. At most 100 keys, no key twice.
    func batchGetItem(_ body: [UInt8]) throws -> [UInt8] {
        var requests: [(table: Table, keys: [KeyPosition])] = []
        var returnConsumed = false
        var total = 0
        var reader = JSONReader(body)
        try reader.readObject { r, name in
            switch name {
            case "RequestItems":
                try r.readObject { r, tableName in
                    let table = try self.table(tableName)
                    var keys: [KeyPosition] = []
                    try r.readObject { r, field in
                        switch field {
                        case "Keys": try r.readArray { r in keys.append(try Self.keyPosition(try r.readItem(), in: table)) }
                        case "ConsistentRead": _ = try r.readBool()
                        default: throw Self.unsupported(field, "BatchGetItem")
                        }
                    }
                    if Set(keys.map(\.key)).count != keys.count {
                        throw APIError.validation("Provided list of item keys contains duplicates")
                    }
                    total += keys.count
                    requests.append((table, keys))
                }
            case "ReturnConsumedCapacity": returnConsumed = try r.readString() != "NONE"
            default: throw Self.unsupported(name, "BatchGetItem")
            }
        }
        try reader.finish()
        guard total >= 1, total <= 100 else {
            throw APIError.validation("Too many items requested for the BatchGetItem call")
        }
        var out: [UInt8] = Array("{\"Responses\":{".utf8)
        var consumed: [(String, Double)] = []
        for (t, (table, keys)) in requests.enumerated() {
            if t > 0 { out.append(UInt8(ascii: ",")) }
            out += JSON.string(table.name).encoded() + Array(":[".utf8)
            var found = 0
            table.lock.lock()
            for position in keys {
                guard let item = table.get(position) else { continue }
                if found > 0 { out.append(UInt8(ascii: ",")) }
                out += item.bytes
                found += 1
            }
            table.lock.unlock()
            out.append(UInt8(ascii: "]"))
            consumed.append((table.name, Double(max(1, keys.count))))
        }
        out += Array("},\"UnprocessedKeys\":{}".utf8)
        if returnConsumed {
            out += Array(",\"ConsumedCapacity\":[".utf8)
            for (i, (name, units)) in consumed.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out += Self.consumed(name, units)
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}
