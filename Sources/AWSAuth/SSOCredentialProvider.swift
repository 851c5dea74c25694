// IAM Identity Center (SSO): the token `aws sso login` cached, traded for role credentials at the portal.
import Crypto
import CurlTransport
import Foundation

/// Role credentials through IAM Identity Center, as aws-cli gets them: the access token `aws sso login`
/// cached in `~/.aws/sso/cache/<sha1>.json` (sha1 of the `sso_session` name, or of the start URL for a
/// legacy profile), then `GET /federation/credentials` at `https://portal.sso.<sso_region>.amazonaws.com`.
///
/// This tool never logs in by itself: an expired or missing token means running `aws sso login`.
public struct SSOCredentialProvider: CredentialProvider {
    public let profile: String
    public let accountID: String
    public let roleName: String
    /// `sso_region`: where the portal is.
    public let region: String
    public let startURL: String
    /// The `sso_session` name; nil for a legacy profile (`sso_start_url` in the profile itself).
    public let sessionName: String?
    /// The folder with the cached tokens, `~/.aws/sso/cache`.
    public let cacheDirectory: String
    /// The portal's base URL: `AWS_ENDPOINT_URL_SSO`, else `https://portal.sso.<region>.amazonaws.com`.
    public let portalEndpoint: String
    let http: any CredentialHTTP
    let clock: any RunClock

    public var source: String { "SSO (profile \"\(profile)\", account \(accountID), role \(roleName))" }

    public init(
        profile: String, accountID: String, roleName: String, region: String, startURL: String,
        sessionName: String?, cacheDirectory: String, portalEndpoint: String? = nil,
        http: any CredentialHTTP, clock: any RunClock = SystemClock()
    ) {
        self.profile = profile; self.accountID = accountID; self.roleName = roleName; self.region = region
        self.startURL = startURL; self.sessionName = sessionName; self.cacheDirectory = cacheDirectory
        var endpoint =
            portalEndpoint
            ?? (region.hasPrefix("cn-")
                ? "https://portal.sso.\(region).amazonaws.com.cn" : "https://portal.sso.\(region).amazonaws.com")
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        self.portalEndpoint = endpoint
        self.http = http; self.clock = clock
    }

    /// The provider of a config-file profile, or nil when it has neither `sso_session` nor
    /// `sso_start_url`.
    /// - Parameters:
    ///   - settings: the profile's settings in the config file.
    ///   - ssoSessions: the `[sso-session NAME]` sections of the config file, by name.
    ///   - configPath: the config file, for messages.
    ///   - environment: `HOME` locates the token cache; `AWS_ENDPOINT_URL_SSO` overrides the portal.
    public static func forProfile(
        _ profile: String, settings: [String: String], ssoSessions: [String: [String: String]],
        configPath: String, environment: [String: String], http: any CredentialHTTP,
        clock: any RunClock = SystemClock()
    ) throws(CredentialProviderError) -> SSOCredentialProvider? {
        func value(_ settings: [String: String]?, _ key: String) -> String? {
            guard let v = settings?[key]?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
            return v
        }
        let source = "SSO (profile \"\(profile)\" in \(configPath))"
        let sessionName = value(settings, "sso_session")
        guard sessionName != nil || value(settings, "sso_start_url") != nil else { return nil }

        var startURL: String?, region: String?
        if let sessionName {
            guard let session = ssoSessions[sessionName] else {
                throw CredentialProviderError(
                    source: source, reason: "sso_session = \(sessionName), but \(configPath) has no [sso-session \(sessionName)] section")
            }
            startURL = value(session, "sso_start_url")
            region = value(session, "sso_region")
            // botocore refuses a profile that repeats the session's settings with other values.
            for (key, sessionValue) in [("sso_start_url", startURL), ("sso_region", region)] {
                if let own = value(settings, key), let sessionValue, own != sessionValue {
                    throw CredentialProviderError(
                        source: source, reason: "\(key) is \"\(own)\" in the profile but \"\(sessionValue)\" in [sso-session \(sessionName)]")
                }
            }
            guard startURL != nil else { throw CredentialProviderError(source: source, reason: "[sso-session \(sessionName)] has no sso_start_url") }
            guard region != nil else { throw CredentialProviderError(source: source, reason: "[sso-session \(sessionName)] has no sso_region") }
        } else {
            startURL = value(settings, "sso_start_url")
            region = value(settings, "sso_region")
            guard region != nil else { throw CredentialProviderError(source: source, reason: "the profile has sso_start_url but no sso_region") }
        }
        guard let accountID = value(settings, "sso_account_id") else {
            throw CredentialProviderError(source: source, reason: "the profile has no sso_account_id")
        }
        guard let roleName = value(settings, "sso_role_name") else {
            throw CredentialProviderError(source: source, reason: "the profile has no sso_role_name")
        }
        let home = value(environment, "HOME") ?? NSHomeDirectory()
        return SSOCredentialProvider(
            profile: profile, accountID: accountID, roleName: roleName, region: region!, startURL: startURL!,
            sessionName: sessionName, cacheDirectory: home + "/.aws/sso/cache",
            portalEndpoint: value(environment, "AWS_ENDPOINT_URL_SSO"), http: http, clock: clock)
    }

