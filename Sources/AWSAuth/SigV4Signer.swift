import Crypto
import Foundation

/// An HTTP request as the signer sees it. `path` and `query` are exactly as they go on the wire.
public struct SigningRequest: Sendable {
    public var method: String
    /// The path as sent. The signer URI-encodes it once more for the canonical request, as SigV4
    /// requires for every service but S3 (DynamoDB always uses `/`).
    public var path: String
    /// The query string without the leading `?`; empty when there is none.
    public var query: String
    /// Header names as given; order kept; repeated names allowed. Must include `Host`: SigV4 signs it.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// The payload hash to sign instead of the SHA-256 of `body`: S3's `UNSIGNED-PAYLOAD`, or a hash
    /// computed while the body was read from a file. Nil (the default) hashes `body`.
    public var payloadHash: String?
    public init(
        method: String, path: String, query: String = "", headers: [(name: String, value: String)], body: [UInt8],
        payloadHash: String? = nil
    ) {
        self.method = method; self.path = path; self.query = query; self.headers = headers; self.body = body
        self.payloadHash = payloadHash
    }
}

/// AWS Signature Version 4 for one service and region.
///
/// The stages are public and named as in AWS's documentation, so each can be checked on its own:
/// ``canonicalRequest(for:date:)``, ``stringToSign(canonicalRequest:date:)``,
/// ``signingKey(date:)``, ``signature(stringToSign:date:)`` and ``authorization(for:date:)``.
/// ``signedHeaders(for:date:)`` runs them all and is what a client calls per request.
/// Query signing (presigned URLs) is ``presignedCanonicalRequest(for:date:expires:)`` and
/// ``presignedQuery(for:date:expires:)``. A signer is cheap to copy and safe to share between tasks;
/// it caches the day's signing key.
public struct SigV4Signer: Sendable {
    public var credentials: Credentials
    public var region: String
    public var service: String
    /// Removes `.`/`..` segments and repeated slashes from the path before signing. AWS does this for
    /// every service except S3. Default `true`.
    public var normalizesPath: Bool = true
    /// Signs `X-Amz-Security-Token` (default). When `false` the token is still sent but added after
    /// signing, as a few services (older STS flows) expect.
    public var signsSessionToken: Bool = true
    /// Adds and signs `x-amz-content-sha256` with the payload hash (S3 style). Default `false`:
    /// DynamoDB does not need it.
    public var addsContentSHA256Header: Bool = false
    /// URI-encodes the (already encoded) path once more for the canonical request, as SigV4 requires for
    /// every service but S3. Default `true`; S3 signs its path exactly as sent.
    public var encodesPathAgain: Bool = true

    /// Shared between copies of this signer; entries are keyed on everything they derive from.
    private let keyCache = SigningKeyCache()

    public static let algorithm = "AWS4-HMAC-SHA256"

    public init(credentials: Credentials, region: String, service: String) {
        self.credentials = credentials; self.region = region; self.service = service
    }

    public init(
        credentials: Credentials, region: String, service: String,
        normalizesPath: Bool, signsSessionToken: Bool = true, addsContentSHA256Header: Bool = false
    ) {
        self.init(credentials: credentials, region: region, service: service)
        self.normalizesPath = normalizesPath
        self.signsSessionToken = signsSessionToken
        self.addsContentSHA256Header = addsContentSHA256Header
    }

    /// A signer for S3: the path is signed as sent (no normalisation, no second encoding) and
    /// `x-amz-content-sha256` is added and signed.
    public static func s3(credentials: Credentials, region: String) -> SigV4Signer {
        var signer = SigV4Signer(credentials: credentials, region: region, service: "s3")
        signer.normalizesPath = false
        signer.addsContentSHA256Header = true
        signer.encodesPathAgain = false
        return signer
    }

    /// S3's payload hash for a body that is not signed (streamed uploads).
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    // MARK: - Stages

    /// Task 1: the canonical request, including the headers the signer adds (`x-amz-date`,
    /// `x-amz-security-token`, `x-amz-content-sha256` as configured).
    public func canonicalRequest(for request: SigningRequest, date: Date) -> String {
        let stamp = AmzTimestamp(date)
        return String(decoding: prepare(request, stamp: stamp).canonicalRequest, as: UTF8.self)
    }

    /// Task 2: the string to sign for a canonical request.
    public func stringToSign(canonicalRequest: String, date: Date) -> String {
        let stamp = AmzTimestamp(date)
        return String(decoding: stringToSignBytes(canonicalRequest: Array(canonicalRequest.utf8), stamp: stamp), as: UTF8.self)
    }

