import AWSAuth
import Foundation
@testable import S3Client
import Testing

/// SigV4 for S3 and the pieces of S3's wire format that need no server.
struct S3SigningTests {
    /// AWS's worked example "GET Object" from "Signature Calculations for the Authorization Header:
    /// Transferring Payload in a Single Chunk" (S3 API reference).
    @Test func signsAWSDocumentedGetObjectExample() {
        let signer = SigV4Signer.s3(
            credentials: Credentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1")
        let request = SigningRequest(
            method: "GET", path: "/test.txt",
            headers: [("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9")], body: [])
        let date = Date(timeIntervalSince1970: 1_369_353_600)  // 20130524T000000Z
        #expect(
            signer.authorization(for: request, date: date)
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        )
        let headers = signer.signedHeaders(for: request, date: date)
        #expect(headers.first { $0.name == "x-amz-content-sha256" }?.value == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func s3PathIsSignedAsSentWithoutSecondEncodingOrNormalisation() {
        let signer = SigV4Signer.s3(credentials: Credentials(accessKeyId: "AK", secretAccessKey: "SK"), region: "eu-west-1")
        let key = "exports/a b/../ü+x.json"
        let path = "/bucket/" + SigV4Signer.uriEncoded(key, keepSlash: true)
        #expect(path == "/bucket/exports/a%20b/../%C3%BC%2Bx.json")
        let canonical = signer.canonicalRequest(
            for: SigningRequest(method: "PUT", path: path, headers: [("Host", "h")], body: Array("x".utf8)), date: Date(timeIntervalSince1970: 0))
        #expect(canonical.split(separator: "\n", omittingEmptySubsequences: false)[1] == "/bucket/exports/a%20b/../%C3%BC%2Bx.json")
        // DynamoDB's signer still encodes (and normalises) as before.
        let dynamo = SigV4Signer(credentials: Credentials(accessKeyId: "AK", secretAccessKey: "SK"), region: "eu-west-1", service: "dynamodb")
        let dynamoCanonical = dynamo.canonicalRequest(
            for: SigningRequest(method: "GET", path: "/a%20b", headers: [("Host", "h")], body: []), date: Date(timeIntervalSince1970: 0))
        #expect(dynamoCanonical.split(separator: "\n")[1] == "/a%2520b")
    }

    @Test func unsignedPayloadIsSignedAndSentAsIs() {
        let signer = SigV4Signer.s3(credentials: Credentials(accessKeyId: "AK", secretAccessKey: "SK"), region: "us-east-1")
        let request = SigningRequest(
            method: "PUT", path: "/b/k", headers: [("Host", "h")], body: Array("ignored".utf8), payloadHash: SigV4Signer.unsignedPayload)
        #expect(signer.canonicalRequest(for: request, date: Date(timeIntervalSince1970: 0)).hasSuffix("\nUNSIGNED-PAYLOAD"))
        #expect(signer.signedHeaders(for: request, date: Date(timeIntervalSince1970: 0)).contains { $0.name == "x-amz-content-sha256" && $0.value == "UNSIGNED-PAYLOAD" })
    }

    @Test func addressesCustomEndpointsPathStyleAndAWSVirtualHostStyle() {
        let custom = S3Client(configuration: configuration(s3Endpoint: "http://127.0.0.1:5000"))
        let request = S3Request(operation: "GetObject", method: "GET", bucket: "my-bucket", key: "a b/c.json")
        #expect(custom.address(request, region: "us-east-1").url == "http://127.0.0.1:5000/my-bucket/a%20b/c.json")
        #expect(custom.address(request, region: "us-east-1").host == "127.0.0.1:5000")

        let aws = S3Client(configuration: configuration(s3Endpoint: nil))
        #expect(aws.address(request, region: "eu-west-1").url == "https://my-bucket.s3.eu-west-1.amazonaws.com/a%20b/c.json")
        #expect(aws.address(request, region: "eu-west-1").path == "/a%20b/c.json")
        let dotted = S3Request(operation: "GetObject", method: "GET", bucket: "my.bucket", key: "k")
        #expect(aws.address(dotted, region: "eu-west-1").url == "https://s3.eu-west-1.amazonaws.com/my.bucket/k")
        #expect(aws.address(request, region: "cn-north-1").url == "https://my-bucket.s3.cn-north-1.amazonaws.com.cn/a%20b/c.json")
    }

