import AWSAuth
import DynamoClient
import DynamoCore
import Foundation
import S3Client
import TestSupport
import Testing

/// `export --to s3://`, `export verify s3://`, `import s3://` through the real binary against moto.
@Suite(.serialized, needsLocalServer) struct S3ExportCLITests {
    let client = makeClient(endpoint: localEndpoint)
    /// The binary's environment: test keys, and moto as the S3 endpoint by aws-cli's variable.
    let environment = [
        "AWS_ACCESS_KEY_ID": "AKIDTESTTESTTEST", "AWS_SECRET_ACCESS_KEY": "test-secret-key", "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_S3": localEndpoint,
    ]

    func bucket() async throws -> String {
        var configuration = AWSConfiguration(credentials: testCredentials, region: "us-east-1", endpoint: localEndpoint, profile: nil)
        configuration.s3Endpoint = localEndpoint
        let name = "s3cli-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
        try await S3Client(configuration: configuration).createBucket(name)
        return name
    }

    @Test func exportVerifyImportRoundTripThroughS3() async throws {
        let table = try await makeTable(client, prefix: "s3cli", sortKey: KeyAttribute(name: "sk", type: .number))
        let items = sampleItems(120, sortKey: true)
        try await writeAll(client, table, items)
        let bucket = try await bucket()

        let exported = try TestEnvironment.runCLI(
            ["export", table, "--to", "s3://\(bucket)/backups", "--endpoint-url", localEndpoint, "--sse", "AES256", "--json"],
            environment: environment, killAfter: 300)
        #expect(exported.status == 0, "\(exported.stderr)")
        let output = try JSON.parse(Array(exported.stdout.utf8))
        let folder = try #require(output["exportDirectory"]?.stringValue)
        #expect(folder.hasPrefix("s3://\(bucket)/backups/AWSDynamoDB/"))
        let checksum = try #require(output["contentChecksum"]?.stringValue)

        let verified = try TestEnvironment.runCLI(
            ["export", "verify", "s3://\(bucket)/backups", "--endpoint-url", localEndpoint], environment: environment, killAfter: 300)
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.contains("\(folder) (table \(table))"))
        #expect(verified.stdout.contains("content checksum \(checksum)"))
        #expect(verified.stdout.contains("  OK"))

        let target = TestEnvironment.uniqueTableName("s3cli-import")
        let imported = try TestEnvironment.runCLI(
            ["import", "s3://\(bucket)/backups", "--table", target, "--create", "--endpoint-url", localEndpoint],
            environment: environment, killAfter: 300)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.hasPrefix("created \(target) and wrote 120 of 120 items"))
        #expect(byKey(try await scanAll(client, target)) == byKey(items))
    }

    @Test func missingBucketAndBadURLAreOneClearLine() async throws {
        let table = try await makeTable(client, prefix: "s3cli-missing")
        let missing = "s3cli-none-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
        let run = try TestEnvironment.runCLI(
            ["export", table, "--to", "s3://\(missing)/x", "--endpoint-url", localEndpoint], environment: environment, killAfter: 120)
        #expect(run.status == 1)
        #expect(run.stderr == "error: S3 bucket \(missing) does not exist at \(localEndpoint): create it first, or check the bucket name\n")

        let bad = try TestEnvironment.runCLI(
            ["import", "s3://Bad_Bucket/x", "--table", "t1", "--endpoint-url", localEndpoint], environment: environment, killAfter: 120)
        #expect(bad.status == 2)
        #expect(
            bad.stderr
                == "error: s3://Bad_Bucket/x: \"Bad_Bucket\" is not a valid S3 bucket name: only lowercase letters, digits, dots and hyphens are allowed\n")

        let kms = try TestEnvironment.runCLI(
            ["export", table, "--to", "s3://some-bucket/x", "--kms-key", "k", "--endpoint-url", localEndpoint], environment: environment, killAfter: 120)
        #expect(kms.status == 2)
        #expect(kms.stderr.contains("--kms-key needs --sse aws:kms"))
    }
}
