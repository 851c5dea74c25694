import CurlTransport
import Foundation

/// Who the credentials belong to, as STS `GetCallerIdentity` says.
public struct CallerIdentity: Sendable, Equatable {
    public var account: String
    public var arn: String
    public var userId: String
    public init(account: String, arn: String, userId: String) {
        self.account = account; self.arn = arn; self.userId = userId
    }
}

/// Temporary credentials from an STS `AssumeRole*` call, with the role session they belong to.
public struct AssumedRole: Sendable, Equatable {
    public var credentials: ExpiringCredentials
    /// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
    public var assumedRoleArn: String?
}

/// An error answer from STS, or an answer that could not be read. Never contains a secret.
public struct STSError: Error, Sendable, Equatable, CustomStringConvertible {
    public var action: String
    /// STS's error code (`AccessDenied`, `ExpiredTokenException`, ...), or `HTTP<status>`/`MalformedResponse`.
    public var code: String
    public var message: String
    public var httpStatus: Int?
    public var requestId: String?
    public var endpoint: String

    public init(action: String, code: String, message: String, httpStatus: Int? = nil, requestId: String? = nil, endpoint: String) {
        self.action = action; self.code = code; self.message = message
        self.httpStatus = httpStatus; self.requestId = requestId; self.endpoint = endpoint
    }

    public var description: String {
        var text = "STS \(action) at \(endpoint) failed: \(code)"
        if !message.isEmpty { text += ": \(message)" }
        var details: [String] = []
        if let httpStatus { details.append("HTTP \(httpStatus)") }
        if let requestId { details.append("request id \(requestId)") }
        if !details.isEmpty { text += " (" + details.joined(separator: ", ") + ")" }
        return text
    }
}

/// A minimal STS client: the query protocol (form-encoded `Action=...&Version=2011-06-15` bodies, XML
/// answers), signed with SigV4 for service `sts`. Only what the credential chain and `whoami` need.
///
/// XML is read with a small tag extractor rather than Foundation's XMLParser, which is not in
/// swift-corelibs-foundation's `Foundation` module on Linux (it lives in `FoundationXML` and needs libxml2).
public struct STSClient: Sendable {
    public static let version = "2011-06-15"

    /// Regions where `AWS_STS_REGIONAL_ENDPOINTS=legacy` sends requests to the global endpoint
    /// (botocore's `_LEGACY_GLOBAL_STS_REGIONS`).
    public static let legacyGlobalRegions: Set<String> = [
        "ap-northeast-1", "ap-south-1", "ap-southeast-1", "ap-southeast-2", "aws-global", "ca-central-1",
        "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1", "us-east-1",
        "us-east-2", "us-west-1", "us-west-2",
    ]

    /// The regional endpoint, `https://sts.<region>.amazonaws.com` (`.com.cn` in China).
    public static func defaultEndpoint(region: String) -> String {
        region.hasPrefix("cn-") ? "https://sts.\(region).amazonaws.com.cn" : "https://sts.\(region).amazonaws.com"
    }

    /// The STS endpoint for a region and where it came from: `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`,
    /// a `sts` entry of the profile's `[services]` section or the profile's `endpoint_url` (given as
    /// `configured`), else the regional endpoint, or the global one for the legacy regions when
    /// `AWS_STS_REGIONAL_ENDPOINTS` (or the profile's `sts_regional_endpoints`) is `legacy`.
    public static func endpoint(
        region: String, environment: [String: String],
        configured: (value: String, source: String)? = nil,
        regionalSetting: (value: String, source: String)? = nil
    ) -> (url: String, source: String) {
        func env(_ name: String) -> String? {
            guard let v = environment[name]?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
            return v
        }
        let ignoreConfigured = env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")?.lowercased() == "true"
        if !ignoreConfigured {
            if let v = env("AWS_ENDPOINT_URL_STS") { return (v, "AWS_ENDPOINT_URL_STS") }
            if let v = env("AWS_ENDPOINT_URL") { return (v, "AWS_ENDPOINT_URL") }
            if let configured { return (configured.value, configured.source) }
        }
        let mode = env("AWS_STS_REGIONAL_ENDPOINTS").map { ($0, "AWS_STS_REGIONAL_ENDPOINTS") } ?? regionalSetting
        if let (value, source) = mode, value.lowercased() == "legacy", legacyGlobalRegions.contains(region) {
            return ("https://sts.amazonaws.com", "global endpoint (\(source)=legacy)")
        }
        return (defaultEndpoint(region: region), "regional endpoint for \(region)")
    }