    /// Task 3: the signing key for the date (UTC day), region and service:
    /// HMAC chain `AWS4<secret>` → date → region → service → `aws4_request`.
    public func signingKey(date: Date) -> [UInt8] {
        signingKey(dateStamp: AmzTimestamp(date).dateStamp).withUnsafeBytes { Array($0) }
    }

    /// Task 4: the hex signature of a string to sign.
    public func signature(stringToSign: String, date: Date) -> String {
        let key = signingKey(dateStamp: AmzTimestamp(date).dateStamp)
        return Hex.encode(mac: HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
    }

    /// The credential scope, e.g. `20150830/us-east-1/dynamodb/aws4_request`.
    public func credentialScope(date: Date) -> String {
        "\(AmzTimestamp(date).dateStamp)/\(region)/\(service)/aws4_request"
    }

    /// Task 5: the value of the `Authorization` header for the request.
    public func authorization(for request: SigningRequest, date: Date) -> String {
        sign(request, stamp: AmzTimestamp(date)).authorization
    }

    /// Query signing: the canonical request of a presigned URL valid for `expires` seconds.
    public func presignedCanonicalRequest(for request: SigningRequest, date: Date, expires: Int) -> String {
        String(decoding: prepare(request, stamp: AmzTimestamp(date), presignExpires: expires).canonicalRequest, as: UTF8.self)
    }

    /// Query signing: the query string of a presigned URL (the request's own query first, then the
    /// `X-Amz-*` parameters and `X-Amz-Signature`), valid for `expires` seconds.
    public func presignedQuery(for request: SigningRequest, date: Date, expires: Int) -> String {
        let stamp = AmzTimestamp(date)
        let prepared = prepare(request, stamp: stamp, presignExpires: expires)
        let toSign = stringToSignBytes(canonicalRequest: prepared.canonicalRequest, stamp: stamp)
        let signature = Hex.encode(mac: HMAC<SHA256>.authenticationCode(for: toSign, using: signingKey(dateStamp: stamp.dateStamp)))
        // A token left out of the signature (signsSessionToken == false) is still sent.
        let params = presignParameters(stamp: stamp, signedHeaders: prepared.signedHeaderNames, expires: expires, includeToken: true)
        return (request.query.isEmpty ? "" : request.query + "&") + params + "&X-Amz-Signature=" + signature
    }

    /// Returns the request's headers plus `X-Amz-Date`, `X-Amz-Security-Token` (when there is a
    /// session token) and `Authorization`, ready to send.
    ///
    /// Any `Authorization`, `X-Amz-Date` and `X-Amz-Security-Token` already in the request are replaced
    /// (a retried request is signed afresh).
    public func signedHeaders(for request: SigningRequest, date: Date) -> [(name: String, value: String)] {
        let stamp = AmzTimestamp(date)
        let signed = sign(request, stamp: stamp)
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(request.headers.count + 4)
        for header in request.headers where !isReplaced(header.name) {
            headers.append(header)
        }
        if let token = credentials.sessionToken { headers.append(("X-Amz-Security-Token", token)) }
        headers.append(("X-Amz-Date", stamp.amzDate))
        if addsContentSHA256Header { headers.append(("x-amz-content-sha256", signed.payloadHash)) }
        headers.append(("Authorization", signed.authorization))
        return headers
    }

    /// Lowercase hex SHA-256 of a payload, as used in the canonical request.
    public static func payloadHash(_ body: [UInt8]) -> String {
        Hex.encode(digest: SHA256.hash(data: body))
    }

    /// SigV4's URI encoding (RFC 3986 unreserved characters kept, every other byte as `%XX`), with `/`
    /// kept when `keepSlash`: how S3 keys go into paths and values into query strings.
    public static func uriEncoded(_ text: String, keepSlash: Bool) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        Canonical.uriEncode(text.utf8, keepSlash: keepSlash, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `YYYYMMDD'T'HHMMSS'Z'` in UTC, the format of `X-Amz-Date`.
    public static func amzDate(_ date: Date) -> String { AmzTimestamp(date).amzDate }

    // MARK: - Internals

    private struct Prepared {
        var canonicalRequest: [UInt8]
        var signedHeaderNames: String
        var payloadHash: String
    }

    private func sign(_ request: SigningRequest, stamp: AmzTimestamp) -> (authorization: String, payloadHash: String) {
        let prepared = prepare(request, stamp: stamp)
        let toSign = stringToSignBytes(canonicalRequest: prepared.canonicalRequest, stamp: stamp)
        let key = signingKey(dateStamp: stamp.dateStamp)
        let signature = Hex.encode(mac: HMAC<SHA256>.authenticationCode(for: toSign, using: key))
        let authorization =
            "\(Self.algorithm) Credential=\(credentials.accessKeyId)/\(stamp.dateStamp)/\(region)/\(service)/aws4_request, SignedHeaders=\(prepared.signedHeaderNames), Signature=\(signature)"
        return (authorization, prepared.payloadHash)
    }

    /// Names the signer sets itself, so copies in the request are dropped.
    private func isReplaced(_ name: String) -> Bool {
        let lower = name.lowercased()
        if lower == "authorization" || lower == "x-amz-date" { return true }
        if lower == "x-amz-security-token" { return credentials.sessionToken != nil }
        if lower == "x-amz-content-sha256" { return addsContentSHA256Header }
        return false
    }

    /// Builds the canonical request. With `presignExpires` it is the query-signing (presigned URL) variant:
    /// only the request's own headers are signed and the `X-Amz-*` parameters join the query.
    private func prepare(_ request: SigningRequest, stamp: AmzTimestamp, presignExpires: Int? = nil) -> Prepared {
        let payloadHash = request.payloadHash ?? Self.payloadHash(request.body)
        let presigning = presignExpires != nil

        var headers: [(name: [UInt8], value: [UInt8])] = []
        headers.reserveCapacity(request.headers.count + 3)
        for header in request.headers where presigning ? header.name.lowercased() != "authorization" : !isReplaced(header.name) {
            let name = Canonical.lowercasedBytes(header.name)
            if Canonical.unsignedHeaders.contains(name) { continue }
            headers.append((name, Canonical.headerValue(header.value)))
        }
        if !presigning {
            headers.append((Array("x-amz-date".utf8), Array(stamp.amzDate.utf8)))
            if signsSessionToken, let token = credentials.sessionToken {
                headers.append((Array("x-amz-security-token".utf8), Canonical.headerValue(token)))
            }
            if addsContentSHA256Header {
                headers.append((Array("x-amz-content-sha256".utf8), Array(payloadHash.utf8)))
            }
        }
        // Stable sort keeps repeated headers in their original order before they are joined.
        let order = headers.indices.sorted { a, b in
            let c = Canonical.compare(headers[a].name, headers[b].name)
            return c != 0 ? c < 0 : a < b
        }
        var headerBlock: [UInt8] = []
        headerBlock.reserveCapacity(headers.count * 48)
        var signedNames: [UInt8] = []
        var i = 0
        while i < order.count {
            let name = headers[order[i]].name
            headerBlock.append(contentsOf: name)
            headerBlock.append(0x3A)  // ':'
            headerBlock.append(contentsOf: headers[order[i]].value)
            var j = i + 1
            while j < order.count, headers[order[j]].name == name {
                headerBlock.append(0x2C)  // ','
                headerBlock.append(contentsOf: headers[order[j]].value)
                j += 1
            }
            headerBlock.append(0x0A)
            if !signedNames.isEmpty { signedNames.append(0x3B) }  // ';'
            signedNames.append(contentsOf: name)
            i = j
        }
        let signedHeaderNames = String(decoding: signedNames, as: UTF8.self)

        var query = request.query
        if let expires = presignExpires {
            let params = presignParameters(
                stamp: stamp, signedHeaders: signedHeaderNames, expires: expires,
                includeToken: signsSessionToken)
            query = query.isEmpty ? params : query + "&" + params
        }

        var out: [UInt8] = []
        out.reserveCapacity(128 + request.path.utf8.count + query.utf8.count + headerBlock.count + signedNames.count)
        out.append(contentsOf: request.method.utf8)
        out.append(0x0A)
        let path = normalizesPath ? Canonical.normalizedPath(request.path) : (request.path.isEmpty ? "/" : request.path)
        if encodesPathAgain {
            Canonical.uriEncode(path.utf8, keepSlash: true, into: &out)
        } else {
            out.append(contentsOf: path.utf8)
        }
        out.append(0x0A)
        Canonical.query(query, into: &out)
        out.append(0x0A)
        out.append(contentsOf: headerBlock)
        out.append(0x0A)
        out.append(contentsOf: signedNames)
        out.append(0x0A)
        out.append(contentsOf: payloadHash.utf8)
        return Prepared(canonicalRequest: out, signedHeaderNames: signedHeaderNames, payloadHash: payloadHash)
    }

    /// The `X-Amz-*` query parameters of a presigned request, in the order AWS's examples use.
    private func presignParameters(stamp: AmzTimestamp, signedHeaders: String, expires: Int, includeToken: Bool) -> String {
        func encoded(_ s: String) -> String {
            var out: [UInt8] = []
            Canonical.uriEncode(s.utf8, keepSlash: false, into: &out)
            return String(decoding: out, as: UTF8.self)
        }
        var params =
            "X-Amz-Algorithm=\(Self.algorithm)"
            + "&X-Amz-Credential=" + encoded("\(credentials.accessKeyId)/\(stamp.dateStamp)/\(region)/\(service)/aws4_request")
            + "&X-Amz-Date=\(stamp.amzDate)"
            + "&X-Amz-SignedHeaders=" + encoded(signedHeaders)
            + "&X-Amz-Expires=\(expires)"
        if includeToken, let token = credentials.sessionToken { params += "&X-Amz-Security-Token=" + encoded(token) }
        return params
    }

    private func stringToSignBytes(canonicalRequest: [UInt8], stamp: AmzTimestamp) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160)
        out.append(contentsOf: Self.algorithm.utf8)
        out.append(0x0A)
        out.append(contentsOf: stamp.amzDate.utf8)
        out.append(0x0A)
        out.append(contentsOf: stamp.dateStamp.utf8)
        out.append(0x2F)
        out.append(contentsOf: region.utf8)
        out.append(0x2F)
        out.append(contentsOf: service.utf8)
        out.append(contentsOf: "/aws4_request\n".utf8)
        out.append(contentsOf: Hex.encode(digest: SHA256.hash(data: canonicalRequest)).utf8)
        return out
    }

