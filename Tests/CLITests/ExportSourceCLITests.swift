import AWSAuth
import DynamoClient
import DynamoCore
import Foundation
import S3Client
import TestSupport
import Testing

/// Mapping sources that are exports (`source: { export: … }`) through the real binary against moto:
/// ours in S3 and in a local folder, and DynamoDB's native export (moto writes data files only).
@Suite(.serialized, needsLocalServer) struct ExportSourceCLITests {
    let client = makeClient(endpoint: localEndpoint)
    let environment = [
        "AWS_ACCESS_KEY_ID": "AKIDTESTTESTTEST", "AWS_SECRET_ACCESS_KEY": "test-secret-key", "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_S3": localEndpoint,
    ]

    func s3Client() -> S3Client {
        var configuration = AWSConfiguration(credentials: testCredentials, region: "us-east-1", endpoint: localEndpoint, profile: nil)
        configuration.s3Endpoint = localEndpoint
        return S3Client(configuration: configuration)
    }

    func bucket() async throws -> String {
        let name = "expsrc-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
        try await s3Client().createBucket(name)
        return name
    }

    func run(_ arguments: [String]) throws -> CLIRun {
        try TestEnvironment.runCLI(arguments + ["--endpoint-url", localEndpoint], environment: environment, killAfter: 300)
    }

    func write(_ yaml: String) throws -> String {
        let file = TestEnvironment.temporaryDirectory("expsrc-mapping").appendingPathComponent("m.yaml")
        try Data(yaml.utf8).write(to: file)
        return file.path
    }

