import AWSAuth
import CurlTransport
import DynamoClient
import DynamoCore
import Foundation
import Synchronization
import TestSupport
import Testing

/// A provider issuing new keys at every fetch, each valid for `lifetime` on `clock`; counts its fetches.
final class ExpiringTestProvider: CredentialProvider {
    let clock: any RunClock
    let lifetime: TimeInterval
    let fetches = Mutex(0)
    /// When set, fetches wait until `open()`.
    let gate: AsyncStream<Void>?
    let gateContinuation: AsyncStream<Void>.Continuation?

    init(clock: any RunClock, lifetime: TimeInterval = 3600, gated: Bool = false) {
        self.clock = clock
        self.lifetime = lifetime
        if gated {
            let (stream, continuation) = AsyncStream<Void>.makeStream()
            gate = stream; gateContinuation = continuation
        } else {
            gate = nil; gateContinuation = nil
        }
    }

    var source: String { "test provider" }
    var count: Int { fetches.withLock { $0 } }
    func open() { gateContinuation?.finish() }

    func fetch() async throws -> ExpiringCredentials {
        let n = fetches.withLock {
            $0 += 1; return $0
        }
        if let gate { for await _ in gate {} }
        return ExpiringCredentials(
            credentials: Credentials(accessKeyId: "AKIDREFRESH\(n)", secretAccessKey: "secret-\(n)", sessionToken: "token-\(n)"),
            expiration: clock.date.addingTimeInterval(lifetime))
    }
}

@Suite struct CredentialRefreshTests {
    @Test("Cached until 5 minutes before expiry, then fetched once; concurrent callers share one fetch")
    func cacheAndRefreshWindow() async throws {
        let clock = TestClock()
        let provider = ExpiringTestProvider(clock: clock)
        let cache = RefreshingCredentials(provider, clock: clock)
        let first = try await cache.credentials()
        clock.advance(by: .seconds(3600 - 301))
        #expect(try await cache.credentials() == first)
        #expect(provider.count == 1)
        clock.advance(by: .seconds(2))  // 299 s left: inside the refresh window
        let second = try await cache.credentials()
        #expect(second != first)
        #expect(provider.count == 2)

        // A configurable window.
        let early = RefreshingCredentials(provider, clock: clock, refreshBefore: .seconds(1800))
        _ = try await early.credentials()
        clock.advance(by: .seconds(1799))
        _ = try await early.credentials()
        #expect(early.fetchCount == 1)
        clock.advance(by: .seconds(2))
        _ = try await early.credentials()
        #expect(early.fetchCount == 2)
    }

    @Test("Twenty callers arriving while a fetch runs all get its result: one fetch")
    func concurrentCallersShareOneFetch() async throws {
        let clock = TestClock()
        let provider = ExpiringTestProvider(clock: clock, gated: true)
        let cache = RefreshingCredentials(provider, clock: clock)
        let results = try await withThrowingTaskGroup(of: Credentials.self) { group in
            for _ in 0..<20 { group.addTask { try await cache.credentials().credentials } }
            while provider.count == 0 { await Task.yield() }
            for _ in 0..<200 { await Task.yield() }
            provider.open()
            var all: [Credentials] = []
            for try await c in group { all.append(c) }
            return all
        }
        #expect(provider.count == 1)
        #expect(Set(results.map(\.accessKeyId)) == ["AKIDREFRESH1"])
    }

