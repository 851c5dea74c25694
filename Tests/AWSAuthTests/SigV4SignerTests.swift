// Unit tests of the signer's stages beyond the AWS suite: dates, DynamoDB requests, re-signing, caching.
import AWSAuth
import Foundation
import Testing

@Suite struct SigV4SignerTests {
    static let credentials = Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let date = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z

    static func dynamoRequest(
        body: String = #"{"TableName":"Music","Key":{"Artist":{"S":"Björk"}}}"#,
        extraHeaders: [(name: String, value: String)] = []
    ) -> SigningRequest {
        SigningRequest(
            method: "POST", path: "/",
            headers: [
                ("Host", "dynamodb.eu-west-1.amazonaws.com"),
                ("Content-Type", "application/x-amz-json-1.0"),
                ("X-Amz-Target", "DynamoDB_20120810.GetItem"),
            ] + extraHeaders,
            body: Array(body.utf8))
    }

    @Test(
        "X-Amz-Date is UTC, across day, leap-day, century and pre-1970 boundaries",
        arguments: [
            (0.0, "19700101T000000Z"), (-1.0, "19691231T235959Z"), (946_684_799.999, "19991231T235959Z"),
            (1_709_251_199, "20240229T235959Z"), (1_709_251_200, "20240301T000000Z"),
            (2_147_483_648, "20380119T031408Z"), (4_107_542_400, "21000301T000000Z"),
            (1_440_938_160, "20150830T123600Z"),
        ])
    func amzDate(seconds: Double, expected: String) {
        #expect(SigV4Signer.amzDate(Date(timeIntervalSince1970: seconds)) == expected)
    }

    @Test("The signing key matches AWS's documented example")
    func signingKeyExample() {
        let signer = SigV4Signer(credentials: Self.credentials, region: "us-east-1", service: "iam")
        let hex = signer.signingKey(date: Self.date).map { String(format: "%02x", $0) }.joined()
        #expect(hex == "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9")
        #expect(signer.credentialScope(date: Self.date) == "20150830/us-east-1/iam/aws4_request")
    }

