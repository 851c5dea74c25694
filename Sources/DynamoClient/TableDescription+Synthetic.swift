import DynamoCore
import Foundation

extension TableDescription {
    /// A description of a table that is not there to describe (an export standing for its source):
    /// its key schema, indexes and billing as recorded, everything else empty.
    package static func recorded(
        name: String, keySchema: KeySchema, billingMode: BillingMode = .payPerRequest, itemCount: Int = 0,
        sizeBytes: Int = 0, globalSecondaryIndexes: [SecondaryIndex] = [], localSecondaryIndexes: [SecondaryIndex] = []
    ) -> TableDescription {
        TableDescription(
            name: name, arn: nil, status: "ACTIVE", keySchema: keySchema, billingMode: billingMode, itemCount: itemCount,
            sizeBytes: sizeBytes, creationDate: nil, globalSecondaryIndexes: globalSecondaryIndexes,
            localSecondaryIndexes: localSecondaryIndexes, stream: nil, sse: nil, deletionProtection: false, tableClass: nil,
            raw: .object([:]))
    }
}
