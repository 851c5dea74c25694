import DynamoClient
import TestSupport
import Testing

/// The one waiter: polls until a value or the deadline, backing off between polls, on a clock the test
/// controls (no real time passes).
@Suite struct WaiterTests {
    final class Polls: @unchecked Sendable { var count = 0 }

    @Test func returnsTheFirstValueAndBacksOffBetweenPolls() async throws {
        let clock = TestClock()
        let polls = Polls()
        let value = try await Waiter(clock: clock, timeout: .seconds(60)).wait(for: "ACTIVE", of: "t") { () async throws(DynamoDBError) -> String? in
            polls.count += 1
            return polls.count == 4 ? "ready" : nil
        }
        #expect(value == "ready")
        #expect(polls.count == 4)
        #expect(clock.recorded == [.milliseconds(500), .milliseconds(750), .milliseconds(1125)])
    }

    @Test func theWaitsStopGrowingAtTheLongestInterval() async throws {
        let clock = TestClock()
        let polls = Polls()
        let waiter = Waiter(clock: clock, timeout: .seconds(60), pollInterval: .seconds(1), maxPollInterval: .seconds(2), backoff: 2)
        _ = try await waiter.wait(for: "AVAILABLE", of: "b") { () async throws(DynamoDBError) -> Bool? in
            polls.count += 1
            return polls.count == 5 ? true : nil
        }
        #expect(clock.recorded == [.seconds(1), .seconds(2), .seconds(2), .seconds(2)])
    }

    @Test func theDeadlineEndsTheWaitWithAPollAtTheDeadline() async throws {
        let clock = TestClock()
        let polls = Polls()
        do {
            _ = try await Waiter(clock: clock, timeout: .seconds(2)).wait(for: "deleted", of: "orders") { () async throws(DynamoDBError) -> Bool? in
                polls.count += 1
                return nil
            }
            Issue.record("the wait ended without a value")
        } catch {
            guard case .waitTimedOut(let table, let state, let after) = error else { Issue.record("\(error)"); return }
            #expect(table == "orders" && state == "deleted" && after == .seconds(2))
        }
        // 0.5 s, 0.75 s, then the 1.125 s wait is cut to the 0.75 s left: polls at 0, 0.5, 1.25 and 2 s.
        #expect(clock.recorded == [.milliseconds(500), .milliseconds(750), .milliseconds(750)])
        #expect(polls.count == 4)
    }

    @Test func errorsFromThePollEndTheWait() async throws {
        let clock = TestClock()
        await #expect(throws: DynamoDBError.self) {
            _ = try await Waiter(clock: clock, timeout: .seconds(2)).wait(for: "ACTIVE", of: "t") { () async throws(DynamoDBError) -> Bool? in
                throw .waitTimedOut(table: "inner", waitingFor: "x", after: .zero)
            }
        }
        #expect(clock.recorded == [])
    }
}

/// The client's waiters go through the one waiter, on the client's clock.
@Suite(needsLocalServer) struct ClientWaiterTests {
    @Test func waitingForATableThatNeverAppearsTimesOutOnTheClientsClock() async throws {
        let clock = TestClock()
        let client = makeClient(endpoint: localEndpoint, sleeper: clock)
        let name = TestEnvironment.uniqueTableName("never")
        do {
            try await client.waitUntilActive(name, timeout: .seconds(10), pollInterval: .seconds(1))
            Issue.record("waited for a table that does not exist")
        } catch {
            guard case .waitTimedOut(let table, let state, let after) = error else { Issue.record("\(error)"); return }
            #expect(table == name && state == "ACTIVE" && after == .seconds(10))
        }
        // 1 + 1.5 + 2.25 + 3.375 = 8.125 s, then the 1.875 s left.
        #expect(clock.recorded == [.seconds(1), .milliseconds(1500), .milliseconds(2250), .milliseconds(3375), .milliseconds(1875)])
    }
}
