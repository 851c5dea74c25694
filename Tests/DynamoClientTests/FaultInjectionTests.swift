import AWSAuth
import DynamoClient
import DynamoCore
import Foundation
import TestSupport
import Testing

/// The client against failures moto never produces, injected by a real proxy between the two.
@Suite(needsLocalServer)
struct FaultInjectionTests {
    let direct = makeClient(endpoint: localEndpoint)

    func withProxy(
        _ body: (FaultProxy, DynamoDBClient, RecordingSleeper) async throws -> Void,
        retryPolicy: RetryPolicy = .default
    ) async throws {
        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        let sleeper = RecordingSleeper()
        try await body(proxy, makeClient(endpoint: proxy.endpoint, retryPolicy: retryPolicy, sleeper: sleeper), sleeper)
    }

    @Test func serverErrorsAreRetriedWithBackoff() async throws {
        try await withProxy { proxy, client, sleeper in
            proxy.inject(.httpStatus(500), operation: "ListTables", times: 1)
            proxy.inject(.httpStatus(503, plainBody: true), operation: "ListTables", times: 1)
            _ = try await client.listTables()
            #expect(client.statistics.retries == 2)
            #expect(proxy.counters.applied(.httpStatus) == 2)
            #expect(sleeper.recorded.count == 2)
            #expect(sleeper.recorded[0] < .milliseconds(25), "first retry waits within [0, base)")
            #expect(sleeper.recorded[1] < .milliseconds(50), "second retry waits within [0, 2 base)")
        }
    }

    @Test func throttlingIsRetriedAndCounted() async throws {
        let table = try await makeTable(direct, prefix: "fault-throttle")
        try await withProxy { proxy, client, _ in
            proxy.inject(.dynamoError(type: "ProvisionedThroughputExceededException"), operation: "PutItem", times: 2)
            proxy.inject(.dynamoError(type: "ThrottlingException"), operation: "PutItem", times: 1)
            try await client.putItem(table: table, item: ["pk": .s("t1"), "v": .n(DynamoNumber(1))])
            #expect(client.statistics.throttles == 3)
            #expect(client.statistics.retries == 3)
        }
        #expect(try await direct.getItem(table: table, key: ["pk": .s("t1")]) == ["pk": .s("t1"), "v": .n(DynamoNumber(1))])
        try await direct.deleteTable(table)
    }

    @Test func resetsBeforeAndAfterTheServerAppliedAWriteAreRetried() async throws {
        let table = try await makeTable(direct, prefix: "fault-reset")
        try await withProxy { proxy, client, _ in
            proxy.inject(.resetBeforeForwarding, operation: "PutItem", times: 1)
            try await client.putItem(table: table, item: ["pk": .s("before")])
            proxy.inject(.resetAfterForwarding, operation: "PutItem", times: 1)
            try await client.putItem(table: table, item: ["pk": .s("after"), "n": .n(DynamoNumber(2))])
            // libcurl itself resends a request whose reused connection died before any answer, so not
            // every reset reaches our retry loop; the proxy's log proves each request arrived twice.
            let outcomes = proxy.log.filter { $0.operation == "PutItem" }.map { [$0.fault?.kind.rawValue ?? "none", $0.forwarded ? "forwarded" : "held"] }
            #expect(
                outcomes == [
                    ["resetBeforeForwarding", "held"], ["none", "forwarded"],
                    ["resetAfterForwarding", "forwarded"], ["none", "forwarded"],
                ])
        }
        let items = try await scanAll(direct, table)
        #expect(Set(items) == [["pk": .s("before")], ["pk": .s("after"), "n": .n(DynamoNumber(2))]])
        try await direct.deleteTable(table)
    }

    @Test func aCorruptedPageIsNeverReturned() async throws {
        let table = try await makeTable(direct, prefix: "fault-corrupt")
        let items = sampleItems(40)
        try await writeAll(direct, table, items)
        try await withProxy { proxy, client, _ in
            proxy.inject(.corruptBody, operation: "Scan", times: 2)
            let found = try await scanAll(client, table)
            #expect(byKey(found) == byKey(items))
            #expect(client.statistics.retries == 2)
            #expect(proxy.counters.applied(.corruptBody) == 2)
        }
        try await direct.deleteTable(table)
    }

    @Test func unprocessedItemsComeBackToTheCallerExactly() async throws {
        let table = try await makeTable(direct, prefix: "fault-unprocessed")
        let items = sampleItems(10)
        try await withProxy { proxy, client, _ in
            proxy.inject(.unprocessedItems(fraction: 0.5), operation: "BatchWriteItem", times: 1)
            let output = try await client.batchWriteItem([table: items.map { .put($0) }])
            let held = output.unprocessedItems[table] ?? []
            #expect(held.count == 5)
            let written = try await scanAll(direct, table)
            // Exactly the complement was written, and together they are the whole batch.
            #expect(Set(written.map { WriteRequest.put($0) }).isDisjoint(with: Set(held)))
            #expect(Set(written.map { WriteRequest.put($0) }).union(held) == Set(items.map { .put($0) }))
        }
        try await direct.deleteTable(table)
    }

    @Test func validationErrorsAreNotRetried() async throws {
        try await withProxy { proxy, client, sleeper in
            proxy.inject(.dynamoError(type: "ValidationException"), operation: "DescribeTable", times: 1)
            do {
                _ = try await client.describeTable("whatever-table")
                Issue.record("a ValidationException was swallowed")
            } catch let error as DynamoDBError {
                #expect(error.errorType == "ValidationException")
                guard case .service(let service) = error else { Issue.record("unexpected \(error)"); return }
                #expect(service.context.attempts == 1)
                #expect(service.httpStatus == 400)
            }
            #expect(sleeper.recorded.isEmpty)
        }
    }

    @Test func persistentFailureGivesUpAfterTheConfiguredAttempts() async throws {
        try await withProxy(
            { proxy, client, sleeper in
                proxy.inject(.httpStatus(500), operation: "ListTables", probability: 1, seed: 1)
                do {
                    _ = try await client.listTables()
                    Issue.record("ListTables succeeded through a proxy that always fails")
                } catch let error as DynamoDBError {
                    guard case .service(let service) = error else { Issue.record("unexpected \(error)"); return }
                    #expect(service.context.attempts == 4)
                    #expect(service.httpStatus == 500)
                    #expect(error.description.hasPrefix("ListTables failed: InternalServerError: InternalServerError injected by FaultProxy (HTTP 500"))
                    #expect(error.description.hasSuffix(", 4 attempts)"))
                }
                #expect(sleeper.recorded.count == 3)
                #expect(sleeper.recorded.allSatisfy { $0 <= .seconds(1) })
            }, retryPolicy: RetryPolicy(maxAttempts: 4, base: .milliseconds(25), cap: .seconds(1)))
    }
}

