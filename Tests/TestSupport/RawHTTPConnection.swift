// A minimal blocking HTTP/1.1 client over one socket, for tests that need to see the wire.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One keep-alive HTTP/1.1 connection; every `send` reuses it until either side closes it.
/// Not thread-safe: use it from one thread at a time.
public final class RawHTTPConnection {
    private let host: String
    private let port: UInt16
    private var stream: HTTPStream?

    /// Connects to `endpoint` (`http://host:port`).
    public init(endpoint: String) throws(RawSocketError) {
        (host, port) = try Sockets.parseEndpoint(endpoint)
        let fd = try Sockets.connect(host: host, port: port, receiveTimeout: 600)
        stream = HTTPStream(fd: fd)
    }

    deinit { close() }

    /// Whether the connection is still usable (neither closed by us nor by a `Connection: close` answer).
    public var isOpen: Bool { stream != nil }

    /// Sends one request and reads its response. Adds `Host` and `Content-Length`.
    /// A reset or closed connection throws and leaves the connection closed.
    public func send(
        method: String = "POST", path: String = "/", headers: [(String, String)] = [],
        body: [UInt8] = []
    ) throws(RawSocketError) -> RawHTTPResponse {
        guard let stream else { throw .connectionClosed }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(body.count)\r\n\r\n"
        do {
            try Sockets.writeAll(stream.fd, Array(head.utf8) + body)
            let response = try stream.readResponse(requestMethod: method)
            if response.headers["Connection"]?.lowercased() == "close" { close() }
            return response
        } catch {
            close()
            throw error
        }
    }

    /// Closes the connection; further sends throw `connectionClosed`.
    public func close() {
        if let stream {
            posixClose(stream.fd)
            self.stream = nil
        }
    }
}

// `close` is shadowed by `RawHTTPConnection.close()` inside the class.
@inline(__always)
private func posixClose(_ fd: Int32) {
    _ = close(fd)
}