    @Test("A failed refresh keeps still-valid credentials; expired ones make the provider's error surface")
    func failedRefreshKeepsValidCredentials() async throws {
        final class Flaky: CredentialProvider {
            let clock: TestClock
            let calls = Mutex(0)
            init(clock: TestClock) { self.clock = clock }
            var source: String { "flaky" }
            func fetch() async throws -> ExpiringCredentials {
                let n = calls.withLock {
                    $0 += 1; return $0
                }
                if n > 1 { throw CredentialProviderError(source: source, reason: "STS is down") }
                return ExpiringCredentials(
                    credentials: Credentials(accessKeyId: "AKIDONE", secretAccessKey: "s"),
                    expiration: clock.date.addingTimeInterval(600))
            }
        }
        let clock = TestClock()
        let flaky = Flaky(clock: clock)
        let cache = RefreshingCredentials(flaky, clock: clock)
        let first = try await cache.credentials()
        clock.advance(by: .seconds(400))  // 200 s left: refresh due, fails, old keys still good
        #expect(try await cache.credentials() == first)
        #expect(try await cache.credentials() == first)  // within retryAfterFailure: no new attempt
        #expect(flaky.calls.withLock { $0 } == 2)
        clock.advance(by: .seconds(201))  // expired
        await #expect(throws: CredentialProviderError(source: "flaky", reason: "STS is down")) {
            try await cache.credentials()
        }
    }

    @Test("ExpiredTokenException forces one refresh and one retry of the request; static keys are not retried")
    func expiredTokenRefreshesAndRetries() async throws {
        let body = #"{"__type":"com.amazon.coral.service#ExpiredTokenException","message":"The security token included in the request is expired"}"#
        let expired = "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
        let ok = "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: 17\r\n\r\n{\"TableNames\":[]}"
        let server = try CannedHTTPServer(textResponses: [expired, ok])
        defer { server.stop() }
        let clock = TestClock()
        let provider = ExpiringTestProvider(clock: clock)
        let client = DynamoDBClient(
            configuration: AWSConfiguration(credentialProvider: provider, region: "us-east-1", endpoint: server.endpoint, profile: nil),
            clock: clock)
        let tables = try await client.listTables()
        #expect(tables.isEmpty)
        #expect(provider.count == 2)
        #expect(server.connectionsAccepted == 2)
        #expect(client.statistics.retries == 0)

        // Static keys cannot be refreshed: the error is reported at once, with its hint.
        let again = try CannedHTTPServer(textResponses: [expired])
        defer { again.stop() }
        let staticClient = DynamoDBClient(
            configuration: AWSConfiguration(credentials: testCredentials, region: "us-east-1", endpoint: again.endpoint, profile: nil),
            clock: clock)
        await #expect(throws: DynamoDBError.self) { try await staticClient.listTables() }
        #expect(again.connectionsAccepted == 1)
    }

    @Test("A provider that fails says which provider and why, and nothing is sent")
    func providerFailureIsReported() async throws {
        struct Broken: CredentialProvider {
            var source: String { "web identity token /var/run/token for role arn:aws:iam::1:role/r" }
            func fetch() async throws -> ExpiringCredentials {
                throw CredentialProviderError(source: source, reason: "cannot read the token file /var/run/token: it is missing or not readable")
            }
        }
        let client = DynamoDBClient(
            configuration: AWSConfiguration(
                credentialProvider: Broken(), region: "us-east-1",
                endpoint: "http://127.0.0.1:9", profile: nil), clock: TestClock())
        do {
            _ = try await client.listTables()
            Issue.record("expected a credentials error")
        } catch {
            #expect(
                error.description
                    == "ListTables not sent: cannot get credentials from web identity token /var/run/token for role arn:aws:iam::1:role/r: cannot read the token file /var/run/token: it is missing or not readable"
            )
        }
    }
}

@Suite(needsLocalServer)
struct CredentialRefreshLocalTests {
    @Test("200 writes over 400 minutes on one-hour credentials: every write lands, 8 fetches exactly")
    func longRunAcrossExpiries() async throws {
        let clock = TestClock()
        let provider = ExpiringTestProvider(clock: clock)
        let client = DynamoDBClient(
            configuration: AWSConfiguration(credentialProvider: provider, region: "us-east-1", endpoint: localEndpoint, profile: nil),
            clock: clock)
        let table = try await makeTable(client, prefix: "refresh")
        let start = provider.count
        #expect(start == 1)
        for i in 0..<200 {
            try await client.putItem(table: table, item: ["pk": .s("item-\(i)"), "n": .n(DynamoNumber(i))])
            clock.advance(by: .seconds(120))
        }
        // Fetches at 0, 56, 112, ..., 392 minutes: each time less than 5 minutes were left.
        #expect(provider.count == 8)
        let items = try await scanAll(client, table)
        #expect(items.count == 200)
        #expect(client.statistics.retries == 0)
        try await client.deleteTable(table)
    }

    @Test("The assumed role's ASIA keys sign the DynamoDB calls: the table lands in the role's account, not the caller's")
    func assumedRoleKeysAreUsed() async throws {
        let sts = STSClient(endpoint: localEndpoint, region: "us-east-1", http: CurlTransport())
        let role = AssumeRoleCredentialProvider(
            roleArn: "arn:aws:iam::210987654321:role/migrator", sessionName: "dynamo-test",
            sourceCredentials: StaticCredentialProvider(testCredentials, source: "test keys"), sts: sts)
        let assumed = DynamoDBClient(
            configuration: AWSConfiguration(credentialProvider: role, region: "us-east-1", endpoint: localEndpoint, profile: nil),
            clock: TestClock())
        let home = makeClient(endpoint: localEndpoint)
        let table = try await makeTable(assumed, prefix: "assumed")
        let used = try await assumed.credentials.credentials().credentials
        #expect(used.accessKeyId.hasPrefix("ASIA"))
        #expect(try await sts.getCallerIdentity(credentials: used).account == "210987654321")
        #expect(try await assumed.listTables().contains(table))
        #expect(try await !home.listTables().contains(table))
        #expect(assumed.credentials.fetchCount == 1)
        try await assumed.deleteTable(table)
    }
}