    private func signingKey(dateStamp: String) -> SymmetricKey {
        let secret = credentials.secretAccessKey
        if let key = keyCache.lookup(secret: secret, dateStamp: dateStamp, region: region, service: service) {
            return key
        }
        func hmac(_ key: SymmetricKey, _ text: String) -> SymmetricKey {
            SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: key))
        }
        let kSecret = SymmetricKey(data: Array(("AWS4" + secret).utf8))
        let key = hmac(hmac(hmac(hmac(kSecret, dateStamp), region), service), "aws4_request")
        keyCache.store(secret: secret, dateStamp: dateStamp, region: region, service: service, key: key)
        return key
    }
}

/// The last signing key derived; keys change once a day, so one entry is enough.
/// Its mirror is empty so that `dump(signer)` cannot print the secret it holds.
private final class SigningKeyCache: @unchecked Sendable, CustomReflectable {
    var customMirror: Mirror { Mirror(self, children: [:]) }
    private struct Entry {
        var secret: String, dateStamp: String, region: String, service: String, key: SymmetricKey
    }
    private let lock = NSLock()
    private var entry: Entry?

    func lookup(secret: String, dateStamp: String, region: String, service: String) -> SymmetricKey? {
        lock.lock(); defer { lock.unlock() }
        guard let e = entry, e.dateStamp == dateStamp, e.secret == secret, e.region == region, e.service == service
        else { return nil }
        return e.key
    }

