// Shared helpers for the TestSupport tests: JSON handling and direct table setup in moto.
import Foundation
import TestSupport
import Testing

/// Parses a JSON object from response bytes.
func jsonObject(_ bytes: [UInt8]) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
}

/// A canonical text of a JSON value (sorted keys), for exact comparisons of parsed JSON.
func canonical(_ value: Any) throws -> String {
    let data = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])
    return String(decoding: data, as: UTF8.self)
}

/// The canonical text of a JSON document given as a string.
func canonical(json text: String) throws -> String {
    try canonical(JSONSerialization.jsonObject(with: Data(text.utf8)))
}

/// The moto endpoint; only called from suites enabled by `needsLocalServer`.
func motoEndpoint() throws -> String {
    try #require(TestEnvironment.endpoint)
}

/// Creates a table with a string partition key `pk`, directly in moto, and returns its name.
func createTable(_ prefix: String, endpoint: String) throws -> String {
    let name = TestEnvironment.uniqueTableName(prefix)
    let response = try MotoServer.call(
        endpoint: endpoint, operation: "CreateTable",
        body: """
            {"TableName":"\(name)","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],\
            "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"}
            """)
    try #require(response.status == 200, "CreateTable: \(response.bodyText)")
    return name
}

/// The `pk` values of every item in `table`, read directly from moto, sorted.
func partitionKeys(in table: String, endpoint: String) throws -> [String] {
    let response = try MotoServer.call(endpoint: endpoint, operation: "Scan", body: #"{"TableName":"\#(table)"}"#)
    try #require(response.status == 200, "Scan: \(response.bodyText)")
    let items = try #require(try jsonObject(response.body)["Items"] as? [[String: Any]])
    return items.compactMap { ($0["pk"] as? [String: Any])?["S"] as? String }.sorted()
}

/// The raw GetItem answer for `pk`, read directly from moto.
func getItem(_ pk: String, table: String, endpoint: String) throws -> RawHTTPResponse {
    try MotoServer.call(endpoint: endpoint, operation: "GetItem", body: #"{"TableName":"\#(table)","Key":{"pk":{"S":"\#(pk)"}}}"#)
}

func putItemBody(table: String, pk: String) -> [UInt8] {
    Array(#"{"TableName":"\#(table)","Item":{"pk":{"S":"\#(pk)"},"n":{"N":"1.50"}}}"#.utf8)
}

func getItemBody(table: String, pk: String) -> [UInt8] {
    Array(#"{"TableName":"\#(table)","Key":{"pk":{"S":"\#(pk)"}}}"#.utf8)
}

extension RawHTTPConnection {
    /// Sends one DynamoDB operation over this connection.
    func dynamo(_ operation: String, _ body: [UInt8]) throws -> RawHTTPResponse {
        try send(headers: MotoServer.dynamoHeaders(operation: operation), body: body)
    }
}

/// Whether the response's `x-amz-crc32` header matches its body.
func crcMatches(_ response: RawHTTPResponse) -> Bool {
    response.headers["x-amz-crc32"] == String(TestCRC32.checksum(response.body))
}
