// Conformance with the AWS SigV4 test suite in ../shared/sigv4-test-suite (header signing).
import AWSAuth
import Foundation
import TestSupport
import Testing

/// One case folder of the AWS SigV4 test suite, read into what the signer needs.
struct SigV4SuiteCase {
    let name: String
    let directory: URL
    let request: SigningRequest
    let signer: SigV4Signer
    let date: Date
    let expires: Int

    static var suiteDirectory: URL? {
        guard let dir = TestEnvironment.sharedDirectory?.appendingPathComponent("sigv4-test-suite"),
            FileManager.default.fileExists(atPath: dir.path)
        else { return nil }
        return dir
    }

    /// Folder names holding a header-signing case; empty when the suite is absent.
    static var caseNames: [String] {
        guard let dir = suiteDirectory,
            let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path)
        else { return [] }
        return names.filter {
            FileManager.default.fileExists(atPath: dir.appendingPathComponent($0).appendingPathComponent("header-canonical-request.txt").path)
        }.sorted()
    }

    func expected(_ file: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
    }

    init(name: String) throws {
        let dir = try #require(Self.suiteDirectory).appendingPathComponent(name)
        self.name = name
        self.directory = dir
        let contextData = try Data(contentsOf: dir.appendingPathComponent("context.json"))
        let context = try #require(try JSONSerialization.jsonObject(with: contextData) as? [String: Any])
        let creds = try #require(context["credentials"] as? [String: Any])
        let accessKeyId = try #require(creds["access_key_id"] as? String)
        let secret = try #require(creds["secret_access_key"] as? String)
        let credentials = Credentials(accessKeyId: accessKeyId, secretAccessKey: secret, sessionToken: creds["token"] as? String)
        let region = try #require(context["region"] as? String)
        let service = try #require(context["service"] as? String)
        let timestamp = try #require(context["timestamp"] as? String)
        signer = SigV4Signer(
            credentials: credentials, region: region, service: service,
            normalizesPath: context["normalize"] as? Bool ?? true,
            signsSessionToken: !(context["omit_session_token"] as? Bool ?? false),
            addsContentSHA256Header: context["sign_body"] as? Bool ?? false)
        date = try #require(ISO8601DateFormatter().date(from: timestamp))
        expires = context["expiration_in_seconds"] as? Int ?? 3600
        request = try Self.parseRequest(try String(contentsOf: dir.appendingPathComponent("request.txt"), encoding: .utf8))
    }

    /// `METHOD target HTTP/1.1`, headers (indented lines fold into the previous value), blank line, body.
    static func parseRequest(_ text: String) throws -> SigningRequest {
        let (lines, headers) = try parseHead(text)
        let requestLine = try #require(lines.first)
        let method = String(requestLine.prefix { $0 != " " })
        let afterMethod = requestLine.dropFirst(method.count + 1)
        let httpVersion = try #require(afterMethod.range(of: " HTTP/", options: .backwards))
        let target = afterMethod[..<httpVersion.lowerBound]
        let path: Substring, query: Substring
        if let q = target.firstIndex(of: "?") {
            path = target[..<q]; query = target[target.index(after: q)...]
        } else {
            path = target; query = ""
        }
        var body: [UInt8] = []
        if let blank = text.range(of: "\n\n") { body = Array(text[blank.upperBound...].utf8) }
        return SigningRequest(method: method, path: String(path), query: String(query), headers: headers, body: body)
    }

    /// A request or signed-request head: its lines and its headers in order.
    static func parseHead(_ text: String) throws -> (lines: [Substring], headers: [(name: String, value: String)]) {
        let head = text.range(of: "\n\n").map { text[..<$0.lowerBound] } ?? Substring(text)
        let lines = head.split(separator: "\n", omittingEmptySubsequences: false)
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() where !line.isEmpty {
            if line.first == " " || line.first == "\t" {
                let last = try #require(headers.last)
                headers[headers.count - 1] = (last.name, last.value + "\n" + line)
            } else {
                let colon = try #require(line.firstIndex(of: ":"))
                headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
            }
        }
        return (lines, headers)
    }
}

@Suite struct SigV4ConformanceTests {
    @Test(
        "The suite's header-signing cases are all found",
        .enabled(
            if: SigV4SuiteCase.suiteDirectory != nil,
            "AWS SigV4 test suite not found at ../shared/sigv4-test-suite next to the package; conformance not checked"))
    func suiteIsComplete() {
        // 38 case folders as shipped; fewer means cases silently went missing.
        #expect(SigV4SuiteCase.caseNames.count == 38)
    }

    @Test(
        "Header signing matches the AWS SigV4 test suite byte for byte",
        .enabled(
            if: SigV4SuiteCase.suiteDirectory != nil,
            "AWS SigV4 test suite not found at ../shared/sigv4-test-suite next to the package; conformance not checked"),
        arguments: SigV4SuiteCase.caseNames)
    func headerSigning(caseName: String) throws {
        let c = try SigV4SuiteCase(name: caseName)
        let canonical = c.signer.canonicalRequest(for: c.request, date: c.date)
        #expect(canonical == (try c.expected("header-canonical-request.txt")))
        let stringToSign = c.signer.stringToSign(canonicalRequest: canonical, date: c.date)
        #expect(stringToSign == (try c.expected("header-string-to-sign.txt")))
        let signature = c.signer.signature(stringToSign: stringToSign, date: c.date)
        #expect(signature == (try c.expected("header-signature.txt")).trimmingCharacters(in: .whitespacesAndNewlines))

        // The whole signed request: the suite's headers, values and order.
        let expected = try SigV4SuiteCase.parseHead(try c.expected("header-signed-request.txt")).headers
        let signed = c.signer.signedHeaders(for: c.request, date: c.date)
        #expect(signed.map { "\($0.name):\($0.value)" } == expected.map { "\($0.name):\($0.value)" })
        #expect(c.signer.authorization(for: c.request, date: c.date) == signed.last?.value)
    }

    @Test(
        "Query (presigned) signing matches the AWS SigV4 test suite byte for byte",
        .enabled(
            if: SigV4SuiteCase.suiteDirectory != nil,
            "AWS SigV4 test suite not found at ../shared/sigv4-test-suite next to the package; conformance not checked"),
        arguments: SigV4SuiteCase.caseNames)
    func querySigning(caseName: String) throws {
        let c = try SigV4SuiteCase(name: caseName)
        let canonical = c.signer.presignedCanonicalRequest(for: c.request, date: c.date, expires: c.expires)
        #expect(canonical == (try c.expected("query-canonical-request.txt")))
        let stringToSign = c.signer.stringToSign(canonicalRequest: canonical, date: c.date)
        #expect(stringToSign == (try c.expected("query-string-to-sign.txt")))
        let signature = c.signer.signature(stringToSign: stringToSign, date: c.date)
        #expect(signature == (try c.expected("query-signature.txt")).trimmingCharacters(in: .whitespacesAndNewlines))

        let requestLine = try SigV4SuiteCase.parseHead(try c.expected("query-signed-request.txt")).lines.first.map(String.init)
        let query = c.signer.presignedQuery(for: c.request, date: c.date, expires: c.expires)
        #expect(requestLine == "\(c.request.method) \(c.request.path)?\(query) HTTP/1.1")
    }
}
