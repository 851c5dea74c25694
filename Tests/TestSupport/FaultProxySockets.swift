import Foundation

// Blocking POSIX sockets and HTTP/1.1 message framing for the fault proxy and raw test clients.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What went wrong on a raw socket or with an HTTP message read from one.
public enum RawSocketError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The endpoint is not of the form `http://host:port`.
    case invalidEndpoint(String)
    /// A system call failed with `errno`.
    case system(call: String, errno: Int32)
    /// The peer reset the connection (TCP RST).
    case connectionReset
    /// The peer closed the connection before a complete message arrived.
    case connectionClosed
    /// The bytes received are not a valid HTTP/1.1 message.
    case malformedMessage(String)

    public var description: String {
        switch self {
        case .invalidEndpoint(let e): return "invalid endpoint '\(e)': expected http://host:port"
        case .system(let call, let code): return "\(call) failed: \(String(cString: strerror(code))) (errno \(code))"
        case .connectionReset: return "the connection was reset by the peer"
        case .connectionClosed: return "the peer closed the connection before a complete message"
        case .malformedMessage(let why): return "malformed HTTP message: \(why)"
        }
    }
}

/// HTTP header fields in their received order and spelling; lookups ignore case.
public struct RawHTTPHeaders: Sendable, Equatable, Sequence {
    public private(set) var fields: [Field]

    public struct Field: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(name: String, value: String) { self.name = name; self.value = value }
    }

    public init(_ fields: [(String, String)] = []) {
        self.fields = fields.map { Field(name: $0.0, value: $0.1) }
    }

    /// The first value of the field `name` (case-insensitive), if any.
    public subscript(name: String) -> String? {
        fields.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// Removes every field called `name`, then appends `name: value` unless `value` is nil.
    public mutating func set(_ name: String, _ value: String?) {
        remove(name)
        if let value { fields.append(Field(name: name, value: value)) }
    }

    public mutating func remove(_ name: String) {
        fields.removeAll { $0.name.caseInsensitiveCompare(name) == .orderedSame }
    }

    public mutating func append(_ name: String, _ value: String) {
        fields.append(Field(name: name, value: value))
    }

    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }
}

/// An HTTP request as read from or written to a socket.
struct RawHTTPRequest: Sendable {
    var method: String
    var target: String
    var version: String
    var headers: RawHTTPHeaders
    var body: [UInt8]
}

/// An HTTP response as read from a socket.
public struct RawHTTPResponse: Sendable, Equatable {
    public var status: Int
    public var reason: String
    public var headers: RawHTTPHeaders
    public var body: [UInt8]

    public init(status: Int, reason: String? = nil, headers: RawHTTPHeaders = RawHTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.reason = reason ?? RawHTTPResponse.reasonPhrase(status)
        self.headers = headers
        self.body = body
    }

    /// The body as UTF-8 text.
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: return "Continue"
        case 200: return "OK"
        case 400: return "Bad Request"
        case 404: return "Not Found"
        case 413: return "Content Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        default: return "Status \(status)"
        }
    }

    /// The response as bytes on the wire, with a Content-Length that matches the body and no
    /// hop-by-hop framing fields of the original.
    func serialized(closing: Bool) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(reason)\r\n"
        for field in headers where !Self.framingFields.contains(field.name.lowercased()) {
            head += "\(field.name): \(field.value)\r\n"
        }
        head += "Content-Length: \(body.count)\r\n"
        if closing { head += "Connection: close\r\n" }
        head += "\r\n"
        return Array(head.utf8) + body
    }

    static let framingFields: Set<String> = ["content-length", "transfer-encoding", "connection", "keep-alive"]
}

// MARK: - Socket primitives

#if os(Linux)
private let sendFlags = Int32(MSG_NOSIGNAL)
private let streamType = Int32(SOCK_STREAM.rawValue)
#else
private let sendFlags: Int32 = 0
private let streamType = SOCK_STREAM
#endif

enum Sockets {
    /// Splits `http://host:port` (a trailing slash allowed) into host and port.
    static func parseEndpoint(_ endpoint: String) throws(RawSocketError) -> (host: String, port: UInt16) {
        guard let url = URLComponents(string: endpoint), url.scheme?.lowercased() == "http",
            let host = url.host, !host.isEmpty, url.path.isEmpty || url.path == "/"
        else { throw .invalidEndpoint(endpoint) }
        let port = url.port ?? 80
        guard (1...65535).contains(port) else { throw .invalidEndpoint(endpoint) }
        return (host, UInt16(port))
    }

