// Every fault kind end to end: a raw client, the fault proxy, and a real moto server.
import Foundation
import TestSupport
import Testing

@Suite(needsLocalServer)
struct FaultProxyMotoTests {
    let moto: String
    let proxy: FaultProxy

    init() throws {
        moto = try motoEndpoint()
        proxy = try FaultProxy(upstream: moto)
    }

    @Test func httpStatus500IsAnsweredWithoutReachingTheServer() throws {
        defer { proxy.stop() }
        let table = try createTable("proxy-500", endpoint: moto)
        proxy.inject(.httpStatus(500), operation: "PutItem", times: 1)
        let connection = try RawHTTPConnection(endpoint: proxy.endpoint)

        let failed = try connection.dynamo("PutItem", putItemBody(table: table, pk: "a"))
        #expect(failed.status == 500)
        #expect(failed.bodyText == #"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"InternalServerError injected by FaultProxy"}"#)
        #expect(crcMatches(failed))
        #expect(try getItem("a", table: table, endpoint: moto).bodyText == "{}")

        let retried = try connection.dynamo("PutItem", putItemBody(table: table, pk: "a"))
        #expect(retried.status == 200)
        #expect(try partitionKeys(in: table, endpoint: moto) == ["a"])
        #expect(
            proxy.log == [
                FaultProxyLogEntry(operation: "PutItem", fault: .httpStatus(500), forwarded: false, upstreamStatus: nil),
                FaultProxyLogEntry(operation: "PutItem", fault: nil, forwarded: true, upstreamStatus: 200),
            ])
        #expect(proxy.counters.requestsSeen == 2)
        #expect(proxy.counters.forwarded == 1)
        #expect(proxy.counters.faultsApplied == [.httpStatus: 1])
    }

    @Test func plain503AppliesToAnyOperationTheGivenNumberOfTimes() throws {
        defer { proxy.stop() }
        let table = try createTable("proxy-503", endpoint: moto)
        proxy.inject(.httpStatus(503, plainBody: true), times: 2)
        let connection = try RawHTTPConnection(endpoint: proxy.endpoint)
        let statuses = try (0..<3).map { _ in try connection.dynamo("GetItem", getItemBody(table: table, pk: "a")) }
        #expect(statuses.map(\.status) == [503, 503, 200])
        #expect(statuses[0].bodyText == "Service Unavailable (injected by FaultProxy)\n")
        #expect(statuses[0].headers["Content-Type"] == "text/plain")
        #expect(statuses[0].headers["x-amz-crc32"] == nil)
        #expect(statuses[2].bodyText == "{}")
        #expect(proxy.log.map(\.forwarded) == [false, false, true])
    }

    @Test(arguments: [
        ("ProvisionedThroughputExceededException", 400),
        ("ThrottlingException", 400),
        ("RequestLimitExceeded", 400),
    ])
    func dynamoErrorIsAnsweredWithACorrectChecksum(type: String, status: Int) throws {
        defer { proxy.stop() }
        let table = try createTable("proxy-throttle", endpoint: moto)
        proxy.inject(.dynamoError(type: type, status: status), operation: "PutItem", times: 1)
        let connection = try RawHTTPConnection(endpoint: proxy.endpoint)

        let response = try connection.dynamo("PutItem", putItemBody(table: table, pk: "t"))
        #expect(response.status == status)
        #expect(response.bodyText == #"{"__type":"com.amazonaws.dynamodb.v20120810#\#(type)","message":"\#(type) injected by FaultProxy"}"#)
        #expect(response.headers["x-amz-crc32"] == String(TestCRC32.checksum(response.body)))
        #expect(response.headers["Content-Type"] == "application/x-amz-json-1.0")
        #expect(try partitionKeys(in: table, endpoint: moto) == [])
        #expect(
            proxy.log == [
                FaultProxyLogEntry(
                    operation: "PutItem", fault: .dynamoError(type: type, status: status),
                    forwarded: false, upstreamStatus: nil)
            ])
    }

    @Test func resetBeforeForwardingNeverReachesTheServer() throws {
        defer { proxy.stop() }
        let table = try createTable("proxy-reset-before", endpoint: moto)
        proxy.inject(.resetBeforeForwarding, operation: "PutItem", times: 1)
        let connection = try RawHTTPConnection(endpoint: proxy.endpoint)

        #expect(throws: RawSocketError.connectionReset) {
            try connection.dynamo("PutItem", putItemBody(table: table, pk: "r"))
        }
        #expect(!connection.isOpen)
        #expect(try partitionKeys(in: table, endpoint: moto) == [])
        #expect(
            proxy.log == [
                FaultProxyLogEntry(
                    operation: "PutItem", fault: .resetBeforeForwarding,
                    forwarded: false, upstreamStatus: nil)
            ])
        #expect(proxy.counters.forwarded == 0)
        #expect(proxy.counters.faultsApplied == [.resetBeforeForwarding: 1])
    }

    @Test func resetAfterForwardingAppliesTheWriteButNeverAnswers() throws {
        defer { proxy.stop() }
        let table = try createTable("proxy-reset-after", endpoint: moto)
        proxy.inject(.resetAfterForwarding, operation: "PutItem", times: 1)
        let connection = try RawHTTPConnection(endpoint: proxy.endpoint)

        #expect(throws: RawSocketError.connectionReset) {
            try connection.dynamo("PutItem", putItemBody(table: table, pk: "w"))
        }
        #expect(try partitionKeys(in: table, endpoint: moto) == ["w"])
        #expect(
            proxy.log == [
                FaultProxyLogEntry(
                    operation: "PutItem", fault: .resetAfterForwarding,
                    forwarded: true, upstreamStatus: 200)
            ])
        #expect(proxy.counters.forwarded == 1)

        // A new connection works normally once the rule is used up.
        let again = try RawHTTPConnection(endpoint: proxy.endpoint)
        #expect(try again.dynamo("PutItem", putItemBody(table: table, pk: "w2")).status == 200)
        #expect(proxy.counters.connectionsAccepted == 2)
    }

    @Test func corruptBodyFlipsOneByteAndKeepsTheOriginalChecksum() throws {
        defer { proxy.stop() }
        let table = try createTable("proxy-corrupt", endpoint: moto)
        #expect(
            try MotoServer.call(
                endpoint: moto, operation: "PutItem",
                body: String(decoding: putItemBody(table: table, pk: "c"), as: UTF8.self)
            ).status == 200)
        let original = try getItem("c", table: table, endpoint: moto)
        #expect(crcMatches(original))

        proxy.inject(.corruptBody, operation: "GetItem", times: 1)
        let connection = try RawHTTPConnection(endpoint: proxy.endpoint)
        let corrupted = try connection.dynamo("GetItem", getItemBody(table: table, pk: "c"))

        #expect(corrupted.status == 200)
        #expect(corrupted.headers["x-amz-crc32"] == original.headers["x-amz-crc32"])
        #expect(!crcMatches(corrupted))
        #expect(corrupted.body.count == original.body.count)
        let differing = zip(corrupted.body, original.body).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
        #expect(differing == [original.body.count / 2])
        #expect(proxy.log == [FaultProxyLogEntry(operation: "GetItem", fault: .corruptBody, forwarded: true, upstreamStatus: 200)])

        let clean = try connection.dynamo("GetItem", getItemBody(table: table, pk: "c"))
        #expect(clean.body == original.body)
    }

    /// `count` put requests with pks `<prefix>00`, `<prefix>01`… and attributes of several types.
    private func putRequests(_ prefix: String, count: Int) -> [String] {
        (0..<count).map { i in
            let pk = "\(prefix)\(i < 10 ? "0" : "")\(i)"
            return #"{"PutRequest":{"Item":{"pk":{"S":"\#(pk)"},"n":{"N":"0\#(i).50"},"ok":{"BOOL":\#(i % 2 == 0)},"#
                + #""nothing":{"NULL":true},"b":{"B":"AAEC"},"l":{"L":[{"S":"a/b"},{"N":"1e3"}]},"m":{"M":{"s":{"S":"é \"q\""}}}}}}"#
        }
    }

    @Test func unprocessedItemsForwardsTheFirstPartAndReturnsTheRest() throws {
        defer { proxy.stop() }
        let tableA = try createTable("proxy-batch-a", endpoint: moto)
        let tableB = try createTable("proxy-batch-b", endpoint: moto)
        let writesA = putRequests("a", count: 10)
        let writesB = putRequests("b", count: 4) + [#"{"DeleteRequest":{"Key":{"pk":{"S":"b99"}}}}"#]
        proxy.inject(.unprocessedItems(fraction: 0.5), times: 1)
        let connection = try RawHTTPConnection(endpoint: proxy.endpoint)

        // The rule matches BatchWriteItem only: this PutItem passes untouched and leaves it in place.
        #expect(try connection.dynamo("PutItem", putItemBody(table: tableB, pk: "b99")).status == 200)

        let body =
            #"{"RequestItems":{"\#(tableA)":[\#(writesA.joined(separator: ","))],"#
            + #""\#(tableB)":[\#(writesB.joined(separator: ","))]},"ReturnConsumedCapacity":"NONE"}"#
        let response = try connection.dynamo("BatchWriteItem", Array(body.utf8))

        #expect(response.status == 200)
        #expect(crcMatches(response))
        #expect(response.headers["Content-Length"] == String(response.body.count))
        // 10 requests at 0.5: the last 5 held back; 5 requests: the last ⌊2.5⌋ = 2 (the DeleteRequest among them).
        let unprocessed = try #require(try jsonObject(response.body)["UnprocessedItems"])
        let expected = #"{"\#(tableA)":[\#(writesA[5...].joined(separator: ","))],"# + #""\#(tableB)":[\#(writesB[3...].joined(separator: ","))]}"#
        #expect(try canonical(unprocessed) == canonical(json: expected))

        #expect(try partitionKeys(in: tableA, endpoint: moto) == ["a00", "a01", "a02", "a03", "a04"])
        #expect(try partitionKeys(in: tableB, endpoint: moto) == ["b00", "b01", "b02", "b99"])
        // The forwarded items arrive intact, e.g. a00 with its number text and nested values.
        let stored = try jsonObject(getItem("a00", table: tableA, endpoint: moto).body)["Item"]
        #expect(
            try canonical(#require(stored))
                == canonical(
                    json: #"""
                        {"pk":{"S":"a00"},"n":{"N":"00.50"},"ok":{"BOOL":true},"nothing":{"NULL":true},"b":{"B":"AAEC"},
                         "l":{"L":[{"S":"a/b"},{"N":"1e3"}]},"m":{"M":{"s":{"S":"é \"q\""}}}}
                        """#))
        #expect(
            proxy.log == [
                FaultProxyLogEntry(operation: "PutItem", fault: nil, forwarded: true, upstreamStatus: 200),
                FaultProxyLogEntry(
                    operation: "BatchWriteItem", fault: .unprocessedItems(fraction: 0.5), forwarded: true,
                    upstreamStatus: 200, heldBackRequests: 7),
            ])
    }

    @Test func unprocessedItemsHoldsBackAtLeastOneOfTwo() throws {
        defer { proxy.stop() }
        let table = try createTable("proxy-batch-two", endpoint: moto)
        let writes = putRequests("t", count: 2)
        proxy.inject(.unprocessedItems(fraction: 0.01), operation: "BatchWriteItem", times: 1)
        let connection = try RawHTTPConnection(endpoint: proxy.endpoint)
        let response = try connection.dynamo(
            "BatchWriteItem",
            Array(#"{"RequestItems":{"\#(table)":[\#(writes.joined(separator: ","))]}}"#.utf8))
        #expect(response.status == 200)
        let unprocessed = try #require(try jsonObject(response.body)["UnprocessedItems"])
        #expect(try canonical(unprocessed) == canonical(json: #"{"\#(table)":[\#(writes[1])]}"#))
        #expect(try partitionKeys(in: table, endpoint: moto) == ["t00"])
    }

    @Test func unprocessedItemsWithEverythingHeldBackForwardsNothing() throws {
        defer { proxy.stop() }
        let table = try createTable("proxy-batch-all", endpoint: moto)
        let writes = putRequests("z", count: 3)
        proxy.inject(.unprocessedItems(fraction: 1), times: 1)
        let connection = try RawHTTPConnection(endpoint: proxy.endpoint)
        let response = try connection.dynamo(
            "BatchWriteItem",
            Array(#"{"RequestItems":{"\#(table)":[\#(writes.joined(separator: ","))]}}"#.utf8))
        #expect(response.status == 200)
        #expect(crcMatches(response))
        #expect(try canonical(jsonObject(response.body)) == canonical(json: #"{"UnprocessedItems":{"\#(table)":[\#(writes.joined(separator: ","))]}}"#))
        #expect(try partitionKeys(in: table, endpoint: moto) == [])
        #expect(
            proxy.log == [
                FaultProxyLogEntry(
                    operation: "BatchWriteItem", fault: .unprocessedItems(fraction: 1),
                    forwarded: false, upstreamStatus: nil, heldBackRequests: 3)
            ])
    }

    @Test func delayForwardsNormally() throws {
        defer { proxy.stop() }
        let table = try createTable("proxy-delay", endpoint: moto)
        proxy.inject(.delay(.milliseconds(20)), operation: "PutItem", times: 1)
        let connection = try RawHTTPConnection(endpoint: proxy.endpoint)
        #expect(try connection.dynamo("PutItem", putItemBody(table: table, pk: "d")).status == 200)
        #expect(try partitionKeys(in: table, endpoint: moto) == ["d"])
        #expect(
            proxy.log == [
                FaultProxyLogEntry(
                    operation: "PutItem", fault: .delay(.milliseconds(20)),
                    forwarded: true, upstreamStatus: 200)
            ])
        #expect(proxy.counters.faultsApplied == [.delay: 1])
    }

    @Test func manyRequestsShareOneClientConnection() throws {
        defer { proxy.stop() }
        let table = try createTable("proxy-keepalive", endpoint: moto)
        let connection = try RawHTTPConnection(endpoint: proxy.endpoint)
        for i in 0..<6 {
            let response = try connection.dynamo("PutItem", putItemBody(table: table, pk: "k\(i)"))
            #expect(response.status == 200)
            #expect(response.headers["Connection"] == nil)
            #expect(crcMatches(response))
        }
        #expect(connection.isOpen)
        #expect(try partitionKeys(in: table, endpoint: moto) == ["k0", "k1", "k2", "k3", "k4", "k5"])
        let counters = proxy.counters
        #expect(counters.connectionsAccepted == 1)
        #expect(counters.requestsSeen == 6)
        #expect(counters.forwarded == 6)
    }

    @Test func probabilityRulesAreDeterministicForASeed() throws {
        defer { proxy.stop() }
        let table = try createTable("proxy-probability", endpoint: moto)
        proxy.inject(.dynamoError(type: "ThrottlingException", status: 400), operation: "GetItem", probability: 0.3, seed: 7)
        let connection = try RawHTTPConnection(endpoint: proxy.endpoint)
        var statuses: [Int] = []
        for i in 0..<30 {
            // Other operations neither match nor consume draws.
            if i % 5 == 0 { #expect(try connection.dynamo("DescribeTable", Array(#"{"TableName":"\#(table)"}"#.utf8)).status == 200) }
            statuses.append(try connection.dynamo("GetItem", getItemBody(table: table, pk: "p")).status)
        }
        var random = SeededRandom(seed: 7)
        let expected = (0..<30).map { _ in random.nextUnitInterval() < 0.3 ? 400 : 200 }
        #expect(statuses == expected)
        #expect(Set(expected) == [200, 400])
        #expect(proxy.counters.faultsApplied == [.dynamoError: expected.filter { $0 == 400 }.count])

        proxy.clearFaults()
        #expect(try connection.dynamo("GetItem", getItemBody(table: table, pk: "p")).status == 200)
        proxy.clearLog()
        #expect(proxy.log == [])
        #expect(proxy.counters == FaultProxyCounters())
    }
}