    @Test("A DynamoDB request's canonical request, exactly")
    func dynamoCanonicalRequest() {
        let signer = SigV4Signer(
            credentials: Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "s", sessionToken: "TOKEN"),
            region: "eu-west-1", service: "dynamodb")
        let request = Self.dynamoRequest(extraHeaders: [("User-Agent", "dynamo-migrate/1.0")])
        #expect(
            signer.canonicalRequest(for: request, date: Self.date) == """
                POST
                /

                content-type:application/x-amz-json-1.0
                host:dynamodb.eu-west-1.amazonaws.com
                x-amz-date:20150830T123600Z
                x-amz-security-token:TOKEN
                x-amz-target:DynamoDB_20120810.GetItem

                content-type;host;x-amz-date;x-amz-security-token;x-amz-target
                d0480596d3c9d2123a60eb977fdea9f968041d56a020bb24908c16e49379a279
                """)
        #expect(SigV4Signer.payloadHash(request.body) == "d0480596d3c9d2123a60eb977fdea9f968041d56a020bb24908c16e49379a279")
    }

    @Test("Signed headers: the request's, then token, date and Authorization; stale ones replaced")
    func signedHeadersReplaceStaleOnes() {
        let signer = SigV4Signer(
            credentials: Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "s", sessionToken: "TOKEN"),
            region: "eu-west-1", service: "dynamodb")
        let fresh = Self.dynamoRequest()
        let retried = Self.dynamoRequest(extraHeaders: [
            ("authorization", "AWS4-HMAC-SHA256 old"), ("X-AMZ-DATE", "20000101T000000Z"),
            ("x-amz-security-token", "OLD"),
        ])
        let signed = signer.signedHeaders(for: retried, date: Self.date)
        #expect(signed.map(\.name) == ["Host", "Content-Type", "X-Amz-Target", "X-Amz-Security-Token", "X-Amz-Date", "Authorization"])
        #expect(signed[3].value == "TOKEN")
        #expect(signed[4].value == "20150830T123600Z")
        #expect(signed.map(\.value) == signer.signedHeaders(for: fresh, date: Self.date).map(\.value))
        #expect(signed[5].value == signer.authorization(for: fresh, date: Self.date))
        #expect(
            signed[5].value.hasPrefix(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature="
            ))
    }

    @Test("Without a session token no X-Amz-Security-Token is added or signed")
    func noSessionToken() {
        let signer = SigV4Signer(credentials: Self.credentials, region: "eu-west-1", service: "dynamodb")
        let signed = signer.signedHeaders(for: Self.dynamoRequest(), date: Self.date)
        #expect(signed.map(\.name) == ["Host", "Content-Type", "X-Amz-Target", "X-Amz-Date", "Authorization"])
        #expect(signed[4].value.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-target,"))
    }

    @Test("A copy with other credentials, region or date does not reuse the cached signing key")
    func cacheFollowsInputs() {
        let base = SigV4Signer(credentials: Self.credentials, region: "eu-west-1", service: "dynamodb")
        let request = Self.dynamoRequest()
        let first = base.authorization(for: request, date: Self.date)
        var copy = base
        copy.credentials = Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "another-secret")
        let fresh = SigV4Signer(credentials: copy.credentials, region: "eu-west-1", service: "dynamodb")
        #expect(copy.authorization(for: request, date: Self.date) == fresh.authorization(for: request, date: Self.date))
        #expect(copy.authorization(for: request, date: Self.date) != first)
        copy.credentials = Self.credentials
        copy.region = "us-east-1"
        #expect(
            copy.authorization(for: request, date: Self.date)
                == SigV4Signer(credentials: Self.credentials, region: "us-east-1", service: "dynamodb").authorization(for: request, date: Self.date))
        let nextDay = Self.date.addingTimeInterval(86_400)
        #expect(
            base.signingKey(date: nextDay)
                == SigV4Signer(credentials: Self.credentials, region: "eu-west-1", service: "dynamodb").signingKey(date: nextDay))
        #expect(base.authorization(for: request, date: Self.date) == first)
    }

    @Test("Signing from many tasks at once gives the same results as signing one by one")
    func concurrentSigning() async {
        let signer = SigV4Signer(credentials: Self.credentials, region: "eu-west-1", service: "dynamodb")
        let dates = (0..<64).map { Self.date.addingTimeInterval(Double($0) * 43_200) }  // alternating days
        let expected = dates.map {
            SigV4Signer(credentials: Self.credentials, region: "eu-west-1", service: "dynamodb")
                .authorization(for: Self.dynamoRequest(), date: $0)
        }
        let results = await withTaskGroup(of: (Int, String).self) { group in
            for (i, date) in dates.enumerated() {
                group.addTask { (i, signer.authorization(for: Self.dynamoRequest(), date: date)) }
            }
            var out = [String](repeating: "", count: dates.count)
            for await (i, value) in group { out[i] = value }
            return out
        }
        #expect(results == expected)
    }

    @Test("Canonical query: decoded, re-encoded, sorted by name then value; empty values kept")
    func canonicalQuery() {
        let signer = SigV4Signer(credentials: Self.credentials, region: "us-east-1", service: "service")
        let request = SigningRequest(
            method: "GET", path: "/a b/ü", query: "b=2&a=z&a=y&flag&sp%20ace=x+y&&t=%7E",
            headers: [("Host", "example.com")], body: [])
        let lines = signer.canonicalRequest(for: request, date: Self.date).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[1] == "/a%20b/%C3%BC")
        #expect(lines[2] == "a=y&a=z&b=2&flag=&sp%20ace=x%2By&t=~")
    }

    @Test("Path normalisation removes dot segments and repeated slashes only when enabled")
    func pathNormalisation() {
        let request = SigningRequest(method: "GET", path: "/a/./b//../c/", headers: [("Host", "example.com")], body: [])
        func path(_ normalizes: Bool) -> Substring {
            SigV4Signer(credentials: Self.credentials, region: "us-east-1", service: "s", normalizesPath: normalizes)
                .canonicalRequest(for: request, date: Self.date).split(separator: "\n")[1]
        }
        #expect(path(true) == "/a/c/")
        #expect(path(false) == "/a/./b//../c/")
    }
}
