// What the HTTP credential providers (container, IMDS, SSO) share: short retried requests, JSON
// answers, the dates AWS writes. One place, so every provider treats them the same way.
import CurlTransport
import Foundation

enum CredentialFetching {
    /// Why an answer holds no credentials, in a sentence without secrets.
    struct Problem: Error { var reason: String; init(_ reason: String) { self.reason = reason } }

    /// Sends `request` up to `attempts` times: again after a failure below HTTP or a 5xx answer, which
    /// the metadata services give while they start; a 4xx answer is returned at once (retrying cannot
    /// fix it). Returns the last answer or throws the last transport error.
    static func send(_ http: any CredentialHTTP, _ request: HTTPRequest, attempts: Int) async throws(TransportError) -> HTTPResponse {
        var lastResponse: HTTPResponse?
        var lastError = TransportError.other(url: request.url, code: 0, reason: "no attempt was made")
        for _ in 0..<max(1, attempts) {
            do {
                let response = try await http.send(request)
                guard (500...599).contains(response.status) else { return response }
                lastResponse = response
            } catch {
                if error.isCancellation || error == .shutDown { throw error }
                lastError = error
                lastResponse = nil
            }
        }
        if let lastResponse { return lastResponse }
        throw lastError
    }

    /// The body as a JSON object, or nil when it is not one.
    static func jsonObject(_ body: [UInt8]) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }

    /// A non-empty string field of a JSON object.
    static func string(_ object: [String: Any], _ key: String) -> String? {
        guard let value = object[key] as? String, !value.isEmpty else { return nil }
        return value
    }

    /// An ISO 8601 date as AWS writes them: `2026-11-30T09:00:00Z`, with fractional seconds, with an
    /// offset such as `+00:00`, or with aws-cli v1's `UTC` suffix.
    static func date(_ text: String) -> Date? {
        var text = text.trimmingCharacters(in: .whitespaces)
        if text.hasSuffix("UTC") { text = String(text.dropLast(3)) + "Z" }
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }

    /// `AccessKeyId`, `SecretAccessKey`, `Token`, `Expiration`: the answer of the container endpoint and
    /// of IMDS. Nil with the reason when a field is missing or the body is not JSON; the reason never
    /// contains the body (it holds secrets).
    static func metadataCredentials(_ body: [UInt8]) -> Result<ExpiringCredentials, Problem> {
        guard let object = jsonObject(body) else { return .failure(Problem("the answer is not a JSON object")) }
        if let code = string(object, "Code"), code != "Success" {
            let message = string(object, "Message").map { ": \($0)" } ?? ""
            return .failure(Problem("the answer's Code is \(code)\(message)"))
        }
        guard let id = string(object, "AccessKeyId") else { return .failure(Problem("the answer has no AccessKeyId")) }
        guard let secret = string(object, "SecretAccessKey") else { return .failure(Problem("the answer has no SecretAccessKey")) }
        var expiration: Date?
        if let text = string(object, "Expiration") {
            guard let date = date(text) else { return .failure(Problem("the answer's Expiration \"\(text)\" is not an ISO 8601 date")) }
            expiration = date
        }
        return .success(
            ExpiringCredentials(
                credentials: Credentials(accessKeyId: id, secretAccessKey: secret, sessionToken: string(object, "Token")),
                expiration: expiration))
    }

    /// What a non-2xx answer says, for an error message: the status and a short `Message`/`message` or
    /// `Code` of a JSON body. Never the raw body, which may echo what was sent.
    static func statusReason(_ response: HTTPResponse) -> String {
        var text = "HTTP \(response.status)"
        if let object = jsonObject(response.body),
            let message = string(object, "message") ?? string(object, "Message") ?? string(object, "Code")
        {
            text += " (\(message.prefix(200)))"
        }
        return text
    }
}

/// The aws-cli files a profile-based provider reads when it is built from the environment alone
/// (``SSOCredentialProvider/fromConfig(profile:environment:http:clock:)``): `AWS_CONFIG_FILE` else
/// `~/.aws/config`, `AWS_SHARED_CREDENTIALS_FILE` else `~/.aws/credentials`, `~` being `HOME`.
struct ProfileFiles {
    var configPath: String
    var credentialsPath: String
    var config: ConfigFile?
    var credentials: ConfigFile?

    static func load(environment: [String: String]) throws(AWSConfigurationError) -> ProfileFiles {
        func env(_ name: String) -> String? {
            guard let value = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
            return value
        }
        let home = env("HOME") ?? NSHomeDirectory()
        func expand(_ path: String) -> String {
            if path == "~" { return home }
            if path.hasPrefix("~/") { return home + path.dropFirst(1) }
            return path
        }
        let configPath = expand(env("AWS_CONFIG_FILE") ?? "~/.aws/config")
        let credentialsPath = expand(env("AWS_SHARED_CREDENTIALS_FILE") ?? "~/.aws/credentials")
        return ProfileFiles(
            configPath: configPath, credentialsPath: credentialsPath,
            config: try ConfigFile.load(path: configPath),
            credentials: try ConfigFile.load(path: credentialsPath))
    }

    /// The `[sso-session NAME]` sections of a config file, by name.
    static func ssoSessions(_ config: ConfigFile?) -> [String: [String: String]] {
        var sessions: [String: [String: String]] = [:]
        for section in config?.sections ?? [] where section.name.hasPrefix("sso-session") {
            let name = section.name.dropFirst("sso-session".count)
            guard name.first == " " || name.first == "\t" else { continue }
            sessions[name.trimmingCharacters(in: .whitespaces)] = section.values.compactMapValues(\.string)
        }
        return sessions
    }
}

extension ConfigFile.Section {
    /// The plain `name = value` settings (nested ones left out).
    var settings: [String: String] { values.compactMapValues(\.string) }
}