    /// The provider of `profile` in the config file (`AWS_CONFIG_FILE`, else `~/.aws/config`), or nil when
    /// the profile is not there or is not an SSO profile. Throws ``AWSConfigurationError`` for an unreadable
    /// or malformed file, ``CredentialProviderError`` for incomplete SSO settings.
    public static func fromConfig(
        profile: String, environment: [String: String], http: any CredentialHTTP,
        clock: any RunClock = SystemClock()
    ) throws -> SSOCredentialProvider? {
        let files = try ProfileFiles.load(environment: environment)
        guard let section = files.config?.configProfile(named: profile) else { return nil }
        return try forProfile(
            profile, settings: section.settings, ssoSessions: ProfileFiles.ssoSessions(files.config),
            configPath: files.configPath, environment: environment, http: http, clock: clock)
    }

    /// The cached token's file: the hex SHA-1 of the session name, or of the start URL (legacy).
    public var cacheFile: String {
        let key = sessionName ?? startURL
        let digest = Insecure.SHA1.hash(data: Data(key.utf8))
        return cacheDirectory + "/" + digest.map { String(format: "%02x", $0) }.joined() + ".json"
    }

    private var loginHint: String { "run `aws sso login --profile \(profile)`" }

    public func fetch() async throws -> ExpiringCredentials {
        let accessToken = try cachedToken()
        var components = URLComponents()
        components.queryItems = [URLQueryItem(name: "account_id", value: accountID), URLQueryItem(name: "role_name", value: roleName)]
        let url = portalEndpoint + "/federation/credentials?" + (components.percentEncodedQuery ?? "")
        let response: HTTPResponse
        do {
            response = try await CredentialFetching.send(
                http,
                HTTPRequest(
                    method: "GET", url: url, headers: [("x-amz-sso_bearer_token", accessToken), ("Accept", "application/json")],
                    body: [], timeout: .seconds(10)), attempts: 2)
        } catch {
            throw CredentialProviderError(source: source, reason: "the SSO portal \(portalEndpoint) did not answer (\(error))")
        }
        switch response.status {
        case 200: break
        case 401:
            throw CredentialProviderError(
                source: source,
                reason:
                    "the SSO portal refused the cached token (\(CredentialFetching.statusReason(response))): the SSO session has expired or was revoked: \(loginHint)"
            )
        case 403:
            throw CredentialProviderError(
                source: source,
                reason:
                    "the SSO portal refused the role (\(CredentialFetching.statusReason(response))): check sso_account_id and sso_role_name, or \(loginHint)")
        default:
            throw CredentialProviderError(source: source, reason: "the SSO portal answered \(CredentialFetching.statusReason(response))")
        }
        guard let object = CredentialFetching.jsonObject(response.body),
            let role = object["roleCredentials"] as? [String: Any]
        else {
            throw CredentialProviderError(source: source, reason: "the SSO portal's answer has no roleCredentials")
        }
        guard let id = CredentialFetching.string(role, "accessKeyId"),
            let secret = CredentialFetching.string(role, "secretAccessKey")
        else {
            throw CredentialProviderError(source: source, reason: "the SSO portal's roleCredentials lack accessKeyId or secretAccessKey")
        }
        // Epoch milliseconds.
        let milliseconds: Double? = (role["expiration"] as? Int).map(Double.init) ?? (role["expiration"] as? Double)
        let expiration = milliseconds.map { Date(timeIntervalSince1970: $0 / 1000) }
        return ExpiringCredentials(
            credentials: Credentials(
                accessKeyId: id, secretAccessKey: secret,
                sessionToken: CredentialFetching.string(role, "sessionToken")),
            expiration: expiration)
    }

    /// The cached access token, refused when missing or expired: this tool does not log in by itself.
    private func cachedToken() throws(CredentialProviderError) -> String {
        let path = cacheFile
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CredentialProviderError(source: source, reason: "there is no cached SSO token (\(path)): \(loginHint)")
        }
        guard let object = CredentialFetching.jsonObject(Array(data)),
            let token = CredentialFetching.string(object, "accessToken"),
            let expiresText = CredentialFetching.string(object, "expiresAt")
        else {
            throw CredentialProviderError(source: source, reason: "the cached SSO token \(path) lacks accessToken or expiresAt: \(loginHint)")
        }
        guard let expiresAt = CredentialFetching.date(expiresText) else {
            throw CredentialProviderError(source: source, reason: "the cached SSO token's expiresAt \"\(expiresText)\" in \(path) is not a date: \(loginHint)")
        }
        guard clock.date < expiresAt else {
            throw CredentialProviderError(source: source, reason: "the SSO session has expired: \(loginHint) (the cached token expired at \(expiresText))")
        }
        return token
    }
}