    /// A listening socket on 127.0.0.1 with an ephemeral port.
    static func listenLoopback() throws(RawSocketError) -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, streamType, 0)
        guard fd >= 0 else { throw .system(call: "socket", errno: errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { let e = errno; close(fd); throw .system(call: "bind", errno: e) }
        guard listen(fd, 128) == 0 else { let e = errno; close(fd); throw .system(call: "listen", errno: e) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { let e = errno; close(fd); throw .system(call: "getsockname", errno: e) }
        return (fd, UInt16(bigEndian: addr.sin_port))
    }

    /// A connected TCP socket to `host:port`; `receiveTimeout` bounds each read.
    static func connect(host: String, port: UInt16, receiveTimeout: Int? = nil) throws(RawSocketError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = streamType
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else { throw .invalidEndpoint("http://\(host):\(port)") }
        defer { freeaddrinfo(list) }
        var lastErrno: Int32 = ECONNREFUSED
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard fd >= 0 else { lastErrno = errno; continue }
            if posixConnect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 {
                configure(fd, receiveTimeout: receiveTimeout)
                return fd
            }
            lastErrno = errno
            close(fd)
        }
        throw .system(call: "connect", errno: lastErrno)
    }

    /// No Nagle delay, no SIGPIPE, and an optional read timeout.
    static func configure(_ fd: Int32, receiveTimeout: Int? = nil) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        #if !os(Linux)
        setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
        if let seconds = receiveTimeout {
            var timeout = timeval(tv_sec: seconds, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
    }

    /// Closes `fd` so that the peer gets a TCP RST rather than an orderly FIN.
    static func closeWithReset(_ fd: Int32) {
        var option = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
        close(fd)
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(RawSocketError) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { raw in
                send(fd, raw.baseAddress! + offset, bytes.count - offset, sendFlags)
            }
            if sent < 0 {
                let code = errno
                if code == EINTR { continue }
                if code == ECONNRESET || code == EPIPE { throw .connectionReset }
                throw .system(call: "send", errno: code)
            }
            offset += sent
        }
    }
}

// `connect` is shadowed by `Sockets.connect` inside the enum.
@inline(__always)
private func posixConnect(_ fd: Int32, _ address: UnsafePointer<sockaddr>!, _ length: socklen_t) -> Int32 {
    connect(fd, address, length)
}

// MARK: - Buffered reading and HTTP framing

/// Reads HTTP/1.1 messages from one socket; owned by one thread at a time.
final class HTTPStream {
    let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var chunk = [UInt8](repeating: 0, count: 65536)

    init(fd: Int32) { self.fd = fd }

    private var available: Int { buffer.count - start }

