// Direct calls to the local DynamoDB-compatible server (moto), without our own client.

/// Helpers for talking to moto directly in tests, e.g. to seed or inspect tables.
public enum MotoServer {
    /// The headers moto needs to route a request to its DynamoDB emulation: a SigV4
    /// `Authorization` whose credential scope names dynamodb (signatures are never checked),
    /// the operation's `X-Amz-Target`, and the JSON content type.
    public static func dynamoHeaders(operation: String) -> [(String, String)] {
        [
            ("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00"),
            ("X-Amz-Target", "DynamoDB_20120810.\(operation)"),
            ("Content-Type", "application/x-amz-json-1.0"),
            ("X-Amz-Date", "20260101T000000Z"),
        ]
    }

    /// Sends one DynamoDB operation with a JSON `body` to `endpoint` on a fresh connection.
    public static func call(endpoint: String, operation: String, body: String) throws(RawSocketError) -> RawHTTPResponse {
        let connection = try RawHTTPConnection(endpoint: endpoint)
        defer { connection.close() }
        return try connection.send(headers: dynamoHeaders(operation: operation), body: Array(body.utf8))
    }

    /// Clears all of moto's state (`POST /moto-api/reset`). This affects every test using the server.
    public static func reset(endpoint: String) throws(RawSocketError) {
        let connection = try RawHTTPConnection(endpoint: endpoint)
        defer { connection.close() }
        let response = try connection.send(method: "POST", path: "/moto-api/reset")
        guard response.status == 200 else {
            throw .malformedMessage("moto reset answered HTTP \(response.status): \(response.bodyText)")
        }
    }

    /// Whether moto answers `GET /moto-api/` with 200.
    public static func isReady(endpoint: String) -> Bool {
        guard let connection = try? RawHTTPConnection(endpoint: endpoint),
            let response = try? connection.send(method: "GET", path: "/moto-api/")
        else { return false }
        connection.close()
        return response.status == 200
    }
}