@Suite struct RetryPolicyTests {
    @Test func classification() {
        #expect(RetryPolicy.classify(type: "ProvisionedThroughputExceededException", httpStatus: 400) == .throttling)
        #expect(RetryPolicy.classify(type: "RequestLimitExceeded", httpStatus: 400) == .throttling)
        #expect(RetryPolicy.classify(type: "TransactionInProgressException", httpStatus: 400) == .throttling)
        #expect(RetryPolicy.classify(type: "InternalServerError", httpStatus: 500) == .transient)
        #expect(RetryPolicy.classify(type: "HTTP502", httpStatus: 502) == .transient)
        #expect(RetryPolicy.classify(type: "ValidationException", httpStatus: 400) == .fatal)
        #expect(RetryPolicy.classify(type: "ResourceNotFoundException", httpStatus: 400) == .fatal)
        #expect(RetryPolicy.classify(type: "AccessDeniedException", httpStatus: 400) == .fatal)
        #expect(RetryPolicy.classify(type: "ConditionalCheckFailedException", httpStatus: 400) == .fatal)
        #expect(RetryPolicy.classify(type: "InvalidSignatureException", httpStatus: 400) == .fatal)
        #expect(RetryPolicy.classify(type: "TransactionConflictException", httpStatus: 400) == .transient)
        #expect(RetryPolicy.classify(type: "ReplicatedWriteConflictException", httpStatus: 400) == .transient)
        #expect(RetryPolicy.classify(type: "LimitExceededException", httpStatus: 400) == .waits)
        #expect(RetryPolicy.classify(type: "ResourceInUseException", httpStatus: 400) == .waits)
        #expect(RetryPolicy.classify(type: "ExpiredTokenException", httpStatus: 400) == .credentials)
        #expect(RetryPolicy.classify(type: "HTTP429", httpStatus: 429) == .throttling)
        #expect(RetryPolicy.classify(type: "HTTP413", httpStatus: 413) == .fatal)
        // A type the catalog knows wins over its status.
        #expect(RetryPolicy.classify(type: "ValidationException", httpStatus: 500) == .fatal)
    }

    @Test func fullJitterStaysUnderTheCappedExponential() {
        let policy = RetryPolicy(base: .milliseconds(25), cap: .seconds(20))
        var random = SeededRandom(seed: 7)
        for retry in 1...15 {
            let ceiling = min(Duration.seconds(20), .milliseconds(25) * (1 << (retry - 1)))
            for _ in 0..<50 {
                let delay = policy.delay(beforeRetry: retry, using: &random)
                #expect(delay >= .zero && delay < ceiling)
            }
        }
    }
}

@Suite struct NotDynamoDBTests {
    @Test func anEndpointThatIsNotDynamoDBIsNamedAsSuch() async throws {
        let body = #"{"hello":"world"}"#
        let server = try CannedHTTPServer(textResponses: [
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        ])
        defer { server.stop() }
        let client = makeClient(endpoint: server.endpoint, retryPolicy: RetryPolicy(maxAttempts: 1))
        do {
            _ = try await client.listTables()
            Issue.record("an answer without TableNames was taken for an empty endpoint")
        } catch {
            #expect(
                error.description
                    == "ListTables: the endpoint's answer is not valid DynamoDB JSON (the answer has no TableNames: is \(server.endpoint) a DynamoDB endpoint?); attempts: 1"
            )
        }
    }
}

@Suite struct ListTablesPagingTests {
    func page(_ body: String) -> String {
        "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    @Test func anEmptyPageAfterAStartNameRelistsFromTheTop() async throws {
        // A positional server whose start table "b" was deleted between pages answers an empty page.
        let server = try CannedHTTPServer(textResponses: [
            page(#"{"TableNames":["a","b"],"LastEvaluatedTableName":"b"}"#),
            page(#"{"TableNames":[]}"#),
            page(#"{"TableNames":["a","c"],"LastEvaluatedTableName":"c"}"#),
            page(#"{"TableNames":["d"]}"#),
        ])
        defer { server.stop() }
        let client = makeClient(endpoint: server.endpoint, retryPolicy: RetryPolicy(maxAttempts: 1))
        #expect(try await client.listTables(pageSize: 2) == ["a", "b", "c", "d"])
        #expect(server.connectionsAccepted == 4)
    }
}
