import DynamoClient
import DynamoCore
import Foundation
import TestSupport
import Testing

/// botocore's model of DynamoDB, through Tests/Conformance/validate_dynamodb_requests.py: what AWS would
/// reject that moto lets through (see the script's doc string for every check).
enum RequestValidator {
    static let script = TestEnvironment.packageRoot.appendingPathComponent("Tests/Conformance/validate_dynamodb_requests.py")

    /// The python3 to use: the one on PATH (as SigV4DifferentialTests finds it; scripts/test.sh puts the
    /// project's environment first), else the project's environment itself (scripts/python-env.sh).
    static let python: URL? = {
        var candidates = [URL(fileURLWithPath: "/usr/bin/env")]
        let venv =
            ProcessInfo.processInfo.environment["DYNAMO_MIGRATE_VENV"]
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/dynamo-migrate/venv").path
        candidates.append(URL(fileURLWithPath: venv).appendingPathComponent("bin/python3"))
        return candidates.first { candidate in
            guard FileManager.default.isExecutableFile(atPath: candidate.path),
                let result = try? run(candidate, ["-c", "import botocore.validate, botocore.serialize"])
            else { return false }
            return result.status == 0
        }
    }()

    /// Why the conformance tests cannot run, or nil. Printed to standard error when they are skipped, so a
    /// green run that skipped them says so.
    static let unavailableReason: String? = {
        guard python != nil else {
            let reason = "python3 with botocore not found (on PATH or in ~/.cache/dynamo-migrate/venv; scripts/setup.sh installs boto3 there)"
            FileHandle.standardError.write(Data("!! NOT RUN: DynamoDB request conformance against botocore's model: \(reason)\n".utf8))
            return reason
        }
        return nil
    }()

    static var isAvailable: Bool { unavailableReason == nil }

    /// One problem the validator found.
    struct Problem: Codable, Equatable, CustomStringConvertible {
        var index: Int
        var operation: String
        var problem: String
        var description: String { "request \(index) (\(operation)): \(problem)" }
    }

    /// The validator's answer.
    struct Report: Codable {
        var requests: Int
        var operations: [String: Int]
        var problems: [Problem]
    }

    /// Checks the requests in `file` (JSON lines, ``RecordedRequest/jsonLine``).
    static func validate(_ file: URL) throws -> Report {
        guard let python else { throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "python3 with botocore"]) }
        let result = try run(python, [script.path, file.path])
        guard result.status == 0 else {
            throw CocoaError(
                .executableLoad,
                userInfo: [
                    NSLocalizedDescriptionKey:
                        "the validator exited \(result.status): \(String(decoding: result.stderr, as: UTF8.self))"
                ])
        }
        return try JSONDecoder().decode(Report.self, from: result.stdout)
    }

    static func run(_ executable: URL, _ arguments: [String]) throws -> (status: Int32, stdout: Data, stderr: Data) {
        let process = Process()
        process.executableURL = executable
        process.arguments = (executable.lastPathComponent == "env" ? ["python3"] : []) + arguments
        let directory = TestEnvironment.temporaryDirectory("validator")
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("stdout"), err = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, try Data(contentsOf: out), try Data(contentsOf: err))
    }
}

/// A request as the proxy would record it.
private func recorded(_ operation: String, _ body: String) -> RecordedRequest {
    RecordedRequest(target: "DynamoDB_20120810.\(operation)", contentType: "application/x-amz-json-1.0", body: Array(body.utf8))
}