    @Test func resolvesS3EndpointByAWSCLIRule() throws {
        let base = ["AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK", "AWS_REGION": "eu-west-1", "HOME": "/nonexistent"]
        let none = try AWSConfigurationResolver.resolve(profile: nil, region: nil, endpointURL: "http://127.0.0.1:1", environment: base)
        #expect(none.s3Endpoint == nil)
        let general = try AWSConfigurationResolver.resolve(
            profile: nil, region: nil, endpointURL: nil, environment: base.merging(["AWS_ENDPOINT_URL": "http://127.0.0.1:2/"]) { $1 })
        #expect(general.s3Endpoint == "http://127.0.0.1:2")
        #expect(general.s3EndpointSource == "AWS_ENDPOINT_URL")
        let specific = try AWSConfigurationResolver.resolve(
            profile: nil, region: nil, endpointURL: nil,
            environment: base.merging(["AWS_ENDPOINT_URL": "http://127.0.0.1:2", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:3"]) { $1 })
        #expect(specific.s3Endpoint == "http://127.0.0.1:3")
        #expect(specific.endpoint == "http://127.0.0.1:2")
        #expect(specific.s3EndpointSource == "AWS_ENDPOINT_URL_S3")
    }

    @Test func parsesLocationsAndRefusesInvalidBucketNames() throws {
        let location = try S3Location(parsing: "s3://my-bucket/exports/daily")
        #expect(location == S3Location(bucket: "my-bucket", key: "exports/daily"))
        #expect(location.appending("AWSDynamoDB").description == "s3://my-bucket/exports/daily/AWSDynamoDB")
        #expect(try S3Location(parsing: "s3://my-bucket").key == "")
        #expect(throws: S3Error.self) { try S3Location(parsing: "s3:///x") }
        do {
            _ = try S3Location(parsing: "s3://B/x")
            Issue.record("accepted an invalid bucket name")
        } catch {
            #expect(error.description == "s3://B/x: \"B\" is not a valid S3 bucket name: it must be 3 to 63 characters long")
        }
        #expect(S3Location.bucketNameProblem("My_Bucket") == "only lowercase letters, digits, dots and hyphens are allowed")
    }

    @Test func readsXMLElementsAndEntities() {
        let xml: Substring = "<R><KeyCount>2</KeyCount><Contents><Key>a&amp;b &lt;c&gt; &#233;</Key><ETag>&quot;abc&quot;</ETag></Contents><Contents><Key/></Contents></R>"
        #expect(S3XML.elements("Contents", in: xml).count == 2)
        #expect(S3XML.value("Key", in: xml) == "a&b <c> é")
        #expect(S3XML.value("KeyCount", in: xml) == "2")
        #expect(S3Client.unquoted(S3XML.value("ETag", in: xml)!) == "abc")
        #expect(S3XML.escape("a<&>\"'") == "a&lt;&amp;&gt;&quot;&apos;")
    }

    @Test func parsesEncryptionOptions() throws {
        #expect(try S3ServerSideEncryption.parse(sse: nil, kmsKey: nil) == nil)
        #expect(try S3ServerSideEncryption.parse(sse: "AES256", kmsKey: nil) == .aes256)
        #expect(try S3ServerSideEncryption.parse(sse: "aws:kms", kmsKey: "alias/x") == .kms(keyId: "alias/x"))
        #expect(throws: S3Error.self) { try S3ServerSideEncryption.parse(sse: nil, kmsKey: "k") }
        #expect(throws: S3Error.self) { try S3ServerSideEncryption.parse(sse: "aes", kmsKey: nil) }
    }

    @Test func multipartETagIsMD5OfPartMD5s() {
        let parts = [S3Client.md5(Array("a".utf8)), S3Client.md5(Array("b".utf8))]
        #expect(S3Client.multipartETag(parts) == S3Client.hex(S3Client.md5(parts[0] + parts[1])) + "-2")
    }
}

func configuration(s3Endpoint: String?, region: String = "us-east-1") -> AWSConfiguration {
    var configuration = AWSConfiguration(
        credentials: Credentials(accessKeyId: "AKIDTESTTESTTEST", secretAccessKey: "test-secret-key"), region: region,
        endpoint: s3Endpoint ?? "https://dynamodb.\(region).amazonaws.com", profile: nil)
    configuration.s3Endpoint = s3Endpoint
    return configuration
}