    func store(secret: String, dateStamp: String, region: String, service: String, key: SymmetricKey) {
        lock.lock(); defer { lock.unlock() }
        entry = Entry(secret: secret, dateStamp: dateStamp, region: region, service: service, key: key)
    }
}

/// `X-Amz-Date` and the scope's date, computed with integer arithmetic (no DateFormatter, no Calendar).
struct AmzTimestamp {
    let amzDate: String  // 20150830T123600Z
    let dateStamp: String  // 20150830

    init(_ date: Date) {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 { secondOfDay += 86_400; days -= 1 }
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)

        var bytes = [UInt8](repeating: 0x30, count: 16)
        func put(_ value: Int64, at offset: Int, width: Int) {
            var v = value
            for i in stride(from: offset + width - 1, through: offset, by: -1) {
                bytes[i] = 0x30 + UInt8(v % 10); v /= 10
            }
        }
        put(year, at: 0, width: 4)
        put(month, at: 4, width: 2)
        put(day, at: 6, width: 2)
        bytes[8] = 0x54  // T
        put(secondOfDay / 3_600, at: 9, width: 2)
        put(secondOfDay % 3_600 / 60, at: 11, width: 2)
        put(secondOfDay % 60, at: 13, width: 2)
        bytes[15] = 0x5A  // Z
        amzDate = String(decoding: bytes, as: UTF8.self)
        dateStamp = String(decoding: bytes[0..<8], as: UTF8.self)
    }
}