    func verificationStatus(_ state: String) throws -> String? {
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: state + "/verification.json"))) as? [String: Any]
        return ((record?["targets"] as? [[String: Any]])?.first?["status"]) as? String
    }

    /// The items a `drop: [nothing, flag]` transform makes of `items`.
    func projected(_ items: [Item]) -> [Item] {
        items.map { item in
            var out = item
            out["nothing"] = nil
            out["flag"] = nil
            return out
        }
    }

    @Test func ourExportInS3MigratesThroughTransformsAndVerifies() async throws {
        let table = try await makeTable(client, prefix: "expsrc", sortKey: KeyAttribute(name: "sk", type: .number))
        let items = sampleItems(150, sortKey: true)
        try await writeAll(client, table, items)
        let bucket = try await bucket()
        let exported = try run(["export", table, "--to", "s3://\(bucket)/exp", "--segments", "3", "--json"])
        #expect(exported.status == 0, "\(exported.stderr)")
        let folder = try #require(try JSON.parse(Array(exported.stdout.utf8))["exportDirectory"]?.stringValue)
        let dataFiles = try await s3Client().listAllObjects(bucket: bucket, prefix: String(folder.dropFirst("s3://\(bucket)/".count)) + "/data/")
        // The table is changed after the export: the export, not the table, is the source's content.
        try await writeAll(client, table, [["pk": .s("after-export"), "sk": .n(DynamoNumber(0))]])

        let target = TestEnvironment.uniqueTableName("expsrc-target")
        let mapping = try write(
            """
            version: 1
            tables:
              - source: { export: "\(folder)" }
                target: \(target)
                transforms:
                  - drop: [nothing, flag]
            """)
        let state = TestEnvironment.temporaryDirectory("expsrc-state").path

        let plan = try run(["plan", mapping, "--json"])
        #expect(plan.status == 0, "\(plan.stderr)")
        let planned = try JSON.parse(Array(plan.stdout.utf8))
        let export = planned["targets"]?.arrayValue?.first?["sources"]?.arrayValue?.first?["export"]
        #expect(export?["dataFiles"]?.intValue == dataFiles.count)
        #expect(export?["items"]?.intValue == 150)
        #expect(export?["bytes"]?.intValue == dataFiles.reduce(0) { $0 + $1.size })
        #expect(export?["exportedTable"]?.stringValue == table)
        let text = try run(["plan", mapping])
        #expect(text.stdout.contains("export: \(dataFiles.count) data files"), "\(text.stdout)")

        let migrate = try run(["migrate", mapping, "--state-dir", state])
        #expect(migrate.status == 0, "\(migrate.stderr)")
        #expect(byKey(try await scanAll(client, target)) == byKey(projected(items)))

        let verify = try run(["verify", mapping, "--state-dir", state])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(try verificationStatus(state) == "MATCH")
    }

    @Test func aDamagedDataFileIsReportedAfterTheOthersAndResumeReadsOnlyIt() async throws {
        let table = try await makeTable(client, prefix: "expsrc-res", sortKey: KeyAttribute(name: "sk", type: .number))
        let items = sampleItems(240, sortKey: true)
        try await writeAll(client, table, items)
        let exports = TestEnvironment.temporaryDirectory("expsrc-local")
        let exported = try run(["export", table, "--to", exports.path, "--segments", "3", "--json"])
        #expect(exported.status == 0, "\(exported.stderr)")
        let folder = try #require(try JSON.parse(Array(exported.stdout.utf8))["exportDirectory"]?.stringValue)
        let data = URL(fileURLWithPath: folder).appendingPathComponent("data")
        let names = try FileManager.default.contentsOfDirectory(atPath: data.path).filter { $0.hasSuffix(".gz") }.sorted()
        try #require(names.count == 3, "\(names)")
        func damage(_ name: String) throws { try Data("not gzip".utf8).write(to: data.appendingPathComponent(name)) }
        var originals: [String: Data] = [:]
        for name in names { originals[name] = try Data(contentsOf: data.appendingPathComponent(name)) }
        func restore(_ name: String) throws { try originals[name]!.write(to: data.appendingPathComponent(name)) }

        let target = TestEnvironment.uniqueTableName("expsrc-res-target")
        let mapping = try write("version: 1\ntables:\n  - source: { export: \"\(folder)\" }\n    target: \(target)\n")
        let state = TestEnvironment.temporaryDirectory("expsrc-res-state").path

        try damage(names[1])
        let first = try run(["migrate", mapping, "--state-dir", state, "--segments", "2"])
        #expect(first.status == 1)
        #expect(
            first.stderr
                == "error: 1 data file of export source \(folder) could not be read (the other files are migrated): data/\(names[1]): not valid gzip data (the gzip data is damaged: incorrect header check); fix or restore it, then rerun with --resume --state-dir \(state) to read only that file\n"
        )

        // The finished files are skipped: damaged now, they would fail the run if they were read again.
        try restore(names[1])
        try damage(names[0])
        try damage(names[2])
        let resumed = try run(["migrate", mapping, "--state-dir", state, "--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(byKey(try await scanAll(client, target)) == byKey(items))

        try restore(names[0])
        try restore(names[2])
        let verify = try run(["verify", mapping, "--state-dir", state])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(try verificationStatus(state) == "MATCH")
    }

    @Test func aNativeExportNeedsItsKeyThenMigratesAndVerifies() async throws {
        let table = try await makeTable(client, prefix: "expsrc-nat", sortKey: KeyAttribute(name: "sk", type: .number))
        let items = sampleItems(90, sortKey: true)
        try await writeAll(client, table, items)
        try await client.updateContinuousBackups(table: table, pointInTimeRecovery: true)
        let bucket = try await bucket()
        let exported = try run(["export", table, "--native", "--to", "s3://\(bucket)/native", "--json"])
        #expect(exported.status == 0, "\(exported.stderr)")
        let folder = try #require(try JSON.parse(Array(exported.stdout.utf8))["folder"]?.stringValue)

        let target = TestEnvironment.uniqueTableName("expsrc-nat-target")
        let state = TestEnvironment.temporaryDirectory("expsrc-nat-state").path
        let keyless = try write("version: 1\ntables:\n  - source: { export: \"\(folder)\" }\n    target: \(target)\n")
        let refused = try run(["migrate", keyless, "--state-dir", state])
        #expect(refused.status == 2)
        #expect(
            refused.stderr
                == "error: \(keyless):3:23: export source \(folder): the export does not record its table's key schema (DynamoDB's native exports do not); add 'key: pk:S' or 'key: pk:S,sk:N' beside 'export'\n"
        )
        let wrongKey = try write("version: 1\ntables:\n  - source: { export: \"\(folder)\", key: \"pk:S\" }\n    target: \(target)\n")
        let plan = try run(["plan", wrongKey, "--json"])
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(try JSON.parse(Array(plan.stdout.utf8))["targets"]?.arrayValue?.first?["sources"]?.arrayValue?.first?["export"]?["items"] == nil)

        let mapping = try write(
            "version: 1\ntables:\n  - source: { export: \"\(folder)\", key: \"pk:S,sk:N\" }\n    target: \(target)\n    transforms:\n      - drop: [nothing, flag]\n"
        )
        let migrate = try run(["migrate", mapping, "--state-dir", state])
        #expect(migrate.status == 0, "\(migrate.stderr)")
        #expect(byKey(try await scanAll(client, target)) == byKey(projected(items)))
        let verify = try run(["verify", mapping, "--state-dir", state])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(try verificationStatus(state) == "MATCH")
    }

    @Test func anExportURLWithNothingThereIsOneClearLine() async throws {
        let bucket = try await bucket()
        let folder = "s3://\(bucket)/nothing/AWSDynamoDB/01700000000000-abcdef12"
        let mapping = try write("version: 1\ntables:\n  - source: { export: \"\(folder)\", key: \"pk:S\" }\n    target: t-never\n")
        let state = TestEnvironment.temporaryDirectory("expsrc-bad-state").path
        let migrate = try run(["migrate", mapping, "--state-dir", state])
        #expect(migrate.status == 2)
        #expect(
            migrate.stderr
                == "error: \(mapping):3:23: export source \(folder): nothing is stored under \(folder)/ (check the bucket, prefix and export id)\n")
        #expect(try await client.describeTableIfExists("t-never") == nil)
    }
}
