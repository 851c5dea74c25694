// One endpoint, however it is written: records made through one spelling count for another.
import AWSAuth
import DynamoClient
import Foundation
import RunState
import TableIO
import TestSupport
import Testing

@Suite(needsLocalServer)
struct EndpointIdentityTests {
    let client = makeClient(endpoint: localEndpoint)

    /// `http://127.0.0.1:8000` written as `HTTP://127.0.0.1:8000/`.
    var respelled: String { localEndpoint.replacingOccurrences(of: "http://", with: "HTTP://") + "/" }

    @Test func proofRecordedUnderAnotherSpellingOfTheEndpointCounts() async throws {
        let f = try await DecommissionFixture.make(client)
        try await f.migrate()
        try await f.recordedBackUp([f.a, f.b])
        try await f.verify()
        // Records written before endpoints were normalized hold the endpoint as the operator typed it.
        for file in ["checkpoint.json", "verification.json"] {
            let url = f.state.appendingPathComponent(file)
            var record = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            #expect(record["endpoint"] as? String == localEndpoint, "\(file) records the endpoint")
            record["endpoint"] = respelled
            try JSONSerialization.data(withJSONObject: record).write(to: url)
        }
        // And this run names the same server with a trailing slash.
        let sameServer = makeClient(endpoint: localEndpoint + "/")
        #expect(sameServer.configuration.endpoint == localEndpoint)
        let decisions = try await f.decommission(execute: true, using: sameServer)
        #expect(decisions[f.a]?.decision == .deleted)
        #expect(decisions[f.b]?.decision == .deleted)
        #expect(try await f.exists(f.a) == false)
        await f.cleanUp()
    }
}
