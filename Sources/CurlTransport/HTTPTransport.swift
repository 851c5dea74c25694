// CurlTransport: HTTP/1.1 over libcurl, driven on its own thread, with CRC32 checks of answers.

/// One HTTP request. Header names are sent as given.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// Send on a new connection. libcurl silently resends a request whose reused connection broke
    /// before any answer, which the server may already have applied; a request that must not be
    /// applied twice without its sender knowing (CreateBackup) asks for a fresh connection instead.
    public var freshConnection: Bool
    /// A limit for this request alone, connecting included, in place of the transport's timeouts (nil: the
    /// transport's). The instance metadata service is probed with 1 s so a laptop, where nothing answers
    /// at 169.254.169.254, is not held up for the transport's 5 s connect timeout.
    public var timeout: Duration?
    public init(
        method: String, url: String, headers: [(name: String, value: String)], body: [UInt8],
        freshConnection: Bool = false, timeout: Duration? = nil
    ) {
        self.method = method; self.url = url; self.headers = headers; self.body = body
        self.freshConnection = freshConnection; self.timeout = timeout
    }
}

/// One HTTP answer. Header names are lowercased.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status; self.headers = headers; self.body = body
    }
    /// The first header with this (lowercase) name.
    public func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }
}

/// Failures below HTTP: nothing usable came back.
public enum TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Could not connect (refused, unreachable, DNS).
    case connectFailed(url: String, reason: String)
    /// The connection broke after the request may have been sent.
    case connectionReset(url: String, reason: String)
    case timedOut(url: String, after: Duration)
    /// The body does not match its `x-amz-crc32` header: corrupted on the way.
    case checksumMismatch(url: String, expected: UInt32, actual: UInt32)
    case other(url: String, code: Int, reason: String)
    case shutDown

    public var description: String {
        switch self {
        case .connectFailed(let url, let reason): "could not connect for \(url): \(reason)"
        case .connectionReset(let url, let reason): "the connection broke during \(url): \(reason)"
        case .timedOut(let url, let after): "\(url) timed out after \(after)"
        case .checksumMismatch(let url, let expected, let actual):
            "the answer from \(url) is corrupted: its CRC32 is \(actual), its header says \(expected)"
        case .other(let url, let code, let reason): "\(url) failed (curl code \(code)): \(reason)"
        case .shutDown: "the HTTP transport was shut down"
        }
    }

    /// The `.other` code ``CurlTransport`` uses when the awaiting task was cancelled
    /// (libcurl's CURLE_ABORTED_BY_CALLBACK).
    public static let cancelledCode = 42

    /// The error of a request whose awaiting task was cancelled.
    public static func cancelled(url: String) -> TransportError {
        .other(url: url, code: cancelledCode, reason: "the request was cancelled")
    }

    /// Whether this error means the awaiting task was cancelled rather than a network failure.
    public var isCancellation: Bool {
        if case .other(_, Self.cancelledCode, "the request was cancelled") = self { return true }
        return false
    }
}

/// The seam between the DynamoDB client and the network.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) async throws(TransportError) -> HTTPResponse
}

/// Settings of a ``CurlTransport``.
public struct CurlTransportConfiguration: Sendable {
    public var connectTimeout: Duration = .seconds(5)
    /// A DynamoDB answer takes well under a second; 30 s leaves room for a slow network without
    /// leaving an operator staring at a silent endpoint.
    public var requestTimeout: Duration = .seconds(30)
    /// At most this many transfers at once; more wait in a queue.
    public var maxConcurrentRequests: Int = 64
    /// When set, answers carrying this header get their body's CRC32 checked against it.
    public var crc32Header: String? = "x-amz-crc32"
    public init() {}
}
