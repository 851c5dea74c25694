import DynamoClient
import Foundation
import TestSupport
import Testing

/// docs/errors.md and ``ErrorCatalog`` must say the same thing: every row of the page's tables is parsed
/// and compared with the code's classification, both ways.
@Suite struct ErrorCatalogDocsTests {
    /// The rows of the markdown table that follows `heading`, as trimmed cells (header and rule skipped).
    func tableRows(under heading: String) throws -> [[String]] {
        let text = try String(contentsOf: TestEnvironment.packageRoot.appendingPathComponent("docs/errors.md"), encoding: .utf8)
        let lines = text.components(separatedBy: "\n")
        let start = try #require(lines.firstIndex(of: heading), "docs/errors.md has no \(heading)")
        var rows: [[String]] = []
        for line in lines[(start + 1)...] {
            if line.hasPrefix("#") { break }
            guard line.hasPrefix("|") else {
                if rows.isEmpty { continue } else { break }
            }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                .map { $0.trimmingCharacters(in: .whitespaces) }
            rows.append(Array(cells))
        }
        return Array(rows.dropFirst(2))
    }

    @Test func theErrorTypeTableIsTheCatalog() throws {
        let rows = try tableRows(under: "## Error types")
        var documented: [String: String] = [:]
        for row in rows {
            let type = row[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            #expect(documented[type] == nil, "\(type) is listed twice in docs/errors.md")
            documented[type] = row[1]
        }
        let coded = Dictionary(ErrorCatalog.entries.map { ($0.type, $0.retryClass.label) }, uniquingKeysWith: { a, _ in a })
        #expect(ErrorCatalog.entries.count == coded.count, "ErrorCatalog lists a type twice")
        for (type, label) in coded {
            #expect(documented[type] == label, "\(type): ErrorCatalog says \(label), docs/errors.md says \(documented[type] ?? "nothing")")
        }
        for type in documented.keys where coded[type] == nil {
            Issue.record("docs/errors.md lists \(type), which ErrorCatalog does not know")
        }
        #expect(Set(documented.values).isSubset(of: Set(RetryClass.allCases.map(\.label))))
    }

    @Test func theStatusTableIsTheCatalogsStatusRules() throws {
        let rows = try tableRows(under: "## By HTTP status, when the type is unknown or absent")
        let documented = rows.map { "\($0[0]) \($0[1])" }
        let coded = ErrorCatalog.statusRules.map { "\($0.status) \($0.retryClass.label)" }
        #expect(documented.sorted() == coded.sorted())
        for row in rows {
            let status = try #require(Int(row[0]))
            #expect(RetryPolicy.classify(type: "HTTP\(status)", httpStatus: status).label == row[1])
        }
        #expect(RetryPolicy.classify(type: "HTTP404", httpStatus: 404) == .fatal)
    }

    @Test func everyClassIsExplained() throws {
        let rows = try tableRows(under: "## Classes")
        #expect(rows.map { $0[0] }.sorted() == RetryClass.allCases.map(\.label).sorted())
    }

    @Test func theWireTypeIsShortened() {
        #expect(ErrorCatalog.shortType("com.amazonaws.dynamodb.v20120810#ThrottlingException") == "ThrottlingException")
        #expect(ErrorCatalog.shortType("ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.service/") == "ThrottlingException")
        #expect(ErrorCatalog.shortType("com.amazon.coral.service#ExpiredTokenException:http://internal.amazon.com/") == "ExpiredTokenException")
        #expect(ErrorCatalog.shortType("ValidationException") == "ValidationException")
    }
}

/// Error answers the way AWS and what stands in front of it send them, from a real HTTP server: the
/// client reads the type, retries what the catalog says is retried, and stops at once on the rest.
@Suite struct CannedErrorAnswerTests {
    static let tablesAnswer = #"{"TableNames":["t"]}"#

    static func answer(_ status: Int, _ reason: String, headers: [String] = [], body: String = "") -> String {
        var text = "HTTP/1.1 \(status) \(reason)\r\n"
        for header in headers { text += header + "\r\n" }
        text += "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
        return text
    }