@Suite("DynamoDB request conformance: the validator itself")
struct RequestValidatorTests {
    @Test(
        "the validator names exactly what AWS would reject: 26 writes, a 256-character table name, an unused placeholder",
        .enabled(if: RequestValidator.isAvailable, "request conformance NOT checked: \(RequestValidator.unavailableReason ?? "")"))
    func validatorFindsTheProblems() throws {
        let longName = String(repeating: "t", count: 256)
        let puts = (0..<26).map { #"{"PutRequest":{"Item":{"pk":{"S":"item-\#($0)"},"b":{"B":"AAH/"}}}}"# }.joined(separator: ",")
        let requests = [
            recorded("BatchWriteItem", #"{"RequestItems":{"\#(longName)":[\#(puts)]}}"#),
            recorded(
                "UpdateItem",
                ##"""
                {"TableName":"orders","Key":{"pk":{"S":"1"}},"UpdateExpression":"SET #a = :v",
                 "ExpressionAttributeNames":{"#a":"a"},"ExpressionAttributeValues":{":v":{"N":"1"},":unused":{"S":"x"}}}
                """##),
            // Well-formed requests of the same operations: no problem may be reported for them.
            recorded(
                "BatchWriteItem",
                #"{"RequestItems":{"orders":[{"PutRequest":{"Item":{"pk":{"S":"1"},"b":{"B":"AAH/"},"ns":{"NS":["1","2"]}}}},{"DeleteRequest":{"Key":{"pk":{"S":"2"}}}}]}}"#
            ),
            recorded(
                "UpdateItem",
                ##"{"TableName":"orders","Key":{"pk":{"S":"1"}},"UpdateExpression":"SET #a = :v","ExpressionAttributeNames":{"#a":"a"},"ExpressionAttributeValues":{":v":{"N":"1"}}}"##
            ),
            recorded("Scan", #"{"TableName":"orders","Limit":7,"Segment":1,"TotalSegments":2,"ExclusiveStartKey":{"pk":{"S":"x"}}}"#),
            recorded("RestoreTableToPointInTime", #"{"SourceTableName":"orders","TargetTableName":"orders-drill","RestoreDateTime":1764489600.25}"#),
        ]
        let file = TestEnvironment.temporaryDirectory("validator-unit").appendingPathComponent("requests.jsonl")
        try Data(requests.map { $0.jsonLine + "\n" }.joined().utf8).write(to: file)

        let report = try RequestValidator.validate(file)
        #expect(report.requests == 6)
        let abbreviated = "'tttttttttttttttttttt…tttttttttt' (256 chars)"
        #expect(
            report.problems == [
                .init(
                    index: 0, operation: "BatchWriteItem",
                    problem: "BatchWriteItem.RequestItems (key): table name \(abbreviated) has 256 characters, DynamoDB allows 3-255"),
                .init(index: 0, operation: "BatchWriteItem", problem: "BatchWriteItem: 26 write requests, at most 25"),
                .init(
                    index: 1, operation: "UpdateItem",
                    problem: "UpdateItem.ExpressionAttributeValues: :unused is defined but not used in any expression"),
            ])
    }

    @Test(
        "the validator's other checks: botocore's model, limits of values, names and expressions",
        .enabled(if: RequestValidator.isAvailable, "request conformance NOT checked: \(RequestValidator.unavailableReason ?? "")"))
    func validatorOtherChecks() throws {
        let requests = [
            recorded("Scan", #"{"TableName":"orders","Limit":0,"Segment":2,"TotalSegments":2,"Bogus":true}"#),
            recorded(
                "PutItem", #"{"TableName":"orders","Item":{"pk":{"S":"1"},"e":{"SS":[]},"d":{"NS":["1","1.0"]},"x":{"S":"a","N":"1"},"b":{"B":"not base64!"}}}"#
            ),
            recorded("Query", ##"{"TableName":"orders","KeyConditionExpression":"#k = :k","ExpressionAttributeNames":{"#k":"pk"}}"##),
            recorded("RestoreTableToPointInTime", #"{"SourceTableName":"orders","TargetTableName":"orders-drill","RestoreDateTime":"2026-11-30T08:00:00Z"}"#),
            recorded("CreateBackup", #"{"TableName":"orders","BackupName":"orders/backup"}"#),
            // Keys of a table whose CreateTable was recorded: types, sizes, index keys, duplicates.
            recorded(
                "CreateTable",
                #"{"TableName":"keyed","BillingMode":"PAY_PER_REQUEST","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"g","AttributeType":"S"}],"GlobalSecondaryIndexes":[{"IndexName":"byG","KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}]}"#
            ),
            recorded(
                "BatchWriteItem",
                #"{"RequestItems":{"keyed":[{"PutRequest":{"Item":{"pk":{"N":"1"}}}},{"PutRequest":{"Item":{"pk":{"S":""}}}},{"PutRequest":{"Item":{"pk":{"S":"a"},"g":{"N":"1"}}}},{"DeleteRequest":{"Key":{"pk":{"S":"a"}}}}]}}"#
            ),
        ]
        let file = TestEnvironment.temporaryDirectory("validator-unit").appendingPathComponent("requests.jsonl")
        try Data(requests.map { $0.jsonLine + "\n" }.joined().utf8).write(to: file)

        let report = try RequestValidator.validate(file)
        let found = Set(report.problems.map(\.description))
        for expected in [
            #"request 0 (Scan): botocore: Invalid value for parameter Limit, value: 0, valid min value: 1"#,
            #"request 0 (Scan): Scan: Segment 2 is not below TotalSegments 2"#,
            #"request 1 (PutItem): PutItem.Item.e: an empty SS set (DynamoDB rejects empty sets)"#,
            #"request 1 (PutItem): PutItem.Item.d: the NS set has duplicates"#,
            #"request 1 (PutItem): PutItem.Item.x: an AttributeValue needs exactly one type, has ['N', 'S']"#,
            #"request 1 (PutItem): PutItem.Item.b.B: blob is not valid base64"#,
            #"request 2 (Query): Query: :k is used in an expression but ExpressionAttributeValues is absent"#,
            #"request 3 (RestoreTableToPointInTime): RestoreTableToPointInTime.RestoreDateTime: timestamp '2026-11-30T08:00:00Z' is not epoch seconds (the JSON protocol sends a number)"#,
            #"request 4 (CreateBackup): CreateBackup.BackupName: backup name 'orders/backup' has characters outside [a-zA-Z0-9_.-]"#,
            #"request 6 (BatchWriteItem): BatchWriteItem.RequestItems.'keyed'[0]: key attribute 'pk' is N, the table defines it as S"#,
            #"request 6 (BatchWriteItem): BatchWriteItem.RequestItems.'keyed'[1]: key attribute 'pk' is empty"#,
            #"request 6 (BatchWriteItem): BatchWriteItem.RequestItems.'keyed'[2]: key attribute of index 'byG' 'g' is N, the table defines it as S"#,
            #"request 6 (BatchWriteItem): BatchWriteItem.RequestItems.'keyed'[3]: the batch has this key twice (DynamoDB refuses the whole batch)"#,
        ] {
            #expect(found.contains(expected), "missing: \(expected)\nfound:\n\(found.sorted().joined(separator: "\n"))")
        }
        #expect(report.problems.contains { $0.index == 0 && $0.problem.hasPrefix(#"botocore: Unknown parameter in input: "Bogus""#) })
    }
}

/// Every command of an end-to-end run, through a recording proxy in front of moto; then every request it
/// sent is checked against botocore's model of DynamoDB and DynamoDB's limits. moto accepts much that AWS
/// refuses, so this is where a request AWS would reject shows up before an operator meets it.
@Suite("DynamoDB request conformance: an end-to-end run", .serialized, needsLocalServer)
struct EndToEndConformanceTests {
    let client = makeClient(endpoint: localEndpoint)

    struct Step {
        var arguments: [String]
        var expectedStatus: Int32
    }

    @Test(
        "every request of plan, migrate (every conflict policy), verify, diff, checksum, backups, drills, export/import and decommission is one AWS accepts",
        .enabled(if: RequestValidator.isAvailable, "request conformance NOT checked: \(RequestValidator.unavailableReason ?? "")"))
    func everyRequestConforms() async throws {
        // Small sources (moto copies about 350 items/s): A and D (every attribute type), B and E (overlapping
        // their keys with other content), C (to decommission, with deletion protection on).
        let a = try await makeTable(client, prefix: "conf-a")
        let b = try await makeTable(client, prefix: "conf-b")
        let d = try await makeTable(client, prefix: "conf-d")
        let e = try await makeTable(client, prefix: "conf-e")
        let c = TestEnvironment.uniqueTableName("conf-c")
        try await client.createTable(
            CreateTableInput(
                name: c, keySchema: KeySchema(partitionKey: KeyAttribute(name: "pk", type: .string)), deletionProtection: true))
        try await client.waitUntilActive(c, pollInterval: .milliseconds(50))
        try await writeAll(client, a, sampleItems(30))
        try await writeAll(client, b, (0..<10).map { ["pk": .s("item-\($0)"), "from": .s("b"), "n": .n(DynamoNumber($0))] })
        try await writeAll(client, d, sampleItems(12))
        try await writeAll(client, e, (0..<6).map { ["pk": .s($0 < 3 ? "item-\($0 * 2)" : "e-only-\($0)"), "from": .s("e")] })
        try await writeAll(client, c, (0..<10).map { ["pk": .s("c-\($0)"), "blob": .b([UInt8($0), 0xFF]), "ss": .ss(["x", "y\($0)"])] })
        let overwrite = TestEnvironment.uniqueTableName("conf-t-overwrite")
        let keep = TestEnvironment.uniqueTableName("conf-t-keep")
        let fail = TestEnvironment.uniqueTableName("conf-t-fail")
        let imported = TestEnvironment.uniqueTableName("conf-imported")
        // The fail target exists before the run, so it is written with conditional puts (PutItem); the
        // keep-existing target is created by the run: batches, its second source probed (BatchGetItem).
        try await client.createTable(CreateTableInput(name: fail, keySchema: KeySchema(partitionKey: KeyAttribute(name: "pk", type: .string))))
        try await client.waitUntilActive(fail, pollInterval: .milliseconds(50))

        let directory = TestEnvironment.temporaryDirectory("conformance")
        defer { try? FileManager.default.removeItem(at: directory) }
        let mapping = directory.appendingPathComponent("mapping.yaml")
        try Data(
            """
            version: 1
            tables:
              - target: \(overwrite)
                conflict: overwrite
                settings:
                  billing: { mode: provisioned, read: 5, write: 5 }
                  global-secondary-indexes:
                    - { name: byS, partition: { name: s, type: S }, projection: [n, flag], read: 2, write: 2 }
                  ttl: expiresAt
                  deletion-protection: true
                  sse: true
                  stream: new-and-old-images
                  tags: { team: platform, purpose: conformance }
                sources:
                  - table: \(a)
                    transforms:
                      - set: { migratedFrom: "{source}" }
                  - table: \(b)
              - target: \(keep)
                conflict: keep-existing
                sources:
                  - table: \(d)
                  - table: \(e)
              - target: \(fail)
                conflict: fail
                source: \(c)
            decommission: [\(c)]
            """.utf8
        ).write(to: mapping)
        let policy = directory.appendingPathComponent("policy.yaml")
        try Data(
            """
            version: 1
            policies:
              - name: conformance
                tables: ["\(a)", "\(b)"]
                pitr: { required: true, recoveryPeriodDays: 35 }
                rpo: 24h
                retention: { daily: 0, weekly: 0, monthly: 0 }
            """.utf8
        ).write(to: policy)
        let state = directory.appendingPathComponent("state").path
        let backups = directory.appendingPathComponent("backups").path
        let export = directory.appendingPathComponent("export").path

        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        proxy.startRecording()
        let endpoint = ["--endpoint-url", proxy.endpoint]
        func run(_ arguments: [String], expect status: Int32 = 0, local: Bool = false) throws {
            let result = try TestEnvironment.runCLI(arguments + (local ? [] : endpoint), killAfter: 300)
            #expect(result.status == status, "dynamo-migrate \(arguments.joined(separator: " ")) exited \(result.status)\n\(result.stdout)\n\(result.stderr)")
        }

        try run(["tables", "--match", "conf-*"])
        try run(["plan", mapping.path, "--sample", "3"])
        try run(["migrate", mapping.path, "--state-dir", state, "--page-size", "7", "--segments", "2"])
        try run(["verify", mapping.path, "--state-dir", state, "--segments", "2"])
        try run(["checksum", a, b, "--segments", "3"])
        try run(["diff", c, fail])
        try run(["diff", d, keep], expect: 1)  // keep holds E's items too: extra keys
        try run(["backup", "create", a, "--state-dir", backups, "--name", "{table}-first"])
        try run(["backup", "create", a, c, "--state-dir", backups])
        try run(["backup", "list", "--state-dir", backups, "--match", "conf-*"])
        try run(
            ["backup", "verify", "--policy", policy.path, "--metrics", directory.appendingPathComponent("metrics.prom").path],
            expect: 1)  // PITR off on A and B, no backup of B
        try run(["backup", "enforce", "--policy", policy.path, "--apply", "--state-dir", backups])
        let newest = try await client.listBackups(table: a).max { ($0.creationDate ?? .distantPast) < ($1.creationDate ?? .distantPast) }
        let arn = try #require(newest?.arn)
        try run(["drill", "run", a, "--latest-backup", "--state-dir", backups, "--rto", "1h"])
        try run(["drill", "run", a, "--backup", arn, "--state-dir", backups])
        try run(["drill", "run", a, "--pitr", "latest", "--state-dir", backups])
        let window = try await client.describeContinuousBackups(table: a)
        if let latest = window.latestRestorableDate {  // inside the window: a RestoreDateTime with milliseconds
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            try run(["drill", "run", a, "--pitr", formatter.string(from: latest.wholeMilliseconds()), "--state-dir", backups])
        }
        try run(["export", a, "--to", export])
        try run(["export", "verify", export], local: true)
        try run(["import", export, "--table", imported, "--create"])
        try run(["drill", "run", a, "--from-export", export, "--state-dir", backups])
        try run(["decommission", mapping.path, "--state-dir", state, "--backup-state-dir", backups], expect: 1)  // protected
        try run(["decommission", mapping.path, "--state-dir", state, "--backup-state-dir", backups, "--disable-deletion-protection"])
        try run([
            "decommission", mapping.path, "--state-dir", state, "--backup-state-dir", backups,
            "--execute", "--yes-delete", c, "--disable-deletion-protection",
        ])
        #expect(try await client.describeTableIfExists(c) == nil, "decommission --execute deleted \(c)")

        // Every request, checked.
        #expect(proxy.recordingDropped == 0)
        let file = directory.appendingPathComponent("requests.jsonl")
        try proxy.writeRecordedRequests(to: file)
        let report = try RequestValidator.validate(file)
        #expect(report.requests == proxy.recordedRequests.count)
        #expect(
            report.problems.isEmpty,
            """
            \(report.problems.count) requests AWS would reject:
            \(report.problems.prefix(40).map(\.description).joined(separator: "\n"))
            """)
        let expectedOperations: Set<String> = [
            "ListTables", "DescribeTable", "Scan", "CreateTable", "UpdateTimeToLive", "DescribeTimeToLive",
            "UpdateContinuousBackups", "DescribeContinuousBackups", "BatchWriteItem", "PutItem", "BatchGetItem", "CreateBackup",
            "DescribeBackup", "ListBackups", "DeleteBackup", "RestoreTableFromBackup", "RestoreTableToPointInTime",
            "DeleteTable", "UpdateTable",
        ]
        #expect(
            expectedOperations.isSubset(of: Set(report.operations.keys)),
            "operations never sent: \(expectedOperations.subtracting(report.operations.keys).sorted())")
        print(
            "conformance: \(report.requests) requests checked: \(report.operations.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))"
        )

        for table in [overwrite, keep, fail, imported, a, b, c, d, e] {
            if try await client.describeTableIfExists(table) != nil {
                _ = try? await client.updateTable(UpdateTableInput(name: table, deletionProtection: false))
                try? await client.deleteTable(table)
            }
        }
        for table in [a, b, c] {
            for backup in (try? await client.listBackups(table: table)) ?? [] { try? await client.deleteBackup(arn: backup.arn) }
        }
    }
}

/// The same at DynamoDB's name limits: a 255-character table, a 255-byte key attribute name, a 255-character
/// index name, long attribute names. (Drills of such a table are left out: their scratch table name is the
/// table's name plus a suffix, which issue 11's timing work cuts to 255 characters.)
@Suite("DynamoDB request conformance: names at DynamoDB's limits", .serialized, needsLocalServer)
struct LimitsConformanceTests {
    let client = makeClient(endpoint: localEndpoint)

    @Test(
        "migrate, verify, checksum, diff, backup, export and import of a table whose names are at DynamoDB's limits send only requests AWS accepts",
        .enabled(if: RequestValidator.isAvailable, "request conformance NOT checked: \(RequestValidator.unavailableReason ?? "")"))
    func namesAtTheLimits() async throws {
        let stem = "conf-long-\(UInt32.random(in: 0...UInt32.max))-"
        let source = stem + String(repeating: "x", count: 255 - stem.count)
        let keyName = String(repeating: "é", count: 127) + "k"  // 255 bytes
        let attributeName = String(repeating: "a", count: 2_000)
        try await client.createTable(
            CreateTableInput(
                name: source, keySchema: KeySchema(partitionKey: KeyAttribute(name: keyName, type: .string))))
        try await client.waitUntilActive(source, pollInterval: .milliseconds(50))
        try await writeAll(
            client, source,
            (0..<8).map { i in
                [
                    AttributeName(keyName): .s("key-\(i)"), "g": .s("group-\(i % 3)"), AttributeName(attributeName): .n(DynamoNumber(i)),
                    "m": .m([AttributeName(attributeName): .s("nested"), "deep": .l([.m([AttributeName(keyName): .bool(true)])])]),
                ]
            })
        let target = TestEnvironment.uniqueTableName("conf-limit-target")
        let imported = TestEnvironment.uniqueTableName("conf-limit-imported")
        let indexName = String(repeating: "i", count: 255)

        let directory = TestEnvironment.temporaryDirectory("conformance-limits")
        defer { try? FileManager.default.removeItem(at: directory) }
        let mapping = directory.appendingPathComponent("mapping.yaml")
        try Data(
            """
            version: 1
            tables:
              - source: \(source)
                target: \(target)
                conflict: keep-existing
                settings:
                  global-secondary-indexes:
                    - { name: \(indexName), partition: { name: g, type: S }, sort: { name: \(keyName), type: S }, projection: keys-only }
                  ttl: \(keyName)
            """.utf8
        ).write(to: mapping)
        let state = directory.appendingPathComponent("state").path
        let backups = directory.appendingPathComponent("backups").path
        let export = directory.appendingPathComponent("export").path

        let proxy = try FaultProxy(upstream: localEndpoint)
        defer { proxy.stop() }
        proxy.startRecording()
        func run(_ arguments: [String], expect status: Int32 = 0) throws {
            let result = try TestEnvironment.runCLI(arguments + ["--endpoint-url", proxy.endpoint], killAfter: 300)
            #expect(
                result.status == status,
                "dynamo-migrate \(arguments.joined(separator: " ").prefix(300)) exited \(result.status)\n\(result.stdout)\n\(result.stderr)")
        }
        try run(["plan", mapping.path, "--sample", "2"])
        try run(["migrate", mapping.path, "--state-dir", state, "--page-size", "3"])
        try run(["verify", mapping.path, "--state-dir", state])
        // Again into the now existing target (not this run's): conditional puts naming the long key.
        let again = directory.appendingPathComponent("again.yaml")
        try Data("version: 1\ntables:\n  - source: \(source)\n    target: \(target)\n    conflict: keep-existing\n".utf8).write(to: again)
        try run(["migrate", again.path, "--state-dir", directory.appendingPathComponent("state-again").path, "--page-size", "3"])
        try run(["checksum", source])
        try run(["diff", source, target])
        try run(["backup", "create", source, "--state-dir", backups])
        try run(["backup", "list", "--state-dir", backups])
        try run(["export", source, "--to", export])
        try run(["import", export, "--table", imported, "--create"])

        #expect(proxy.recordingDropped == 0)
        let file = directory.appendingPathComponent("requests.jsonl")
        try proxy.writeRecordedRequests(to: file)
        let report = try RequestValidator.validate(file)
        #expect(
            report.problems.isEmpty,
            """
            \(report.problems.count) requests AWS would reject:
            \(report.problems.prefix(40).map(\.description).joined(separator: "\n"))
            """)
        #expect(
            ["CreateTable", "BatchWriteItem", "PutItem", "CreateBackup", "UpdateTimeToLive"].allSatisfy { report.operations[$0] != nil },
            "\(report.operations)")

        for table in [source, target, imported] { try? await client.deleteTable(table) }
        for backup in (try? await client.listBackups(table: source)) ?? [] { try? await client.deleteBackup(arn: backup.arn) }
    }
}

private extension Date {
    /// Cut to whole milliseconds (what an ISO 8601 time with fractional seconds holds), never later.
    func wholeMilliseconds() -> Date { Date(timeIntervalSince1970: (timeIntervalSince1970 * 1000).rounded(.down) / 1000) }
}
