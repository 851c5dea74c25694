import Foundation

// FaultProxy: an HTTP/1.1 proxy between a client and moto that injects the failures moto never produces.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure the proxy injects into one request.
public enum Fault: Sendable, Hashable, CustomStringConvertible {
    /// Answers with this HTTP status (500, 502, 503, 504…) without forwarding; the body is a
    /// DynamoDB-style JSON error (with `x-amz-crc32`) unless `plainBody`, then plain text.
    case httpStatus(Int, plainBody: Bool = false)
    /// Answers `{"__type":"com.amazonaws.dynamodb.v20120810#<type>","message":…}` with this status
    /// and a correct `x-amz-crc32`, without forwarding.
    case dynamoError(type: String, status: Int = 400)
    /// Resets the client connection (TCP RST) without forwarding: the server never sees the request.
    case resetBeforeForwarding
    /// Forwards the request (the server applies it), then resets the client connection without answering.
    case resetAfterForwarding
    /// Forwards, then flips one byte in the middle of the response body, keeping the original `x-amz-crc32`.
    case corruptBody
    /// BatchWriteItem only: forwards the first part of each table's write requests and answers the
    /// rest as `UnprocessedItems`. A table with n requests has ⌊n·fraction⌋ of them held back, but
    /// at least one when n ≥ 2 and fraction > 0. When nothing is left to forward, answers 200 with
    /// every request unprocessed, without forwarding.
    case unprocessedItems(fraction: Double)
    /// Waits this long, then forwards normally.
    case delay(Duration)
    /// Forwards, then answers with the upstream's JSON object where the member `member` is set to
    /// `json` (JSON text), or removed when `json` is nil. `member` is a top-level name or a dotted path
    /// into nested objects (`"Table.SSEDescription"`; objects on the way are made when missing).
    /// The `x-amz-crc32` is recomputed, so
    /// the client sees a well-formed answer from a misbehaving endpoint. Error answers pass unchanged.
    case rewriteMember(String, json: String?)
    /// Answers an S3 request with S3's XML error (`<Error><Code>…`) without forwarding it; `region`
    /// adds `x-amz-bucket-region` and `<Region>` (a wrong-region answer).
    case s3Error(code: String, status: Int, region: String? = nil)

    public var kind: FaultKind {
        switch self {
        case .httpStatus: return .httpStatus
        case .dynamoError: return .dynamoError
        case .resetBeforeForwarding: return .resetBeforeForwarding
        case .resetAfterForwarding: return .resetAfterForwarding
        case .corruptBody: return .corruptBody
        case .unprocessedItems: return .unprocessedItems
        case .delay: return .delay
        case .rewriteMember: return .rewriteMember
        case .s3Error: return .s3Error
        }
    }

    public var description: String {
        switch self {
        case .httpStatus(let status, let plain): return "HTTP \(status)\(plain ? " (plain body)" : "")"
        case .dynamoError(let type, let status): return "\(type) (HTTP \(status))"
        case .resetBeforeForwarding: return "reset before forwarding"
        case .resetAfterForwarding: return "reset after forwarding"
        case .corruptBody: return "corrupt body"
        case .unprocessedItems(let fraction): return "unprocessed items (fraction \(fraction))"
        case .delay(let duration): return "delay \(duration)"
        case .rewriteMember(let member, let json?): return "set \(member) to \(json)"
        case .rewriteMember(let member, nil): return "drop \(member)"
        case .s3Error(let code, let status, let region): return "S3 \(code) (HTTP \(status))\(region.map { " naming region \($0)" } ?? "")"
        }
    }
}

/// The kinds of ``Fault``, for counting.
public enum FaultKind: String, Sendable, Hashable, CaseIterable {
    case httpStatus, dynamoError, resetBeforeForwarding, resetAfterForwarding, corruptBody, unprocessedItems, delay
    case rewriteMember, s3Error
}

/// What the proxy did with one request.
public struct FaultProxyLogEntry: Sendable, Hashable {
    /// The operation from `X-Amz-Target` (e.g. "PutItem"); nil for requests without one.
    public var operation: String?
    /// The fault applied, if any.
    public var fault: Fault?
    /// Whether the request was written in full to the upstream server.
    public var forwarded: Bool
    /// The upstream server's HTTP status, when it answered.
    public var upstreamStatus: Int?
    /// For `unprocessedItems`: how many write requests were held back and answered as unprocessed.
    public var heldBackRequests: Int

