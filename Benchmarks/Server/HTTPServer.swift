import DynamoCore
import Foundation
import ZlibSupport

// HTTP/1.1 over blocking POSIX sockets on 127.0.0.1: one thread per connection, keep-alive.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One request as the server needs it: the `X-Amz-Target` operation and the body.
struct Request {
    var method: String
    var path: String
    var target: String?
    var body: [UInt8]
}

/// One answer: status and JSON body (the CRC32 header is computed when it is sent).
struct Response {
    var status: Int
    var body: [UInt8]

    static func ok(_ body: [UInt8]) -> Response { Response(status: 200, body: body) }

    /// DynamoDB's error shape: HTTP 400 with `__type` and `message`.
    static func error(_ type: String, _ message: String, status: Int = 400) -> Response {
        let body = JSON.object(["__type": .string("com.amazonaws.dynamodb.v20120810#\(type)"), "message": .string(message)])
        return Response(status: status, body: body.encoded())
    }
}

enum ServerError: Error, CustomStringConvertible {
    case system(String, Int32)
    var description: String {
        switch self {
        case .system(let call, let code): return "\(call) failed: \(String(cString: strerror(code)))"
        }
    }
}

/// Listens on 127.0.0.1 and hands each request to `handle` on the connection's own thread.
final class HTTPServer: @unchecked Sendable {
    let listener: Int32
    let port: Int
    let handle: @Sendable (Request) -> Response

    init(port requested: Int, handle: @escaping @Sendable (Request) -> Response) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ServerError.system("socket", errno) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(requested).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { let e = errno; close(fd); throw ServerError.system("bind", e) }
        guard listen(fd, 1024) == 0 else { let e = errno; close(fd); throw ServerError.system("listen", e) }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.listener = fd
        self.port = Int(UInt16(bigEndian: actual.sin_port))
        self.handle = handle
    }

    /// Accepts connections forever.
    func run() -> Never {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { continue }
            var yes: Int32 = 1
            setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
            let thread = Thread { [self] in self.serve(client) }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// Serves one connection until the peer closes it or asks to.
    func serve(_ fd: Int32) {
        defer { close(fd) }
        var connection = Connection(fd: fd)
        while true {
            let parsed: (Request, keepAlive: Bool)?
            do { parsed = try connection.readRequest() } catch {
                let response = Response(status: 400, body: Array("\(error)".utf8))
                connection.send(response, keepAlive: false)
                return
            }
            guard let (request, keepAlive) = parsed else { return }
            let response = handle(request)
            guard connection.send(response, keepAlive: keepAlive), keepAlive else { return }
        }
    }
}

enum FramingError: Error, CustomStringConvertible {
    case malformed(String)
    var description: String { if case .malformed(let why) = self { return "malformed HTTP request: \(why)" }; return "" }
}

/// A buffered socket reading HTTP/1.1 requests.
struct Connection {
    let fd: Int32
    var buffer: [UInt8] = []
    var start = 0

    init(fd: Int32) {
        self.fd = fd
        buffer.reserveCapacity(1 << 16)
    }

