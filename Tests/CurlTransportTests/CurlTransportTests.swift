// CurlTransport against real HTTP servers on 127.0.0.1 (and the local moto server, see TestSupport's LocalServer).
import CurlTransport
import Foundation
import TestSupport
import Testing
import ZlibSupport

/// The request headers the echo server saw, in order, as (name, value) pairs.
private func echoedHeaders(_ response: HTTPResponse) throws -> [[String]] {
    let encoded = try #require(response.header("x-echo-headers"))
    let json = try #require(Data(base64Encoded: encoded))
    return try JSONDecoder().decode([[String]].self, from: json)
}

private func echoedHeader(_ headers: [[String]], _ name: String) -> [String] {
    headers.filter { $0[0].lowercased() == name }.map { $0[1] }
}

/// The error `send` threw, or nil when it answered.
private func sendError(_ transport: CurlTransport, _ request: HTTPRequest) async -> TransportError? {
    do {
        _ = try await transport.send(request)
        return nil
    } catch {
        return error
    }
}

private func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
}

@Suite struct CurlTransportTests {
    @Test func fiveMegabyteBodyRoundTripsWithoutExpectContinue() async throws {
        let server = try TestHTTPServer()
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let body = randomBytes(5 * 1024 * 1024)
        let response = try await transport.send(
            HTTPRequest(
                method: "POST", url: server.url("/echo"),
                headers: [(name: "X-Test", value: "abc"), (name: "Content-Type", value: "application/octet-stream")],
                body: body))
        #expect(response.status == 200)
        #expect(response.body == body)
        #expect(response.header("x-echo-method") == "POST")
        #expect(response.headers.allSatisfy { $0.name == $0.name.lowercased() })
        let sent = try echoedHeaders(response)
        #expect(echoedHeader(sent, "expect") == [])
        #expect(echoedHeader(sent, "x-test") == ["abc"])
        #expect(echoedHeader(sent, "content-type") == ["application/octet-stream"])
        #expect(echoedHeader(sent, "content-length") == ["5242880"])
        #expect(try await server.stats().requests == 1)
    }

    @Test func methodsAndEmptyBodiesAreSentAsGiven() async throws {
        let server = try TestHTTPServer()
        let transport = CurlTransport()
        defer { transport.shutdown() }

        let get = try await transport.send(HTTPRequest(method: "GET", url: server.url("/echo"), headers: [], body: []))
        #expect(get.header("x-echo-method") == "GET")
        #expect(get.body == [])
        #expect(echoedHeader(try echoedHeaders(get), "content-type") == [])

        let put = try await transport.send(
            HTTPRequest(
                method: "PUT", url: server.url("/echo"), headers: [(name: "X-Empty", value: "")], body: Array("put body".utf8)))
        #expect(put.header("x-echo-method") == "PUT")
        #expect(put.body == Array("put body".utf8))
        let putHeaders = try echoedHeaders(put)
        // No form content type invented by libcurl; an empty header value is still sent.
        #expect(echoedHeader(putHeaders, "content-type") == [])
        #expect(echoedHeader(putHeaders, "x-empty") == [""])

        let emptyPost = try await transport.send(HTTPRequest(method: "POST", url: server.url("/echo"), headers: [], body: []))
        #expect(emptyPost.header("x-echo-method") == "POST")
        #expect(echoedHeader(try echoedHeaders(emptyPost), "content-length") == ["0"])

        let delete = try await transport.send(HTTPRequest(method: "DELETE", url: server.url("/echo"), headers: [], body: []))
        #expect(delete.header("x-echo-method") == "DELETE")
    }

    @Test func httpErrorStatusesAreAnswersNotErrors() async throws {
        let server = try TestHTTPServer()
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let response = try await transport.send(HTTPRequest(method: "GET", url: server.url("/status?code=503"), headers: [], body: []))
        #expect(response.status == 503)
        #expect(response.body == Array("status 503".utf8))
    }