    public let endpoint: String
    /// The region STS requests are signed for.
    public let region: String
    public let http: any HTTPTransport

    public init(endpoint: String, region: String, http: any HTTPTransport) {
        self.endpoint = AWSConfiguration.normalizedEndpoint(endpoint)
        self.region = region
        self.http = http
    }

    /// `AssumeRole` with `credentials` (the source profile's).
    public func assumeRole(
        roleArn: String, sessionName: String, externalId: String? = nil,
        durationSeconds: Int? = nil, credentials: Credentials
    ) async throws(STSError) -> AssumedRole {
        var parameters = [("RoleArn", roleArn), ("RoleSessionName", sessionName)]
        if let externalId { parameters.append(("ExternalId", externalId)) }
        if let durationSeconds { parameters.append(("DurationSeconds", String(durationSeconds))) }
        let xml = try await call("AssumeRole", parameters, credentials: credentials)
        return try Self.assumedRole(xml, action: "AssumeRole", endpoint: endpoint)
    }

    /// `AssumeRoleWithWebIdentity`: needs no credentials, only the identity provider's token.
    public func assumeRoleWithWebIdentity(
        roleArn: String, sessionName: String, webIdentityToken: String,
        durationSeconds: Int? = nil
    ) async throws(STSError) -> AssumedRole {
        var parameters = [("RoleArn", roleArn), ("RoleSessionName", sessionName), ("WebIdentityToken", webIdentityToken)]
        if let durationSeconds { parameters.append(("DurationSeconds", String(durationSeconds))) }
        let xml = try await call("AssumeRoleWithWebIdentity", parameters, credentials: nil)
        return try Self.assumedRole(xml, action: "AssumeRoleWithWebIdentity", endpoint: endpoint)
    }

    /// `GetCallerIdentity`: the account, ARN and user id the credentials belong to.
    public func getCallerIdentity(credentials: Credentials) async throws(STSError) -> CallerIdentity {
        let xml = try await call("GetCallerIdentity", [], credentials: credentials)
        guard let account = XMLText.first("Account", in: xml), let arn = XMLText.first("Arn", in: xml),
            let userId = XMLText.first("UserId", in: xml)
        else {
            throw STSError(
                action: "GetCallerIdentity", code: "MalformedResponse",
                message: "the answer has no Account, Arn or UserId", endpoint: endpoint)
        }
        return CallerIdentity(account: account, arn: arn, userId: userId)
    }

    /// Sends one query-protocol action; returns the XML of a 200 answer, throws STS's error otherwise.
    /// Without credentials the request goes unsigned (AssumeRoleWithWebIdentity).
    func call(_ action: String, _ parameters: [(String, String)], credentials: Credentials?) async throws(STSError) -> String {
        let form = ([("Action", action), ("Version", Self.version)] + parameters)
            .map { "\(Self.formEncode($0.0))=\(Self.formEncode($0.1))" }.joined(separator: "&")
        let body = Array(form.utf8)
        let url = endpoint + "/"
        var headers: [(name: String, value: String)] = [
            ("Host", Self.hostHeader(endpoint)),
            ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
        ]
        if let credentials {
            let signer = SigV4Signer(credentials: credentials, region: region, service: "sts")
            headers = signer.signedHeaders(for: SigningRequest(method: "POST", path: "/", headers: headers, body: body), date: Date())
        }
        headers.append(("User-Agent", "dynamo-migrate/0.1"))
        let response: HTTPResponse
        do {
            response = try await http.send(HTTPRequest(method: "POST", url: url, headers: headers, body: body))
        } catch {
            throw STSError(action: action, code: "NetworkError", message: "\(error)", endpoint: endpoint)
        }
        let text = String(decoding: response.body, as: UTF8.self)
        let requestId = response.header("x-amzn-requestid") ?? XMLText.first("RequestId", in: text)
        guard response.status == 200 else {
            if let code = XMLText.first("Code", in: text) {
                throw STSError(
                    action: action, code: code, message: XMLText.first("Message", in: text) ?? "",
                    httpStatus: response.status, requestId: requestId, endpoint: endpoint)
            }
            throw STSError(
                action: action, code: "HTTP\(response.status)",
                message: "the endpoint did not answer with an STS error: is it an STS endpoint?",
                httpStatus: response.status, requestId: requestId, endpoint: endpoint)
        }
        return text
    }

