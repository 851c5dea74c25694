import TestSupport
// The fault proxy against scripted upstreams: HTTP framing, keep-alive and upstream failures, without moto.
import Testing

@Suite struct FaultProxyLocalTests {
    @Test func chunkedAndCloseDelimitedUpstreamAnswersReachTheClientWithContentLength() throws {
        let upstream = try CannedHTTPServer(textResponses: [
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Test: one\r\nConnection: close\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n",
            "HTTP/1.1 404 Not Found\r\nX-Test: two\r\nConnection: close\r\n\r\nclose-delimited body",
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabcIGNORED",
        ])
        defer { upstream.stop() }
        let proxy = try FaultProxy(upstream: upstream.endpoint)
        defer { proxy.stop() }

        let connection = try RawHTTPConnection(endpoint: proxy.endpoint)
        let first = try connection.send(body: Array("x".utf8))
        #expect(first.status == 200)
        #expect(first.bodyText == "hello world")
        #expect(first.headers["Content-Length"] == "11")
        #expect(first.headers["Transfer-Encoding"] == nil)
        #expect(first.headers["Connection"] == nil)
        #expect(first.headers["X-Test"] == "one")

        let second = try connection.send(method: "GET", path: "/missing")
        #expect(second.status == 404)
        #expect(second.reason == "Not Found")
        #expect(second.bodyText == "close-delimited body")
        #expect(second.headers["Content-Length"] == "20")

        let third = try connection.send()
        #expect(third.status == 200)
        #expect(third.bodyText == "abc")
        #expect(connection.isOpen)

        #expect(upstream.connectionsAccepted == 3)
        let counters = proxy.counters
        #expect(counters.connectionsAccepted == 1)
        #expect(counters.requestsSeen == 3)
        #expect(counters.forwarded == 3)
        #expect(counters.faultsApplied.isEmpty)
        #expect(
            proxy.log == [
                FaultProxyLogEntry(operation: nil, fault: nil, forwarded: true, upstreamStatus: 200),
                FaultProxyLogEntry(operation: nil, fault: nil, forwarded: true, upstreamStatus: 404),
                FaultProxyLogEntry(operation: nil, fault: nil, forwarded: true, upstreamStatus: 200),
            ])
    }

    @Test func clientConnectionCloseIsHonoured() throws {
        let upstream = try CannedHTTPServer(textResponses: ["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"])
        defer { upstream.stop() }
        let proxy = try FaultProxy(upstream: upstream.endpoint)
        defer { proxy.stop() }
        let connection = try RawHTTPConnection(endpoint: proxy.endpoint)
        let response = try connection.send(headers: [("Connection", "close")])
        #expect(response.bodyText == "ok")
        #expect(response.headers["Connection"] == "close")
        #expect(!connection.isOpen)
    }

    @Test func rulesOnlyMatchDynamoDBRequests() throws {
        let upstream = try CannedHTTPServer(textResponses: ["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"])
        defer { upstream.stop() }
        let proxy = try FaultProxy(upstream: upstream.endpoint)
        defer { proxy.stop() }
        proxy.inject(.httpStatus(500), times: 1)
        let connection = try RawHTTPConnection(endpoint: proxy.endpoint)
        #expect(try connection.send(method: "POST", path: "/moto-api/reset").status == 200)
        #expect(try connection.send(headers: [("X-Amz-Target", "DynamoDB_20120810.ListTables")]).status == 500)
        #expect(try connection.send(headers: [("X-Amz-Target", "DynamoDB_20120810.ListTables")]).status == 200)
        #expect(proxy.log.map(\.operation) == [nil, "ListTables", "ListTables"])
        #expect(proxy.log.map(\.fault) == [nil, .httpStatus(500), nil])
    }

    @Test func unreachableUpstreamAnswers502() throws {
        let upstream = try CannedHTTPServer(textResponses: ["HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"])
        let deadEndpoint = upstream.endpoint
        upstream.stop()  // nothing listens on its port any more
        let proxy = try FaultProxy(upstream: deadEndpoint)
        defer { proxy.stop() }
        let connection = try RawHTTPConnection(endpoint: proxy.endpoint)
        let response = try connection.send(headers: [("X-Amz-Target", "DynamoDB_20120810.ListTables")])
        #expect(response.status == 502)
        #expect(connection.isOpen)
        #expect(proxy.log == [FaultProxyLogEntry(operation: "ListTables", fault: nil, forwarded: false, upstreamStatus: nil)])
        #expect(proxy.counters.forwarded == 0)
    }

    @Test func rejectsAnUpstreamThatIsNotHTTP() {
        #expect(throws: RawSocketError.invalidEndpoint("https://127.0.0.1:443")) {
            try FaultProxy(upstream: "https://127.0.0.1:443")
        }
        #expect(throws: RawSocketError.invalidEndpoint("127.0.0.1:5000")) {
            try FaultProxy(upstream: "127.0.0.1:5000")
        }
    }

    @Test func stopClosesOpenClientConnections() throws {
        let upstream = try CannedHTTPServer(textResponses: ["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"])
        defer { upstream.stop() }
        let proxy = try FaultProxy(upstream: upstream.endpoint)
        let connection = try RawHTTPConnection(endpoint: proxy.endpoint)
        #expect(try connection.send().bodyText == "ok")
        proxy.stop()
        proxy.stop()
        #expect(throws: RawSocketError.self) { try connection.send() }
        #expect(throws: RawSocketError.self) { try RawHTTPConnection(endpoint: proxy.endpoint).send() }
    }
}