    @Test func twoHundredConcurrentRequestsAllComeBackRight() async throws {
        let server = try TestHTTPServer()
        var configuration = CurlTransportConfiguration()
        configuration.maxConcurrentRequests = 16
        let transport = CurlTransport(configuration: configuration)
        defer { transport.shutdown() }
        let url = server.url("/echo")
        let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<200 {
                group.addTask {
                    let body = Array("request \(index) ".utf8) + [UInt8](repeating: UInt8(index % 256), count: index * 100)
                    let response = try await transport.send(HTTPRequest(method: "POST", url: url, headers: [], body: body))
                    return response.status == 200 && response.body == body ? 0 : 1
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(mismatches == 0)
        let stats = try await server.stats()
        #expect(stats.requests == 200)
        #expect(stats.max_in_flight <= 16)
        #expect(stats.connections <= 16)
    }

    @Test func sequentialRequestsReuseOneConnection() async throws {
        let server = try TestHTTPServer()
        let transport = CurlTransport()
        defer { transport.shutdown() }
        for index in 0..<20 {
            let body = Array("call \(index)".utf8)
            let response = try await transport.send(HTTPRequest(method: "POST", url: server.url("/echo"), headers: [], body: body))
            #expect(response.body == body)
        }
        #expect(try await server.stats() == .init(connections: 1, requests: 20, in_flight: 0, max_in_flight: 1))
    }

    @Test func closedPortIsConnectFailed() async throws {
        let url = "http://127.0.0.1:\(try closedPort())/"
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let error = await sendError(transport, HTTPRequest(method: "GET", url: url, headers: [], body: []))
        guard case .connectFailed(let failedURL, let reason) = error else {
            Issue.record("expected connectFailed, got \(String(describing: error))")
            return
        }
        #expect(failedURL == url)
        #expect(!reason.isEmpty)
    }

    @Test func slowAnswerIsTimedOut() async throws {
        let server = try TestHTTPServer()
        var configuration = CurlTransportConfiguration()
        configuration.requestTimeout = .milliseconds(300)
        let transport = CurlTransport(configuration: configuration)
        defer { transport.shutdown() }
        let url = server.url("/slow?ms=5000")
        let error = await sendError(transport, HTTPRequest(method: "GET", url: url, headers: [], body: []))
        #expect(error == .timedOut(url: url, after: .milliseconds(300)))
    }

    /// A request's own timeout replaces the transport's, for that request only.
    @Test func aRequestsOwnTimeout() async throws {
        let server = try TestHTTPServer()
        let transport = CurlTransport()  // 30 s by default
        defer { transport.shutdown() }
        let url = server.url("/slow?ms=5000")
        let error = await sendError(transport, HTTPRequest(method: "GET", url: url, headers: [], body: [], timeout: .milliseconds(300)))
        #expect(error == .timedOut(url: url, after: .milliseconds(300)))
        let answer = try await transport.send(HTTPRequest(method: "GET", url: server.url("/slow?ms=500"), headers: [], body: []))
        #expect(answer.body == Array("slow".utf8), "the next request has the transport's timeout again")
    }

    @Test func checksumIsVerified() async throws {
        let server = try TestHTTPServer()
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let good = try await transport.send(HTTPRequest(method: "GET", url: server.url("/crc?good=1"), headers: [], body: []))
        #expect(good.body == Array("hello".utf8))
        #expect(good.header("x-amz-crc32") == String(CRC32.checksum(Array("hello".utf8))))

        let badURL = server.url("/crc?good=0")
        let actual = CRC32.checksum(Array("hello".utf8))
        let error = await sendError(transport, HTTPRequest(method: "GET", url: badURL, headers: [], body: []))
        #expect(error == .checksumMismatch(url: badURL, expected: actual ^ 1, actual: actual))
    }

    @Test func checksumIsNotVerifiedWhenSwitchedOff() async throws {
        let server = try TestHTTPServer()
        var configuration = CurlTransportConfiguration()
        configuration.crc32Header = nil
        let transport = CurlTransport(configuration: configuration)
        defer { transport.shutdown() }
        let response = try await transport.send(HTTPRequest(method: "GET", url: server.url("/crc?good=0"), headers: [], body: []))
        #expect(response.body == Array("hello".utf8))
    }

    @Test(arguments: ["/reset?rst=0", "/reset?rst=1"])
    func closedWithoutAnswerIsConnectionReset(path: String) async throws {
        let server = try TestHTTPServer()
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let url = server.url(path)
        let error = await sendError(transport, HTTPRequest(method: "POST", url: url, headers: [], body: Array("x".utf8)))
        guard case .connectionReset(let failedURL, _) = error else {
            Issue.record("expected connectionReset, got \(String(describing: error))")
            return
        }
        #expect(failedURL == url)
        // The transport keeps working after a broken connection.
        let after = try await transport.send(HTTPRequest(method: "GET", url: server.url("/echo"), headers: [], body: []))
        #expect(after.status == 200)
    }

    @Test func shutdownFailsRunningAndQueuedCalls() async throws {
        let server = try TestHTTPServer()
        var configuration = CurlTransportConfiguration()
        configuration.maxConcurrentRequests = 1
        let transport = CurlTransport(configuration: configuration)
        let slow = HTTPRequest(method: "GET", url: server.url("/slow?ms=20000"), headers: [], body: [])
        let running = Task { await sendError(transport, slow) }
        try await server.waitForInFlight(1)
        let queued = (0..<3).map { _ in Task { await sendError(transport, slow) } }
        transport.shutdown()
        #expect(await running.value == .shutDown)
        for task in queued { #expect(await task.value == .shutDown) }
        #expect(await sendError(transport, slow) == .shutDown)
        transport.shutdown()  // a second call does nothing
        #expect(try await server.stats().requests == 1)
    }

    @Test func cancellingARunningCallAbortsItsTransfer() async throws {
        let server = try TestHTTPServer()
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let url = server.url("/slow?ms=20000")
        let task = Task { await sendError(transport, HTTPRequest(method: "GET", url: url, headers: [], body: [])) }
        try await server.waitForInFlight(1)
        task.cancel()
        let error = await task.value
        #expect(error == .cancelled(url: url))
        #expect(error?.isCancellation == true)
        let after = try await transport.send(HTTPRequest(method: "GET", url: server.url("/echo"), headers: [], body: []))
        #expect(after.status == 200)
    }

    @Test func cancellingAQueuedCallTakesItOutOfTheQueue() async throws {
        let server = try TestHTTPServer()
        var configuration = CurlTransportConfiguration()
        configuration.maxConcurrentRequests = 1
        let transport = CurlTransport(configuration: configuration)
        defer { transport.shutdown() }
        let slowURL = server.url("/slow?ms=20000")
        let running = Task { await sendError(transport, HTTPRequest(method: "GET", url: slowURL, headers: [], body: [])) }
        try await server.waitForInFlight(1)
        let queuedURL = server.url("/echo")
        let queued = Task { await sendError(transport, HTTPRequest(method: "GET", url: queuedURL, headers: [], body: [])) }
        queued.cancel()
        #expect(await queued.value == .cancelled(url: queuedURL))
        running.cancel()
        #expect(await running.value == .cancelled(url: slowURL))
        // Only the slow call ever reached the server.
        #expect(try await server.stats().requests == 1)
    }

    @Test func callFromAnAlreadyCancelledTaskNeverStarts() async throws {
        let server = try TestHTTPServer()
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let url = server.url("/echo")
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await sendError(transport, HTTPRequest(method: "GET", url: url, headers: [], body: []))
        }
        #expect(await task.value == .cancelled(url: url))
        #expect(try await server.stats().requests == 0)
    }

    @Test func releasingTheTransportStopsItsThread() async throws {
        let server = try TestHTTPServer()
        var transport: CurlTransport? = CurlTransport()
        let response = try await transport?.send(HTTPRequest(method: "GET", url: server.url("/echo"), headers: [], body: []))
        #expect(response?.status == 200)
        transport = nil  // deinit shuts the thread down and must not hang or crash
        #expect(transport == nil)
    }

    @Test(needsLocalServer) func listTablesAgainstMoto() async throws {
        let endpoint = localEndpoint
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let response = try await transport.send(
            HTTPRequest(
                method: "POST", url: endpoint,
                headers: [
                    (name: "X-Amz-Target", value: "DynamoDB_20120810.ListTables"),
                    (name: "Content-Type", value: "application/x-amz-json-1.0"),
                    (
                        name: "Authorization",
                        value: "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00"
                    ),
                ],
                body: Array("{}".utf8)))
        #expect(response.status == 200)
        // moto always sends x-amz-crc32; the transport checked it before returning.
        #expect(response.header("x-amz-crc32") == String(CRC32.checksum(response.body)))
        let json = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        #expect(json?["TableNames"] is [Any])
    }
}
