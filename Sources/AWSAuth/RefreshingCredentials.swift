import Foundation
import Synchronization

/// The one cache between credential providers and the clients: hands out the same credentials until
/// shortly before they expire, then fetches new ones from its provider, with every concurrent caller
/// waiting on one shared fetch.
///
/// A six-hour migration on one-hour credentials refreshes about six times and no request goes out with
/// credentials about to expire: refreshing starts `refreshBefore` (default 5 minutes, as the AWS SDKs
/// do) before the expiration. If a refresh fails while the cached credentials are still valid they keep
/// being used (and the refresh is tried again after `retryAfterFailure`), so a short STS or IMDS outage
/// does not fail a run; once they have expired the provider's error is thrown.
///
/// Time is read from the injected ``RunClock`` (`date`, since expirations are wall-clock dates), so
/// tests drive expiry with a test clock.
public final class RefreshingCredentials: CredentialProvider, Sendable {
    public let provider: any CredentialProvider
    public let clock: any RunClock
    /// Refresh when less than this remains before the expiration.
    public let refreshBefore: Duration
    /// After a failed refresh with still-valid credentials, how long to keep them before trying again.
    public let retryAfterFailure: Duration

    private struct State {
        var current: ExpiringCredentials?
        /// Set by ``invalidate(_:)``: the endpoint refused the current credentials as expired.
        var refused = false
        var inFlight: Task<ExpiringCredentials, any Error>?
        var lastFailure: Date?
        var fetches = 0
    }
    private let state = Mutex(State())

    public init(
        _ provider: any CredentialProvider, clock: any RunClock = SystemClock(),
        refreshBefore: Duration = .seconds(300), retryAfterFailure: Duration = .seconds(30)
    ) {
        self.provider = provider
        self.clock = clock
        self.refreshBefore = refreshBefore
        self.retryAfterFailure = retryAfterFailure
    }

    public var source: String { provider.source }

    /// Fetches made from the provider so far.
    public var fetchCount: Int { state.withLock { $0.fetches } }

    /// The credentials to sign with now.
    public func fetch() async throws -> ExpiringCredentials { try await credentials() }

    private enum Step { case use(ExpiringCredentials), wait(Task<ExpiringCredentials, any Error>) }

    /// The cached credentials while more than `refreshBefore` remains, else fresh ones (one fetch shared
    /// by every caller that arrives while it runs).
    public func credentials() async throws -> ExpiringCredentials {
        let now = clock.date
        let step: Step = state.withLock { s in
            if let current = s.current, !s.refused {
                if !needsRefresh(current, at: now) { return .use(current) }
                // Still valid but due for refresh, and the last refresh failed recently: keep using them.
                if let failed = s.lastFailure, !isExpired(current, at: now),
                    now.timeIntervalSince(failed) < seconds(retryAfterFailure), s.inFlight == nil
                {
                    return .use(current)
                }
            }
            if let running = s.inFlight { return .wait(running) }
            let task = Task<ExpiringCredentials, any Error> { [provider] in try await provider.fetch() }
            s.inFlight = task
            return .wait(task)
        }
        switch step {
        case .use(let credentials):
            return credentials
        case .wait(let task):
            let result = await task.result
            return try state.withLock { s throws -> ExpiringCredentials in
                // The first waiter to wake records the outcome for everyone.
                let isCurrentFetch = s.inFlight.map { $0 == task } ?? false
                switch result {
                case .success(let fresh):
                    if isCurrentFetch {
                        s.inFlight = nil
                        s.current = fresh
                        s.refused = false
                        s.lastFailure = nil
                        s.fetches += 1
                    }
                    return fresh
                case .failure(let error):
                    if isCurrentFetch {
                        s.inFlight = nil
                        s.lastFailure = clock.date
                    }
                    if let current = s.current, !s.refused, !isExpired(current, at: clock.date) { return current }
                    throw error
                }
            }
        }
    }

    /// Marks `used` as refused by the endpoint (`ExpiredTokenException`): the next call fetches anew.
    /// Credentials other than the cached ones (already replaced by a concurrent caller) are ignored,
    /// so many requests failing at once cause one refresh.
    public func invalidate(_ used: Credentials) {
        state.withLock { s in
            if s.current?.credentials == used { s.refused = true }
        }
    }

    private func needsRefresh(_ credentials: ExpiringCredentials, at now: Date) -> Bool {
        guard let expiration = credentials.expiration else { return false }
        return expiration.timeIntervalSince(now) < seconds(refreshBefore)
    }

    private func isExpired(_ credentials: ExpiringCredentials, at now: Date) -> Bool {
        guard let expiration = credentials.expiration else { return false }
        return expiration <= now
    }

    private func seconds(_ d: Duration) -> TimeInterval {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}