    /// Reads more bytes; false at end of stream.
    mutating func fill() -> Bool {
        let old = buffer.count
        let chunk = 1 << 16
        buffer.append(contentsOf: repeatElement(0, count: chunk))
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + old, chunk, 0) }
        buffer.removeLast(chunk - max(n, 0))
        return n > 0
    }

    /// The next request, or nil when the peer closed the connection between requests.
    mutating func readRequest() throws -> (Request, keepAlive: Bool)? {
        // Drop what earlier requests consumed (only here, so offsets stay valid while reading one request).
        if start == buffer.count { buffer.removeAll(keepingCapacity: true); start = 0 } else if start > (1 << 20) { buffer.removeFirst(start); start = 0 }
        var headerEnd: Int?
        var searchFrom = start
        while true {
            if let end = Self.find(buffer, from: searchFrom) { headerEnd = end; break }
            searchFrom = max(start, buffer.count - 3)
            if buffer.count - start > 64 << 10 { throw FramingError.malformed("header section over 64 KB") }
            if !fill() {
                if buffer.count == start { return nil }
                throw FramingError.malformed("connection closed inside the header section")
            }
        }
        let head = String(decoding: buffer[start..<headerEnd!], as: UTF8.self)
        start = headerEnd! + 4
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count == 3 else { throw FramingError.malformed("bad request line") }
        var contentLength = 0
        var target: String?
        var keepAlive = requestLine[2] != "HTTP/1.0"
        var chunked = false
        var expectContinue = false
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch name {
            case "content-length":
                guard let n = Int(value), n >= 0 else { throw FramingError.malformed("bad Content-Length") }
                contentLength = n
            case "x-amz-target": target = value
            case "connection":
                if value.lowercased() == "close" { keepAlive = false }
                if value.lowercased() == "keep-alive" { keepAlive = true }
            case "transfer-encoding": chunked = value.lowercased().contains("chunked")
            case "expect": expectContinue = value.lowercased() == "100-continue"
            default: break
            }
        }
        if expectContinue { _ = Self.writeAll(fd, Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)) }
        let body: [UInt8]
        if chunked {
            body = try readChunked()
        } else {
            while buffer.count - start < contentLength {
                if !fill() { throw FramingError.malformed("connection closed inside the body") }
            }
            body = Array(buffer[start..<start + contentLength])
            start += contentLength
        }
        let request = Request(method: String(requestLine[0]), path: String(requestLine[1]), target: target, body: body)
        return (request, keepAlive)
    }

    mutating func readLine() throws -> String {
        while true {
            if let i = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[start..<i], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                start = i + 1
                return line
            }
            if !fill() { throw FramingError.malformed("connection closed inside a chunk") }
        }
    }

    mutating func readChunked() throws -> [UInt8] {
        var body: [UInt8] = []
        while true {
            let sizeLine = try readLine()
            guard let size = Int(sizeLine.split(separator: ";").first ?? "", radix: 16) else {
                throw FramingError.malformed("bad chunk size")
            }
            if size == 0 {
                while try !readLine().isEmpty {}
                return body
            }
            while buffer.count - start < size + 2 {
                if !fill() { throw FramingError.malformed("connection closed inside a chunk") }
            }
            body += buffer[start..<start + size]
            start += size + 2
        }
    }

    static func find(_ bytes: [UInt8], from: Int) -> Int? {
        bytes.withUnsafeBufferPointer { b in
            var i = from
            while i + 3 < b.count {
                if b[i] == 13 && b[i + 1] == 10 && b[i + 2] == 13 && b[i + 3] == 10 { return i }
                i += 1
            }
            return nil
        }
    }

    /// Sends status, headers (with `x-amz-crc32`) and body in one writev; false when the peer is gone.
    @discardableResult
    func send(_ response: Response, keepAlive: Bool) -> Bool {
        let reason: String
        switch response.status {
        case 200: reason = "OK"
        case 400: reason = "Bad Request"
        case 404: reason = "Not Found"
        default: reason = "Internal Server Error"
        }
        let crc = CRC32.checksum(response.body)
        let head =
            "HTTP/1.1 \(response.status) \(reason)\r\n"
            + "Content-Type: application/x-amz-json-1.0\r\n"
            + "Content-Length: \(response.body.count)\r\n"
            + "x-amz-crc32: \(crc)\r\n"
            + "x-amzn-RequestId: \(RequestIds.next())\r\n"
            + (keepAlive ? "" : "Connection: close\r\n")
            + "\r\n"
        return Self.writeAll(fd, Array(head.utf8), response.body)
    }

    static func writeAll(_ fd: Int32, _ first: [UInt8], _ second: [UInt8] = []) -> Bool {
        var offset = 0
        let total = first.count + second.count
        return first.withUnsafeBytes { a in
            second.withUnsafeBytes { b in
                while offset < total {
                    var vectors: [iovec] = []
                    if offset < a.count {
                        vectors.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: a.baseAddress! + offset), iov_len: a.count - offset))
                        if b.count > 0 { vectors.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: b.baseAddress!), iov_len: b.count)) }
                    } else {
                        let o = offset - a.count
                        vectors.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: b.baseAddress! + o), iov_len: b.count - o))
                    }
                    let n = writev(fd, vectors, Int32(vectors.count))
                    if n < 0 { if errno == EINTR { continue }; return false }
                    offset += n
                }
                return true
            }
        }
    }
}

/// Request ids: a process-wide counter.
enum RequestIds {
    private static let counter = Counter()
    static func next() -> String {
        "BENCH\(String(counter.increment(), radix: 16, uppercase: true))"
    }
}

final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func increment() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
}