    public init(operation: String?, fault: Fault?, forwarded: Bool, upstreamStatus: Int?, heldBackRequests: Int = 0) {
        self.operation = operation
        self.fault = fault
        self.forwarded = forwarded
        self.upstreamStatus = upstreamStatus
        self.heldBackRequests = heldBackRequests
    }
}

/// One DynamoDB request as a client sent it to the proxy (before any fault), kept by
/// ``FaultProxy/startRecording(maxRequests:maxBytes:)``.
public struct RecordedRequest: Sendable, Hashable {
    /// The `X-Amz-Target` header, e.g. "DynamoDB_20120810.PutItem".
    public var target: String
    /// The `Content-Type` header, when present.
    public var contentType: String?
    /// The request body as sent.
    public var body: [UInt8]

    public init(target: String, contentType: String?, body: [UInt8]) {
        self.target = target
        self.contentType = contentType
        self.body = body
    }

    /// One JSON line: `{"target":…,"contentType":…,"body":"<base64>"}` (the body in base64, so that any
    /// bytes survive, not only valid UTF-8).
    public var jsonLine: String {
        var object: [String: String] = ["target": target, "body": Data(body).base64EncodedString()]
        object["contentType"] = contentType
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

/// Running totals since the proxy started (or since ``FaultProxy/clearLog()``).
public struct FaultProxyCounters: Sendable, Hashable {
    /// Client connections accepted.
    public var connectionsAccepted = 0
    /// Requests read from clients.
    public var requestsSeen = 0
    /// Requests written to the upstream server.
    public var forwarded = 0
    /// Faults applied, by kind (kinds never applied are absent).
    public var faultsApplied: [FaultKind: Int] = [:]

    public init() {}

    /// How many faults of `kind` were applied.
    public func applied(_ kind: FaultKind) -> Int { faultsApplied[kind] ?? 0 }
}

/// A real HTTP/1.1 proxy on 127.0.0.1 in front of `upstream`, injecting configured faults.
///
/// Each accepted client connection gets its own thread and may carry many requests (keep-alive);
/// each request goes to the upstream on a fresh connection. Rules are tried in the order they were
/// added; the first that matches a request applies its fault. Rules only match DynamoDB requests
/// (those with an `X-Amz-Target`), so `/moto-api/` calls through the proxy are never faulted.
/// Call ``stop()`` when done: the proxy's threads keep it alive until then.
public final class FaultProxy: Sendable {
    /// `http://127.0.0.1:PORT`, where clients should send their requests.
    public let endpoint: String
    /// The server requests are forwarded to.
    public let upstream: String

    private let upstreamHost: String
    private let upstreamPort: UInt16
    private let listenFD: Int32
    private let listenPort: UInt16
    private let state = Locked(State())
    private let acceptLoopFinished = DispatchSemaphore(value: 0)

    private struct State {
        var rules: [Rule] = []
        var log: [FaultProxyLogEntry] = []
        var counters = FaultProxyCounters()
        var clients: Set<Int32> = []
        var stopped = false
        var responsesMade = 0
        var recording: Recording?
    }

    /// Requests kept since ``startRecording(maxRequests:maxBytes:)``, within its bounds.
    private struct Recording {
        let maxRequests: Int
        let maxBytes: Int
        var requests: [RecordedRequest] = []
        var bytes = 0
        var dropped = 0

        mutating func add(_ request: RecordedRequest) {
            guard requests.count < maxRequests, bytes + request.body.count <= maxBytes else {
                dropped += 1
                return
            }
            requests.append(request)
            bytes += request.body.count
        }
    }

    private struct Rule {
        let fault: Fault
        let operation: String?
        var remaining: Int?
        let probability: Double
        var random: SeededRandom

        /// Whether this rule applies to a request for `requestOperation`; consumes a use or a draw.
        mutating func take(_ requestOperation: String?, isS3: Bool) -> Bool {
            guard let requestOperation else { return false }
            // A rule without an operation is for DynamoDB requests; S3 requests are matched by name only.
            if isS3 && operation == nil { return false }
            if case .unprocessedItems = fault, requestOperation != "BatchWriteItem" { return false }
            if let operation, operation != requestOperation { return false }
            if let left = remaining {
                guard left > 0 else { return false }
                remaining = left - 1
                return true
            }
            return random.nextUnitInterval() < probability
        }
    }

    /// Starts listening on an ephemeral port of 127.0.0.1, forwarding to `upstream` (`http://host:port`).
    public init(upstream: String) throws(RawSocketError) {
        (upstreamHost, upstreamPort) = try Sockets.parseEndpoint(upstream)
        self.upstream = upstream
        (listenFD, listenPort) = try Sockets.listenLoopback()
        endpoint = "http://127.0.0.1:\(listenPort)"
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    // MARK: Configuration

    /// Applies `fault` to the next `times` requests for `operation` (any DynamoDB operation when nil).
    public func inject(_ fault: Fault, operation: String? = nil, times: Int) {
        state.withLock {
            $0.rules.append(
                Rule(
                    fault: fault, operation: operation, remaining: max(0, times), probability: 0,
                    random: SeededRandom(seed: 0)))
        }
    }

    /// Applies `fault` to each request for `operation` (any DynamoDB operation when nil) with
    /// probability `probability`, drawn from a ``SeededRandom`` seeded with `seed`: the same
    /// sequence of matching requests gets the same faults on every run.
    public func inject(_ fault: Fault, operation: String? = nil, probability: Double, seed: UInt64) {
        state.withLock {
            $0.rules.append(
                Rule(
                    fault: fault, operation: operation, remaining: nil, probability: probability,
                    random: SeededRandom(seed: seed)))
        }
    }

    /// Removes every rule; later requests pass through untouched.
    public func clearFaults() {
        state.withLock { $0.rules.removeAll() }
    }

    /// Empties the log and zeroes the counters.
    public func clearLog() {
        state.withLock {
            $0.log.removeAll()
            $0.counters = FaultProxyCounters()
        }
    }

    /// Starts keeping every DynamoDB request (those with an `X-Amz-Target`) as the client sent it, in
    /// order of arrival, up to `maxRequests` requests and `maxBytes` bytes of bodies; requests past
    /// either bound are counted in ``recordingDropped`` instead (so a test can insist on none).
    /// Calling it again starts a new recording.
    public func startRecording(maxRequests: Int = 100_000, maxBytes: Int = 256 << 20) {
        state.withLock { $0.recording = Recording(maxRequests: maxRequests, maxBytes: maxBytes) }
    }

    /// The requests recorded so far (empty when not recording).
    public var recordedRequests: [RecordedRequest] { state.withLock { $0.recording?.requests ?? [] } }

    /// Requests not recorded because the recording's bounds were reached.
    public var recordingDropped: Int { state.withLock { $0.recording?.dropped ?? 0 } }

    /// Writes the recorded requests to `url` as JSON lines (``RecordedRequest/jsonLine``).
    public func writeRecordedRequests(to url: URL) throws {
        let text = recordedRequests.map { $0.jsonLine + "\n" }.joined()
        try Data(text.utf8).write(to: url)
    }

    /// One entry per completed request, in order of completion.
    public var log: [FaultProxyLogEntry] { state.withLock { $0.log } }

    /// Totals since start or since ``clearLog()``.
    public var counters: FaultProxyCounters { state.withLock { $0.counters } }

    /// Stops accepting, closes every client connection, and waits for the listener to finish.
    /// Requests already being forwarded may still reach the upstream. Safe to call twice.
    public func stop() {
        let first = state.withLock { state -> Bool in
            guard !state.stopped else { return false }
            state.stopped = true
            // Under the lock, so that no client thread closes (and the system reuses) a descriptor meanwhile.
            for fd in state.clients { shutdown(fd, Int32(SHUT_RDWR)) }
            return true
        }
        guard first else { return }
        shutdown(listenFD, Int32(SHUT_RDWR))
        // Wakes accept() where shutting down a listening socket does not.
        if let fd = try? Sockets.connect(host: "127.0.0.1", port: listenPort) { close(fd) }
        acceptLoopFinished.wait()
    }

    // MARK: Connections

    private func acceptLoop() {
        defer {
            close(listenFD)
            acceptLoopFinished.signal()
        }
        while true {
            let fd = accept(listenFD, nil, nil)
            let accepted = state.withLock { state -> Bool in
                if state.stopped { return false }
                if fd >= 0 {
                    state.clients.insert(fd)
                    state.counters.connectionsAccepted += 1
                }
                return true
            }
            guard accepted else {
                if fd >= 0 { close(fd) }
                return
            }
            if fd < 0 {
                usleep(1000)  // e.g. ECONNABORTED or EMFILE: try again shortly
                continue
            }
            Sockets.configure(fd)
            Thread.detachNewThread { [self] in serve(fd) }
        }
    }

    private enum Ending { case close, reset }

    /// Serves requests from one client connection until it closes or a fault ends it.
    private func serve(_ fd: Int32) {
        let stream = HTTPStream(fd: fd)
        var ending = Ending.close
        defer {
            state.withLock {
                $0.clients.remove(fd)
                if ending == .reset { Sockets.closeWithReset(fd) } else { close(fd) }
            }
        }
        while true {
            let request: RawHTTPRequest
            do {
                guard
                    let next = try stream.readRequest(beforeBody: { headers throws(RawSocketError) in
                        if headers["Expect"]?.lowercased() == "100-continue" {
                            try Sockets.writeAll(fd, Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
                        }
                    })
                else { return }
                request = next
            } catch .malformedMessage(let why) {
                let answer = RawHTTPResponse(
                    status: 400, headers: RawHTTPHeaders([("Content-Type", "text/plain")]),
                    body: Array("fault proxy: \(why)\n".utf8))
                try? Sockets.writeAll(fd, answer.serialized(closing: true))
                return
            } catch {
                return
            }
            let keepAlive = Self.wantsKeepAlive(request)
            switch handle(request) {
            case .respond(let response):
                do { try Sockets.writeAll(fd, response.serialized(closing: !keepAlive)) } catch { return }
                if !keepAlive { return }
            case .reset:
                ending = .reset
                return
            }
        }
    }

    private static func wantsKeepAlive(_ request: RawHTTPRequest) -> Bool {
        let connection = request.headers["Connection"]?.lowercased() ?? ""
        if request.version == "HTTP/1.0" { return connection.contains("keep-alive") }
        return !connection.contains("close")
    }

    // MARK: Requests

    private enum Outcome {
        case respond(RawHTTPResponse)
        case reset
    }

    private func handle(_ request: RawHTTPRequest) -> Outcome {
        let dynamoOperation = request.headers["X-Amz-Target"].flatMap { target -> String? in
            guard let dot = target.lastIndex(of: ".") else { return target }
            return String(target[target.index(after: dot)...])
        }
        let s3Operation = dynamoOperation == nil ? Self.s3Operation(request) : nil
        let operation = dynamoOperation ?? s3Operation
        let fault = state.withLock { state -> Fault? in
            state.counters.requestsSeen += 1
            if let target = request.headers["X-Amz-Target"] {
                state.recording?.add(
                    RecordedRequest(
                        target: target, contentType: request.headers["Content-Type"],
                        body: request.body))
            }
            for index in state.rules.indices where state.rules[index].take(operation, isS3: s3Operation != nil) {
                let fault = state.rules[index].fault
                state.counters.faultsApplied[fault.kind, default: 0] += 1
                return fault
            }
            return nil
        }
        var entry = FaultProxyLogEntry(operation: operation, fault: fault, forwarded: false, upstreamStatus: nil)
        let outcome: Outcome
        if s3Operation != nil, case .httpStatus(let status, false)? = fault {
            // An S3 client reads XML errors: 503 is S3's SlowDown, other statuses its InternalError.
            outcome = .respond(s3ErrorResponse(code: status == 503 ? "SlowDown" : "InternalError", status: status, region: nil))
        } else {
            outcome = apply(fault, to: request, entry: &entry)
        }
        state.withLock {
            $0.log.append(entry)
            if entry.forwarded { $0.counters.forwarded += 1 }
        }
        return outcome
    }

    private func apply(_ fault: Fault?, to request: RawHTTPRequest, entry: inout FaultProxyLogEntry) -> Outcome {
        switch fault {
        case nil:
            return .respond(forwardOrBadGateway(request, entry: &entry))
        case .httpStatus(let status, let plainBody)?:
            if plainBody {
                return .respond(
                    RawHTTPResponse(
                        status: status, headers: RawHTTPHeaders([("Content-Type", "text/plain")]),
                        body: Array("\(RawHTTPResponse.reasonPhrase(status)) (injected by FaultProxy)\n".utf8)))
            }
            let type = status == 503 ? "ServiceUnavailable" : "InternalServerError"
            return .respond(dynamoErrorResponse(type: type, status: status))
        case .dynamoError(let type, let status)?:
            return .respond(dynamoErrorResponse(type: type, status: status))
        case .resetBeforeForwarding?:
            return .reset
        case .resetAfterForwarding?:
            _ = forwardOrBadGateway(request, entry: &entry)
            return .reset
        case .corruptBody?:
            var response = forwardOrBadGateway(request, entry: &entry)
            if !response.body.isEmpty {
                response.body[response.body.count / 2] ^= 0x01
            }
            return .respond(response)
        case .unprocessedItems(let fraction)?:
            return .respond(forwardWithUnprocessedItems(request, fraction: fraction, entry: &entry))
        case .delay(let duration)?:
            let (seconds, attoseconds) = duration.components
            Thread.sleep(forTimeInterval: Double(seconds) + Double(attoseconds) * 1e-18)
            return .respond(forwardOrBadGateway(request, entry: &entry))
        case .s3Error(let code, let status, let region)?:
            return .respond(s3ErrorResponse(code: code, status: status, region: region))
        case .rewriteMember(let member, let json)?:
            var plain = request
            plain.headers.remove("Accept-Encoding")  // the answer must be readable JSON
            var response = forwardOrBadGateway(plain, entry: &entry)
            guard response.status == 200,
                var object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
            else {
                return .respond(response)
            }
            let value = json.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8), options: .fragmentsAllowed) }
            Self.set(value, at: member.split(separator: ".").map(String.init)[...], in: &object)
            guard let body = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else {
                return .respond(response)
            }
            response.body = Array(body)
            response.headers.set("x-amz-crc32", String(TestCRC32.checksum(response.body)))
            return .respond(response)
        }
    }

    /// Sets (or removes, for nil) the member at `path` of `object`, making objects on the way.
    private static func set(_ value: Any?, at path: ArraySlice<String>, in object: inout [String: Any]) {
        guard let first = path.first else { return }
        if path.count == 1 { object[first] = value; return }
        var inner = object[first] as? [String: Any] ?? [:]
        set(value, at: path.dropFirst(), in: &inner)
        object[first] = inner
    }

    private func forwardWithUnprocessedItems(
        _ request: RawHTTPRequest, fraction: Double,
        entry: inout FaultProxyLogEntry
    ) -> RawHTTPResponse {
        guard let split = BatchWriteSplit(body: request.body, fraction: fraction) else {
            return forwardOrBadGateway(request, entry: &entry)  // not a BatchWriteItem body we understand
        }
        entry.heldBackRequests = split.heldBackCount
        guard let forwardBody = split.forwardBody else {
            return jsonResponse(status: 200, body: split.unprocessedOnlyAnswer())
        }
        var trimmed = request
        trimmed.body = forwardBody
        trimmed.headers.remove("Accept-Encoding")  // the answer must be readable JSON
        let response = forwardOrBadGateway(trimmed, entry: &entry)
        guard response.status == 200, let merged = split.merge(intoAnswer: response.body) else {
            entry.heldBackRequests = 0  // the whole request failed or the answer was unreadable: pass it on
            return response
        }
        var answer = response
        answer.body = merged
        answer.headers.set("x-amz-crc32", String(TestCRC32.checksum(merged)))
        return answer
    }

    /// The S3 operation of a request without `X-Amz-Target` (S3 on the same server), from its method,
    /// path and sub-resources: `UploadPart`, `CompleteMultipartUpload`, `PutObject`, `ListObjectsV2`, ...
    static func s3Operation(_ request: RawHTTPRequest) -> String? {
        let authorization = request.headers["Authorization"] ?? ""
        guard authorization.contains("/s3/aws4_request") else { return nil }
        let parts = request.target.split(separator: "?", maxSplits: 1)
        let path = parts.first.map(String.init) ?? "/"
        let names = Set((parts.count > 1 ? parts[1] : "").split(separator: "&").map { String($0.split(separator: "=", maxSplits: 1)[0]) })
        let hasKey = path.split(separator: "/", omittingEmptySubsequences: true).count > 1
        switch request.method {
        case "PUT":
            if names.contains("partNumber") { return "UploadPart" }
            return hasKey ? "PutObject" : "CreateBucket"
        case "POST":
            if names.contains("uploads") { return "CreateMultipartUpload" }
            if names.contains("uploadId") { return "CompleteMultipartUpload" }
            if names.contains("delete") { return "DeleteObjects" }
            return "S3Post"
        case "DELETE":
            if names.contains("uploadId") { return "AbortMultipartUpload" }
            return hasKey ? "DeleteObject" : "DeleteBucket"
        case "HEAD": return hasKey ? "HeadObject" : "HeadBucket"
        case "GET":
            if names.contains("uploads") { return "ListMultipartUploads" }
            if hasKey { return "GetObject" }
            return names.contains("list-type") ? "ListObjectsV2" : "ListObjects"
        default: return "S3\(request.method)"
        }
    }

    private func s3ErrorResponse(code: String, status: Int, region: String?) -> RawHTTPResponse {
        var headers: [(String, String)] = [("Content-Type", "application/xml"), ("x-amz-request-id", "FAULTPROXY")]
        if let region { headers.append(("x-amz-bucket-region", region)) }
        let body =
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>\(code)</Code><Message>\(code) injected by FaultProxy</Message>"
            + (region.map { "<Region>\($0)</Region>" } ?? "") + "<RequestId>FAULTPROXY</RequestId></Error>"
        return RawHTTPResponse(status: status, headers: RawHTTPHeaders(headers), body: Array(body.utf8))
    }

    private func dynamoErrorResponse(type: String, status: Int) -> RawHTTPResponse {
        let message = "\(type) injected by FaultProxy"
        return jsonResponse(
            status: status,
            body: Array(#"{"__type":"com.amazonaws.dynamodb.v20120810#\#(type)","message":"\#(message)"}"#.utf8))
    }

    private func jsonResponse(status: Int, body: [UInt8]) -> RawHTTPResponse {
        let number = state.withLock { state -> Int in
            state.responsesMade += 1
            return state.responsesMade
        }
        return RawHTTPResponse(
            status: status,
            headers: RawHTTPHeaders([
                ("Content-Type", "application/x-amz-json-1.0"),
                ("x-amzn-RequestId", "FAULTPROXY\(number)"),
                ("x-amz-crc32", String(TestCRC32.checksum(body))),
            ]), body: body)
    }

    /// Forwards `request`; an unreachable or broken upstream becomes a plain 502.
    private func forwardOrBadGateway(_ request: RawHTTPRequest, entry: inout FaultProxyLogEntry) -> RawHTTPResponse {
        do {
            let response = try forward(request, forwarded: &entry.forwarded)
            entry.upstreamStatus = response.status
            return response
        } catch {
            return RawHTTPResponse(
                status: 502, headers: RawHTTPHeaders([("Content-Type", "text/plain")]),
                body: Array("fault proxy: upstream \(upstream) failed: \(error)\n".utf8))
        }
    }

    /// Sends `request` to the upstream on a fresh connection and reads the whole answer.
    private func forward(_ request: RawHTTPRequest, forwarded: inout Bool) throws(RawSocketError) -> RawHTTPResponse {
        let fd = try Sockets.connect(host: upstreamHost, port: upstreamPort, receiveTimeout: 600)
        defer { close(fd) }
        var target = request.target
        if target.lowercased().hasPrefix("http://"),  // absolute-form: keep only the path
            let slash = target.dropFirst(7).firstIndex(of: "/")
        {
            target = String(target[slash...])
        }
        var headers = request.headers
        for name in ["Connection", "Keep-Alive", "Proxy-Connection", "Expect", "Transfer-Encoding"] { headers.remove(name) }
        headers.set("Content-Length", String(request.body.count))
        headers.append("Connection", "close")
        var head = "\(request.method) \(target) HTTP/1.1\r\n"
        for field in headers { head += "\(field.name): \(field.value)\r\n" }
        head += "\r\n"
        try Sockets.writeAll(fd, Array(head.utf8) + request.body)
        forwarded = true
        return try HTTPStream(fd: fd).readResponse(requestMethod: request.method)
    }
}

/// A value behind a lock.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
