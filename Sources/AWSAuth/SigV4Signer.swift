import Foundation

/// An HTTP request as the signer sees it. `path` and `query` are exactly as they go on the wire.
public struct SigningRequest: Sendable {
    public var method: String
    public var path: String
    public var query: String
    /// Header names as given; order kept; repeated names allowed.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    public init(method: String, path: String, query: String = "", headers: [(name: String, value: String)], body: [UInt8]) {
        self.method = method; self.path = path; self.query = query; self.headers = headers; self.body = body
    }
}

// STUB: the auth work implements the stages.
/// AWS Signature Version 4 for one service and region.
public struct SigV4Signer: Sendable {
    public var credentials: Credentials
    public var region: String
    public var service: String
    public init(credentials: Credentials, region: String, service: String) {
        self.credentials = credentials; self.region = region; self.service = service
    }
    /// Returns the request's headers plus `X-Amz-Date`, `X-Amz-Security-Token` (when there is a
    /// session token) and `Authorization`, ready to send.
    public func signedHeaders(for request: SigningRequest, date: Date) -> [(name: String, value: String)] { request.headers }
}