    /// Reads more bytes into the buffer; false at end of stream.
    private func fill() throws(RawSocketError) -> Bool {
        if start > 65536 && start * 2 > buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if count > 0 {
                buffer.append(contentsOf: chunk[0..<count])
                return true
            }
            if count == 0 { return false }
            let code = errno
            if code == EINTR { continue }
            if code == ECONNRESET { throw .connectionReset }
            throw .system(call: "recv", errno: code)
        }
    }

    /// The bytes up to and including the next CRLF CRLF, as text; nil at a clean end of stream.
    func readHead() throws(RawSocketError) -> String? {
        // Bytes after `start` already searched: relative, because `fill` may move the buffer's content
        // to its front (after a large body, e.g. an S3 part), which would strand an absolute index.
        var scanned = 0
        while true {
            if available >= 4 {
                var index = start + scanned
                while index + 3 < buffer.count {
                    if buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
                        let head = String(decoding: buffer[start..<index], as: UTF8.self)
                        start = index + 4
                        return head
                    }
                    index += 1
                }
                scanned = max(0, buffer.count - 3 - start)
            }
            if available > 1 << 20 { throw .malformedMessage("header section over 1 MiB") }
            guard try fill() else {
                if available == 0 { return nil }
                throw .connectionClosed
            }
        }
    }

    func readExactly(_ count: Int) throws(RawSocketError) -> [UInt8] {
        while available < count {
            guard try fill() else { throw .connectionClosed }
        }
        let bytes = Array(buffer[start..<(start + count)])
        start += count
        return bytes
    }

    /// One line without its CRLF (for chunk sizes and trailers).
    func readLine() throws(RawSocketError) -> String {
        while true {
            if let index = buffer[start...].firstIndex(of: 10) {
                var end = index
                if end > start && buffer[end - 1] == 13 { end -= 1 }
                let line = String(decoding: buffer[start..<end], as: UTF8.self)
                start = index + 1
                return line
            }
            guard try fill() else { throw .connectionClosed }
        }
    }

    func readToEnd() throws(RawSocketError) -> [UInt8] {
        while try fill() {}
        let bytes = Array(buffer[start...])
        start = buffer.count
        return bytes
    }

    /// Splits a head into its start line and header fields.
    static func parseHead(_ head: String) throws(RawSocketError) -> (startLine: String, headers: RawHTTPHeaders) {
        var lines = head.components(separatedBy: "\r\n")
        let startLine = lines.removeFirst()
        var headers = RawHTTPHeaders()
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { throw .malformedMessage("header line without a colon: \(line)") }
            let name = String(line[..<colon]).trimmingCharacters(in: .whitespaces)
            let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            headers.append(name, value)
        }
        return (startLine, headers)
    }

    static func contentLength(_ headers: RawHTTPHeaders) throws(RawSocketError) -> Int? {
        guard let text = headers["Content-Length"] else { return nil }
        guard let length = Int(text), length >= 0 else { throw .malformedMessage("bad Content-Length '\(text)'") }
        return length
    }

    static func isChunked(_ headers: RawHTTPHeaders) -> Bool {
        headers["Transfer-Encoding"]?.lowercased().contains("chunked") ?? false
    }

    /// Reads the next request; nil when the peer closed the connection between requests.
    /// `beforeBody` runs after the head is read (to answer `Expect: 100-continue`).
    func readRequest(beforeBody: (RawHTTPHeaders) throws(RawSocketError) -> Void = { _ in }) throws(RawSocketError) -> RawHTTPRequest? {
        guard let head = try readHead() else { return nil }
        let (startLine, headers) = try Self.parseHead(head)
        let parts = startLine.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3, parts[2].hasPrefix("HTTP/") else { throw .malformedMessage("bad request line: \(startLine)") }
        if Self.isChunked(headers) { throw .malformedMessage("chunked request bodies are not supported") }
        let length = try Self.contentLength(headers) ?? 0
        try beforeBody(headers)
        let body = try readExactly(length)
        return RawHTTPRequest(method: String(parts[0]), target: String(parts[1]), version: String(parts[2]), headers: headers, body: body)
    }

    /// Reads a response (skipping interim 1xx answers), its body framed by chunked encoding,
    /// Content-Length, or the end of the stream.
    func readResponse(requestMethod: String) throws(RawSocketError) -> RawHTTPResponse {
        while true {
            guard let head = try readHead() else { throw .connectionClosed }
            let (statusLine, headers) = try Self.parseHead(head)
            let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
            guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else {
                throw .malformedMessage("bad status line: \(statusLine)")
            }
            let reason = parts.count == 3 ? String(parts[2]) : RawHTTPResponse.reasonPhrase(status)
            if (100..<200).contains(status) && status != 101 { continue }
            var body: [UInt8] = []
            if requestMethod == "HEAD" || status == 204 || status == 304 {
                body = []
            } else if Self.isChunked(headers) {
                body = try readChunkedBody()
            } else if let length = try Self.contentLength(headers) {
                body = try readExactly(length)
            } else {
                body = try readToEnd()
            }
            return RawHTTPResponse(status: status, reason: reason, headers: headers, body: body)
        }
    }

    private func readChunkedBody() throws(RawSocketError) -> [UInt8] {
        var body: [UInt8] = []
        while true {
            let line = try readLine()
            let sizeText = line.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard let size = Int(sizeText, radix: 16), size >= 0 else { throw .malformedMessage("bad chunk size '\(line)'") }
            if size == 0 {
                while try !readLine().isEmpty {}  // trailer fields
                return body
            }
            body += try readExactly(size)
            guard try readLine().isEmpty else { throw .malformedMessage("chunk not followed by CRLF") }
        }
    }
}
