import Foundation

// A real HTTP/1.1 server on 127.0.0.1 whose answers a test computes per request, with state of its own
// (e.g. the instance metadata service counting token PUTs, a portal checking a bearer token).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One request as the server read it from the socket.
public struct ServedRequest: Sendable, Equatable {
    public var method: String
    /// The path without the query.
    public var path: String
    /// The query string after `?` (empty when none), as sent.
    public var query: String
    public var headers: RawHTTPHeaders
    public var body: [UInt8]
    /// The first value of the header `name` (case-insensitive).
    public func header(_ name: String) -> String? { headers[name] }
    /// The query's parameters, percent-decoded.
    public var queryItems: [String: String] {
        var items: [String: String] = [:]
        for item in URLComponents(string: "http://x/?" + query)?.queryItems ?? [] { items[item.name] = item.value ?? "" }
        return items
    }
}

/// What the server does with a request.
public enum ServedAnswer: Sendable {
    /// Answers with this status, headers and body (Content-Length added).
    case respond(status: Int, headers: [(String, String)], body: [UInt8])
    /// Never answers: the connection stays open until the client gives up (to test client timeouts).
    case silence

    /// A 200 (or `status`) answer with a text body.
    public static func text(_ text: String, status: Int = 200) -> ServedAnswer {
        .respond(status: status, headers: [("Content-Type", "text/plain")], body: Array(text.utf8))
    }
    /// A 200 (or `status`) answer with a JSON body.
    public static func json(_ text: String, status: Int = 200) -> ServedAnswer {
        .respond(status: status, headers: [("Content-Type", "application/json")], body: Array(text.utf8))
    }
}

/// Listens on 127.0.0.1; every request on every (kept-alive) connection goes to `handler`, which runs on
/// the connection's thread and may keep state of its own. Requests are recorded in arrival order.
public final class RoutedHTTPServer: Sendable {
    /// `http://127.0.0.1:PORT`.
    public let endpoint: String
    private let handler: @Sendable (ServedRequest) -> ServedAnswer
    private let listenFD: Int32
    private let port: UInt16
    private let state = Locked((requests: [ServedRequest](), open: Set<Int32>(), stopped: false))
    private let finished = DispatchSemaphore(value: 0)

    public init(handler: @escaping @Sendable (ServedRequest) -> ServedAnswer) throws(RawSocketError) {
        self.handler = handler
        (listenFD, port) = try Sockets.listenLoopback()
        endpoint = "http://127.0.0.1:\(port)"
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    deinit { stop() }

    /// Every request received so far, in arrival order.
    public var requests: [ServedRequest] { state.withLock { $0.requests } }

    /// How many requests had this method and path.
    public func count(_ method: String, _ path: String) -> Int {
        requests.filter { $0.method == method && $0.path == path }.count
    }

    /// Stops listening, closes open connections and waits for the accept thread. Safe to call twice.
    public func stop() {
        let open = state.withLock { state -> Set<Int32>? in
            defer { state.stopped = true }
            return state.stopped ? nil : state.open
        }
        guard let open else { return }
        for fd in open { shutdown(fd, Int32(SHUT_RDWR)) }
        shutdown(listenFD, Int32(SHUT_RDWR))
        if let fd = try? Sockets.connect(host: "127.0.0.1", port: port) { close(fd) }
        finished.wait()
    }

    private func acceptLoop() {
        defer {
            close(listenFD)
            finished.signal()
        }
        while true {
            let fd = accept(listenFD, nil, nil)
            let accepted = state.withLock { state -> Bool in
                if state.stopped { return false }
                if fd >= 0 { state.open.insert(fd) }
                return true
            }
            guard accepted else {
                if fd >= 0 { close(fd) }
                return
            }
            guard fd >= 0 else { continue }
            Sockets.configure(fd, receiveTimeout: 30)
            Thread.detachNewThread { [self] in serve(fd) }
        }
    }

    private func serve(_ fd: Int32) {
        defer {
            state.withLock { _ = $0.open.remove(fd) }
            close(fd)
        }
        let stream = HTTPStream(fd: fd)
        while let raw = try? stream.readRequest() {
            let (path, query) =
                raw.target.firstIndex(of: "?").map {
                    (String(raw.target[..<$0]), String(raw.target[raw.target.index(after: $0)...]))
                } ?? (raw.target, "")
            let request = ServedRequest(method: raw.method, path: path, query: query, headers: raw.headers, body: raw.body)
            state.withLock { $0.requests.append(request) }
            switch handler(request) {
            case .silence:
                continue  // the next read waits until the client closes the connection
            case .respond(let status, let headers, let body):
                let response = RawHTTPResponse(status: status, headers: RawHTTPHeaders(headers), body: body)
                guard (try? Sockets.writeAll(fd, response.serialized(closing: false))) != nil else { return }
            }
        }
    }
}