    static func assumedRole(_ xml: String, action: String, endpoint: String) throws(STSError) -> AssumedRole {
        guard let credentials = XMLText.first("Credentials", in: xml),
            let id = XMLText.first("AccessKeyId", in: credentials),
            let secret = XMLText.first("SecretAccessKey", in: credentials),
            let token = XMLText.first("SessionToken", in: credentials),
            let expirationText = XMLText.first("Expiration", in: credentials),
            let expiration = parseTimestamp(expirationText)
        else {
            throw STSError(
                action: action, code: "MalformedResponse",
                message: "the answer has no complete Credentials (AccessKeyId, SecretAccessKey, SessionToken, Expiration)",
                endpoint: endpoint)
        }
        let arn = XMLText.first("AssumedRoleUser", in: xml).flatMap { XMLText.first("Arn", in: $0) }
        return AssumedRole(
            credentials: ExpiringCredentials(
                credentials: Credentials(accessKeyId: id, secretAccessKey: secret, sessionToken: token), expiration: expiration),
            assumedRoleArn: arn)
    }

    /// ISO 8601 with or without fractional seconds (`2026-11-30T08:26:05.127734Z`, `...:05Z`).
    public static func parseTimestamp(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = fractional.date(from: text) { return date }
        // More than three fractional digits: drop them (Python prints microseconds).
        if let dot = text.firstIndex(of: "."), let zone = text[dot...].firstIndex(where: { $0 == "Z" || $0 == "+" || $0 == "-" }) {
            return plain.date(from: String(text[..<dot]) + String(text[zone...]))
        }
        return nil
    }

    static func formEncode(_ s: String) -> String {
        var out = ""
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"),
                UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(UnicodeScalar(byte))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    static func hostHeader(_ endpoint: String) -> String {
        guard let components = URLComponents(string: endpoint), let host = components.host else { return endpoint }
        let bracketed = host.contains(":") ? "[\(host)]" : host
        if let port = components.port { return "\(bracketed):\(port)" }
        return bracketed
    }
}

/// The text of XML elements, enough for STS's flat answers: no namespaces prefixes, attributes ignored,
/// the five predefined entities and numeric character references decoded.
enum XMLText {
    /// The content of the first `<name>...</name>` (or `<name attr="...">...</name>`) in `xml`.
    static func first(_ name: String, in xml: String) -> String? {
        var searchFrom = xml.startIndex
        while let open = xml.range(of: "<" + name, range: searchFrom..<xml.endIndex) {
            guard let after = xml[open.upperBound...].first else { return nil }
            guard after == ">" || after == " " || after == "\t" || after == "\n" || after == "/" else {
                searchFrom = open.upperBound
                continue
            }
            guard let tagEnd = xml[open.upperBound...].firstIndex(of: ">") else { return nil }
            if xml[xml.index(before: tagEnd)] == "/" { return "" }
            let contentStart = xml.index(after: tagEnd)
            guard let close = xml.range(of: "</" + name + ">", range: contentStart..<xml.endIndex) else { return nil }
            return decode(String(xml[contentStart..<close.lowerBound]))
        }
        return nil
    }

    static func decode(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var out = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semi = rest[amp...].firstIndex(of: ";"), rest.distance(from: amp, to: semi) <= 10 else {
                out += "&"; rest = rest[rest.index(after: amp)...]; continue
            }
            let entity = rest[rest.index(after: amp)..<semi]
            let named = ["amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'"]
            if let value = named[String(entity)] {
                out += value
            } else if entity.hasPrefix("#x") || entity.hasPrefix("#X"), let code = UInt32(entity.dropFirst(2), radix: 16),
                let scalar = UnicodeScalar(code)
            {
                out.unicodeScalars.append(scalar)
            } else if entity.hasPrefix("#"), let code = UInt32(entity.dropFirst()), let scalar = UnicodeScalar(code) {
                out.unicodeScalars.append(scalar)
            } else {
                out += rest[amp...semi]
            }
            rest = rest[rest.index(after: semi)...]
        }
        return out + rest
    }
}
