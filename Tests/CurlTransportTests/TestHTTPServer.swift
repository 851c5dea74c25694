// A real HTTP/1.1 server on 127.0.0.1 for the transport tests: a Python script run as a subprocess.
import CurlTransport
import Foundation
import Testing

/// The server's script. Paths:
/// - `/echo`: answers 200 with the request body; `x-echo-method` and `x-echo-headers` (base64 JSON of
///   `[[name, value], ...]`) describe the request.
/// - `/slow?ms=N`: answers `slow` after N milliseconds.
/// - `/crc?good=1|0`: answers `hello` with a correct (good=1) or wrong `x-amz-crc32`.
/// - `/reset?rst=0|1`: reads the request and closes the connection without answering (FIN, or RST with rst=1).
/// - `/status?code=N`: answers status N with body `status N`.
/// - `/stats`: JSON counts, all leaving /stats itself out: TCP `connections` that carried a request,
///   `requests`, `in_flight`, `max_in_flight`.
private let serverScript = #"""
    import base64, json, socket, struct, sys, threading, time, zlib
    from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler

    lock = threading.Lock()
    stats = {"connections": 0, "requests": 0, "in_flight": 0, "max_in_flight": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, status, body, headers):
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def handle_request(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length) if length else b""
            path, _, query = self.path.partition("?")
            params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
            if path == "/stats":
                with lock:
                    payload = json.dumps(stats).encode()
                self.reply(200, payload, [("Content-Type", "application/json")])
                return
            with lock:
                # One handler object serves one TCP connection: count connections that carried real requests.
                if not getattr(self, "counted", False):
                    self.counted = True
                    stats["connections"] += 1
                stats["requests"] += 1
                stats["in_flight"] += 1
                stats["max_in_flight"] = max(stats["max_in_flight"], stats["in_flight"])
            try:
                if path == "/echo":
                    headers = [[k, v] for k, v in self.headers.items()]
                    encoded = base64.b64encode(json.dumps(headers).encode()).decode()
                    self.reply(200, body, [("X-Echo-Method", self.command), ("X-Echo-Headers", encoded)])
                elif path == "/slow":
                    time.sleep(int(params.get("ms", "1000")) / 1000.0)
                    self.reply(200, b"slow", [])
                elif path == "/crc":
                    payload = b"hello"
                    crc = zlib.crc32(payload)
                    if params.get("good") != "1":
                        crc ^= 1
                    self.reply(200, payload, [("x-amz-crc32", str(crc))])
                elif path == "/reset":
                    self.close_connection = True
                    if params.get("rst") == "1":
                        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        self.connection.close()
                    else:
                        self.connection.shutdown(socket.SHUT_RDWR)
                elif path == "/status":
                    code = int(params.get("code", "200"))
                    self.reply(code, ("status %d" % code).encode(), [])
                else:
                    self.reply(404, b"no such path", [])
            finally:
                with lock:
                    stats["in_flight"] -= 1

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_request

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 1024
        def handle_error(self, request, client_address):
            pass  # clients that gave up (timeouts, cancellations, resets) are expected here

    server = Server(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()
    """#

enum TestServerError: Error {
    case startFailed(String)
}

/// One server process; each test starts its own so that its counts are its own.
final class TestHTTPServer {
    let port: Int
    private let process: Process

    init() throws {
        let scriptURL = FileManager.default.temporaryDirectory
            .appendingPathComponent("dm-test-http-server-\(UUID().uuidString).py")
        try serverScript.write(to: scriptURL, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", scriptURL.path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        self.process = process
        // The first line of output is the port it listens on.
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        try? FileManager.default.removeItem(at: scriptURL)
        guard let text = String(data: line, encoding: .utf8),
            let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            kill(process.processIdentifier, SIGKILL)
            throw TestServerError.startFailed("the test server printed no port: \(String(decoding: line, as: UTF8.self))")
        }
        self.port = port
    }

    deinit { stop() }

    func stop() {
        // SIGKILL: a child started from a pool thread inherits its blocked signals, SIGTERM included.
        // No waitUntilExit either: on Linux it spins; Foundation reaps the child by itself.
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    struct Stats: Decodable, Equatable {
        var connections: Int
        var requests: Int
        var in_flight: Int
        var max_in_flight: Int
    }

    /// The server's counts, fetched with a transport of its own.
    func stats() async throws -> Stats {
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let response = try await transport.send(HTTPRequest(method: "GET", url: url("/stats"), headers: [], body: []))
        return try JSONDecoder().decode(Stats.self, from: Data(response.body))
    }

    /// Waits until the server is handling `count` requests at once (to line up shutdown and cancellation).
    func waitForInFlight(_ count: Int) async throws {
        for _ in 0..<1000 {
            if try await stats().in_flight == count { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("the server never had \(count) requests in flight")
    }
}

/// A TCP port on 127.0.0.1 that nothing listens on: bound, then closed again.
func closedPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sockaddrPointer in
            bind(fd, sockaddrPointer, length) == 0 && getsockname(fd, sockaddrPointer, &length) == 0
        }
    }
    guard bound else { throw TestServerError.startFailed("could not bind a probe socket") }
    return Int(UInt16(bigEndian: address.sin_port))
}
