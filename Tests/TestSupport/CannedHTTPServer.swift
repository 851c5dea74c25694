import Foundation

// A scripted HTTP server that answers with exact bytes, for testing clients against odd responses.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Listens on 127.0.0.1 and answers each connection's first request with canned raw bytes
/// (status line, headers and body exactly as given), then closes the connection.
/// Connection i gets `responses[i]`, or the last response once the list is used up.
public final class CannedHTTPServer: Sendable {
    /// `http://127.0.0.1:PORT`.
    public let endpoint: String
    private let responses: [[UInt8]]
    private let listenFD: Int32
    private let port: UInt16
    private let state = Locked((connections: 0, stopped: false))
    private let finished = DispatchSemaphore(value: 0)

    public init(responses: [[UInt8]]) throws(RawSocketError) {
        precondition(!responses.isEmpty, "CannedHTTPServer needs at least one response")
        self.responses = responses
        (listenFD, port) = try Sockets.listenLoopback()
        endpoint = "http://127.0.0.1:\(port)"
        Thread.detachNewThread { [self] in run() }
    }

    /// Convenience for text responses, e.g. `"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"`.
    public convenience init(textResponses: [String]) throws(RawSocketError) {
        try self.init(responses: textResponses.map { Array($0.utf8) })
    }

    /// Connections accepted so far.
    public var connectionsAccepted: Int { state.withLock { $0.connections } }

    /// Stops listening and waits for the server thread. Safe to call twice.
    public func stop() {
        let first = state.withLock { state -> Bool in
            defer { state.stopped = true }
            return !state.stopped
        }
        guard first else { return }
        shutdown(listenFD, Int32(SHUT_RDWR))
        if let fd = try? Sockets.connect(host: "127.0.0.1", port: port) { close(fd) }
        finished.wait()
    }

    private func run() {
        defer {
            close(listenFD)
            finished.signal()
        }
        while true {
            let fd = accept(listenFD, nil, nil)
            let index = state.withLock { state -> Int? in
                if state.stopped { return nil }
                if fd >= 0 { state.connections += 1 }
                return state.connections - 1
            }
            guard let index else {
                if fd >= 0 { close(fd) }
                return
            }
            guard fd >= 0 else { continue }
            Sockets.configure(fd, receiveTimeout: 30)
            _ = try? HTTPStream(fd: fd).readRequest()
            try? Sockets.writeAll(fd, responses[min(index, responses.count - 1)])
            close(fd)
        }
    }
}
