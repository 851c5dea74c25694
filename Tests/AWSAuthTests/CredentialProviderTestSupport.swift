// Shared by the credential provider tests: the secrets they plant, and a check that no message shows them.
import AWSAuth
import Foundation
import Synchronization
import Testing

/// Values the servers and scripts hand out; no error or description may contain any of them.
enum Planted {
    static let secret = "SECRETsecretSECRET0123456789"
    static let sessionToken = "SESSIONtokenSESSION0123456789"
    static let authorizationToken = "AUTHORIZATIONtoken0123"
    static let ssoAccessToken = "SSOACCESStoken0123456789"
    static let imdsToken = "IMDSsessionTOKEN0123"
    static let all = [secret, sessionToken, authorizationToken, ssoAccessToken, imdsToken]

    /// The container/IMDS JSON answer.
    static func metadataJSON(keyID: String = "ASIAEXAMPLE", expiration: String = "2026-11-30T10:00:00Z") -> String {
        #"{"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"\#(keyID)","SecretAccessKey":"\#(secret)","Token":"\#(sessionToken)","Expiration":"\#(expiration)"}"#
    }
}

/// Records an issue when `text` shows any planted secret.
func expectNoSecrets(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
    for secret in Planted.all {
        #expect(!text.contains(secret), "\"\(text)\" shows a secret", sourceLocation: sourceLocation)
    }
}

/// The ``CredentialProviderError`` `body` throws (nil, with an issue, when it throws none or another).
func providerError<T>(_ body: () async throws -> T, sourceLocation: SourceLocation = #_sourceLocation) async -> CredentialProviderError? {
    do {
        _ = try await body()
        Issue.record("expected a CredentialProviderError", sourceLocation: sourceLocation)
    } catch let error as CredentialProviderError {
        expectNoSecrets(error.description, sourceLocation: sourceLocation)
        expectNoSecrets(String(describing: error), sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected a CredentialProviderError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// `2026-11-30T10:00:00Z`.
func utc(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

/// State a test server's handler keeps between requests (a Mutex cannot be captured by an escaping closure).
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}