enum Hex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)
    static func encode<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
    static func encode<M: MessageAuthenticationCode>(mac: M) -> String { mac.withUnsafeBytes { encode($0) } }
    static func encode<H: Digest>(digest: H) -> String { digest.withUnsafeBytes { encode($0) } }
}

/// SigV4 canonicalisation rules.
enum Canonical {
    /// Hop-by-hop and proxy-rewritten headers: signing them would break the signature in transit
    /// (the same list as botocore's).
    static let unsignedHeaders: Set<[UInt8]> = Set(
        [
            "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
            "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id",
        ].map { Array($0.utf8) })

    static func lowercasedBytes(_ s: String) -> [UInt8] {
        var out = Array(s.utf8)
        for i in out.indices where out[i] >= 0x41 && out[i] <= 0x5A { out[i] += 0x20 }
        return out
    }

    /// Trims the value and collapses runs of whitespace (including folded lines) into one space.
    static func headerValue(_ value: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count)
        var pendingSpace = false
        for b in value.utf8 {
            if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(0x20); pendingSpace = false }
                out.append(b)
            }
        }
        return out
    }

    static func compare(_ a: [UInt8], _ b: [UInt8]) -> Int {
        let n = min(a.count, b.count)
        for i in 0..<n where a[i] != b[i] { return a[i] < b[i] ? -1 : 1 }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }

    static func isUnreserved(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
            || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E
    }

    private static let upperHex: [UInt8] = Array("0123456789ABCDEF".utf8)

    static func uriEncode<S: Sequence>(_ bytes: S, keepSlash: Bool, into out: inout [UInt8]) where S.Element == UInt8 {
        for b in bytes {
            if isUnreserved(b) || (keepSlash && b == 0x2F) {
                out.append(b)
            } else {
                out.append(0x25)
                out.append(upperHex[Int(b >> 4)])
                out.append(upperHex[Int(b & 0x0F)])
            }
        }
    }

    /// Removes empty and `.` segments and resolves `..`; keeps a trailing slash.
    static func normalizedPath(_ path: String) -> String {
        if path == "/" || path.isEmpty { return "/" }
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." { _ = segments.popLast(); continue }
            segments.append(segment)
        }
        var result = "/" + segments.joined(separator: "/")
        if path.hasSuffix("/") && result != "/" { result += "/" }
        return result
    }

    /// Percent-decodes `%XX`; a malformed escape is kept literally (and so encoded as `%25`).
    static func percentDecoded(_ s: Substring) -> [UInt8] {
        let bytes = Array(s.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        func hexValue(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x41...0x46: return c - 0x41 + 10
            case 0x61...0x66: return c - 0x61 + 10
            default: return nil
            }
        }
        while i < bytes.count {
            if bytes[i] == 0x25, i + 2 < bytes.count, let hi = hexValue(bytes[i + 1]), let lo = hexValue(bytes[i + 2]) {
                out.append(hi << 4 | lo); i += 3
            } else {
                out.append(bytes[i]); i += 1
            }
        }
        return out
    }

    /// Canonical query string: each name and value decoded then URI-encoded, sorted by name then value.
    static func query(_ query: String, into out: inout [UInt8]) {
        guard !query.isEmpty else { return }
        var pairs: [(name: [UInt8], value: [UInt8])] = []
        for part in query.split(separator: "&", omittingEmptySubsequences: true) {
            let name: Substring, value: Substring
            if let eq = part.firstIndex(of: "=") {
                name = part[..<eq]; value = part[part.index(after: eq)...]
            } else {
                name = part; value = ""
            }
            var encodedName: [UInt8] = [], encodedValue: [UInt8] = []
            uriEncode(percentDecoded(name), keepSlash: false, into: &encodedName)
            uriEncode(percentDecoded(value), keepSlash: false, into: &encodedValue)
            pairs.append((encodedName, encodedValue))
        }
        pairs.sort { a, b in
            let c = compare(a.name, b.name)
            return c != 0 ? c < 0 : compare(a.value, b.value) < 0
        }
        for (i, pair) in pairs.enumerated() {
            if i > 0 { out.append(0x26) }
            out.append(contentsOf: pair.name)
            out.append(0x3D)
            out.append(contentsOf: pair.value)
        }
    }
}
