// The fault proxy with a libcurl-based client (URLSession on Linux): large bodies, Expect: 100-continue, faults.
import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite(needsLocalServer)
struct FaultProxyURLSessionTests {
    private func request(_ endpoint: String, operation: String, body: String, expectContinue: Bool) throws -> URLRequest {
        var request = URLRequest(url: try #require(URL(string: endpoint)))
        request.httpMethod = "POST"
        for (name, value) in MotoServer.dynamoHeaders(operation: operation) { request.setValue(value, forHTTPHeaderField: name) }
        if expectContinue { request.setValue("100-continue", forHTTPHeaderField: "Expect") }
        request.httpBody = Data(body.utf8)
        return request
    }

    @Test func largePutsAndAnInjectedErrorThroughURLSession() async throws {
        let moto = try motoEndpoint()
        let proxy = try FaultProxy(upstream: moto)
        defer { proxy.stop() }
        let table = try createTable("proxy-urlsession", endpoint: moto)
        let padding = String(repeating: "x", count: 20_000)
        proxy.inject(.dynamoError(type: "ThrottlingException", status: 400), operation: "PutItem", times: 1)

        var statuses: [Int] = []
        for i in 0..<3 {
            let body = #"{"TableName":"\#(table)","Item":{"pk":{"S":"u\#(i)"},"pad":{"S":"\#(padding)"}}}"#
            let (data, response) = try await URLSession.shared.data(
                for: request(proxy.endpoint, operation: "PutItem", body: body, expectContinue: i == 2))
            let http = try #require(response as? HTTPURLResponse)
            statuses.append(http.statusCode)
            if i == 0 {
                #expect(
                    String(decoding: data, as: UTF8.self)
                        == #"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"ThrottlingException injected by FaultProxy"}"#)
            }
        }
        #expect(statuses == [400, 200, 200])
        #expect(try partitionKeys(in: table, endpoint: moto) == ["u1", "u2"])
        #expect(proxy.log.map(\.forwarded) == [false, true, true])
    }
}