    static let success = answer(200, "OK", headers: ["Content-Type: application/x-amz-json-1.0"], body: tablesAnswer)

    static func jsonError(_ type: String, status: Int = 400) -> String {
        answer(
            status, "Bad Request", headers: ["Content-Type: application/x-amz-json-1.0", "x-amzn-RequestId: REQ1"],
            body: #"{"__type":"com.amazonaws.dynamodb.v20120810#\#(type)","message":"\#(type) from the canned server"}"#)
    }

    static func headerOnlyError(_ type: String, status: Int = 400) -> String {
        answer(
            status, "Bad Request",
            headers: [
                "x-amzn-ErrorType: \(type):http://internal.amazon.com/coral/com.amazon.coral.service/",
                "x-amzn-RequestId: REQ2",
            ])
    }

    /// Runs ListTables against canned answers; returns the outcome, the connections made and the waits.
    func listTables(_ answers: [String], maxAttempts: Int = 4) async throws -> (Result<[String], DynamoDBError>, Int, TestClock) {
        let server = try CannedHTTPServer(textResponses: answers)
        defer { server.stop() }
        let clock = TestClock()
        let client = makeClient(endpoint: server.endpoint, retryPolicy: RetryPolicy(maxAttempts: maxAttempts), sleeper: clock)
        let result: Result<[String], DynamoDBError>
        do { result = .success(try await client.listTables()) } catch { result = .failure(error) }
        return (result, server.connectionsAccepted, clock)
    }

    static let bodyAndHeaderCases: [(ErrorCatalogEntry, Bool)] =
        ErrorCatalog.entries.flatMap { [($0, false), ($0, true)] }

    @Test(arguments: bodyAndHeaderCases)
    func eachTypeIsRetriedOrNotAsTheCatalogSays(entry: ErrorCatalogEntry, headerOnly: Bool) async throws {
        let failure = headerOnly ? Self.headerOnlyError(entry.type) : Self.jsonError(entry.type)
        let (result, connections, clock) = try await listTables([failure, Self.success])
        if entry.retryClass.isRetriedByClient {
            #expect(try result.get() == ["t"], "\(entry.type) should be retried")
            #expect(connections == 2)
            #expect(clock.recorded.count == 1)
        } else {
            guard case .failure(let error) = result else { Issue.record("\(entry.type) was retried"); return }
            #expect(error.errorType == entry.type)
            #expect(error.serviceErrorClass == entry.retryClass)
            #expect(error.isTransitional == (entry.retryClass == .waits))
            #expect(error.needsFreshCredentials == (entry.retryClass == .credentials))
            #expect(connections == 1, "\(entry.type) must not be sent again")
            #expect(clock.recorded.isEmpty)
            if let hint = entry.hint { #expect(error.description.hasSuffix(". \(hint)"), "\(error.description)") }
        }
    }

    @Test func aHeaderOnlyTypeIsReadWithItsMessageFromTheBody() async throws {
        let answer = Self.answer(
            400, "Bad Request", headers: ["x-amzn-ErrorType: ValidationException:http://internal.amazon.com/coral/com.amazon.coral.validate/"],
            body: #"{"message":"1 validation error detected"}"#)
        let (result, connections, _) = try await listTables([answer, Self.success])
        guard case .failure(let error) = result else { Issue.record("a ValidationException was retried"); return }
        #expect(error.description == "ListTables failed: ValidationException: 1 validation error detected (HTTP 400, 1 attempt)")
        #expect(connections == 1)
    }

    @Test func aHeaderOnlyTypeWithoutABodySaysSo() async throws {
        let (result, _, _) = try await listTables([Self.headerOnlyError("AccessDeniedException")])
        guard case .failure(let error) = result else { Issue.record("AccessDeniedException was retried"); return }
        #expect(
            error.description
                == "ListTables failed: AccessDeniedException: (no message) (HTTP 400, request id REQ2, 1 attempt). The credentials lack permission for this operation on this table."
        )
    }

    @Test func the__typeInTheBodyWinsOverTheHeader() async throws {
        let answer = Self.answer(
            400, "Bad Request", headers: ["x-amzn-ErrorType: ValidationException"],
            body: #"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"}"#)
        let (result, connections, _) = try await listTables([answer, Self.success])
        #expect(try result.get() == ["t"])
        #expect(connections == 2)
    }

    @Test func a429WithoutATypeIsThrottlingAndRetried() async throws {
        let tooMany = Self.answer(429, "Too Many Requests", headers: ["Content-Type: text/plain"], body: "Rate exceeded")
        let server = try CannedHTTPServer(textResponses: [tooMany, tooMany, Self.success])
        defer { server.stop() }
        let client = makeClient(endpoint: server.endpoint)
        #expect(try await client.listTables() == ["t"])
        #expect(client.statistics.throttles == 2)
        #expect(client.statistics.retries == 2)
    }

    @Test func a429ThatNeverEndsSaysTheEndpointAskedToSlowDown() async throws {
        let tooMany = Self.answer(429, "Too Many Requests", headers: ["Content-Type: text/html"], body: "<html><body>429</body></html>")
        let (result, connections, _) = try await listTables([tooMany], maxAttempts: 3)
        guard case .failure(let error) = result else { Issue.record("an endless 429 succeeded"); return }
        #expect(error.description == "ListTables failed: HTTP429: the endpoint asked to slow down (HTTP 429 Too Many Requests) (HTTP 429, 3 attempts)")
        #expect(connections == 3)
    }

    @Test func a413SaysTheRequestWasTooLargeAndIsNotRetried() async throws {
        let tooLarge = Self.answer(
            413, "Request Entity Too Large", headers: ["Content-Type: text/html"],
            body: "<html><head><title>413 Request Entity Too Large</title></head><body>nginx</body></html>")
        let (result, connections, _) = try await listTables([tooLarge, Self.success])
        guard case .failure(let error) = result else { Issue.record("a 413 was retried"); return }
        #expect(
            error.description
                == "ListTables failed: HTTP413: the request was too large for the endpoint (HTTP 413 Request Entity Too Large) (HTTP 413, 1 attempt). DynamoDB takes requests up to 16 MB and items up to 400 KB; a proxy between here and DynamoDB may allow less."
        )
        #expect(!error.description.contains("DynamoDB endpoint?"))
        #expect(!error.mayHaveBeenApplied)
        #expect(connections == 1)
    }

    @Test func htmlServerErrorsAreRetriedAsServerErrors() async throws {
        let html500 = Self.answer(
            500, "Internal Server Error", headers: ["Content-Type: text/html"],
            body: "<html><body><h1>500 Internal Server Error</h1></body></html>")
        let html503 = Self.answer(
            503, "Service Unavailable", headers: ["Content-Type: text/html"],
            body: "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>")
        let (result, connections, clock) = try await listTables([html500, html503, Self.success])
        #expect(try result.get() == ["t"])
        #expect(connections == 3)
        #expect(clock.recorded.count == 2)

        let (failed, _, _) = try await listTables([html503], maxAttempts: 2)
        guard case .failure(let error) = failed else { Issue.record("an endless 503 succeeded"); return }
        #expect(
            error.description
                == "ListTables failed: HTTP503: the endpoint answered HTTP 503 with a non-JSON page: a server-side failure (DynamoDB or a load balancer or proxy in front of it) (HTTP 503, 2 attempts)"
        )
        #expect(error.mayHaveBeenApplied)
    }

    @Test func aNonJSONPageWithAnotherStatusStillAsksWhetherItIsDynamoDB() async throws {
        let notFound = Self.answer(404, "Not Found", headers: ["Content-Type: text/html"], body: "<html><body>Not Found</body></html>")
        let (result, connections, _) = try await listTables([notFound])
        guard case .failure(let error) = result else { Issue.record("a 404 page succeeded"); return }
        #expect(
            error.description
                == "ListTables failed: HTTP404: the endpoint answered HTTP 404 with a non-JSON page: is it a DynamoDB endpoint? (HTTP 404, 1 attempt)")
        #expect(connections == 1)
    }
}
