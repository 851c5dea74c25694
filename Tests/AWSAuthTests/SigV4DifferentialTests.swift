// Differential test: random DynamoDB requests signed by this signer and by botocore's SigV4Auth.
import AWSAuth
import Foundation
import Testing

/// Runs botocore through python3; every case is signed at a fixed time by patching botocore's clock.
enum Botocore {
    static let script = #"""
        import sys, json, datetime
        import botocore.auth
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        out = []
        for c in json.load(sys.stdin):
            now = datetime.datetime.fromtimestamp(c["epochSeconds"], tz=datetime.timezone.utc).replace(tzinfo=None)
            botocore.auth.get_current_datetime = lambda *args, **kwargs: now
            creds = Credentials(c["accessKeyId"], c["secretAccessKey"], c.get("sessionToken"))
            request = AWSRequest(method="POST", url=c["url"], data=c["body"].encode("utf-8"),
                                 headers=dict((h[0], h[1]) for h in c["headers"]))
            SigV4Auth(creds, "dynamodb", c["region"]).add_auth(request)
            out.append({"authorization": request.headers["Authorization"],
                        "amzDate": request.headers["X-Amz-Date"],
                        "securityToken": request.headers.get("X-Amz-Security-Token")})
        json.dump(out, sys.stdout)
        """#

    /// True when `python3 -c "import botocore"` succeeds.
    static let isAvailable: Bool = {
        guard let result = try? run(arguments: ["-c", "import botocore.auth"], input: Data()) else { return false }
        return result.status == 0
    }()

    static func run(arguments: [String], input: Data) throws -> (status: Int32, stdout: Data, stderr: Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // Python reads all of stdin before writing, so writing first cannot deadlock; stderr is drained
        // on another thread in case a traceback is long.
        let errorBox = DataBox()
        let errorReader = Thread { errorBox.data = stderr.fileHandleForReading.readDataToEndOfFile() }
        errorReader.start()
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errorBox.done { usleep(1_000) }
        return (process.terminationStatus, output, errorBox.data)
    }

    final class DataBox: @unchecked Sendable {
        private let lock = NSLock()
        private var _data: Data?
        var data: Data {
            get { lock.lock(); defer { lock.unlock() }; return _data ?? Data() }
            set { lock.lock(); _data = newValue; lock.unlock() }
        }
        var done: Bool { lock.lock(); defer { lock.unlock() }; return _data != nil }
    }
}

/// SplitMix64: reproducible randomness, so a failing seed can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

struct DifferentialCase: Codable {
    var epochSeconds: Int64
    var accessKeyId: String
    var secretAccessKey: String
    var sessionToken: String?
    var region: String
    var url: String
    var host: String
    var headers: [[String]]
    var body: String
}

struct BotocoreResult: Codable {
    var authorization: String
    var amzDate: String
    var securityToken: String?
}

enum DifferentialCases {
    static let operations = [
        "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchWriteItem",
        "BatchGetItem", "TransactWriteItems", "DescribeTable", "CreateTable", "ListTables",
        "UpdateContinuousBackups", "ExportTableToPointInTime",
    ]
    static let regions = [
        "us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "sa-east-1",
        "cn-north-1", "us-gov-west-1", "me-central-1", "af-south-1",
    ]
    /// Fixed instants, including day, month, year and leap-day boundaries.
    static let instants: [Int64] = [
        0, 946_684_799, 946_684_800, 1_440_938_160, 1_709_251_199, 1_709_251_200,
        1_735_689_599, 2_147_483_648, 4_107_542_400, 1_767_225_600,
    ]
    static let textPieces = [
        "Björk", "東京", "🎸🎶", "naïve café", "Ελληνικά", "עברית", "e\u{301}", "\\\"quoted\\\"",
        "tab\\tnew\\nline", "plain", "ß", "\u{2028}", "𝄞", "100%", "a&b=c", "/slash/",
    ]

    static func make(count: Int, seed: UInt64) -> [DifferentialCase] {
        var rng = SeededGenerator(state: seed)
        func pick<T>(_ xs: [T]) -> T { xs[Int.random(in: 0..<xs.count, using: &rng)] }
        func chars(_ alphabet: String, _ n: Int) -> String {
            let a = Array(alphabet)
            return String((0..<n).map { _ in a[Int.random(in: 0..<a.count, using: &rng)] })
        }
        let upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
        let base64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

        return (0..<count).map { i in
            let region = pick(regions)
            let local = Bool.random(using: &rng)
            let port = Int.random(in: 1024...65535, using: &rng)
            let host = local ? "127.0.0.1:\(port)" : "dynamodb.\(region).amazonaws.com"
            let url = local ? "http://\(host)/" : "https://\(host)/"
            let operation = pick(operations)

            // A DynamoDB JSON body with unicode; some requests are large (BatchWriteItem style).
            var items: [String] = []
            let itemCount = i % 25 == 0 ? 400 : Int.random(in: 0...6, using: &rng)
            for n in 0..<itemCount {
                let text = (0..<Int.random(in: 1...4, using: &rng)).map { _ in pick(textPieces) }.joined(separator: " ")
                items.append(
                    #"{"PutRequest":{"Item":{"pk":{"S":"id-\#(n)"},"text":{"S":"\#(text)"},"n":{"N":"\#(Int.random(in: -99999...99999, using: &rng))"}}}}"#)
            }
            let body =
                operation == "ListTables" && Bool.random(using: &rng)
                ? "{}"
                : #"{"RequestItems":{"T-\#(pick(textPieces))":[\#(items.joined(separator: ","))]}}"#

            var headers: [[String]] = [
                [pick(["Content-Type", "content-type", "CONTENT-TYPE"]), "application/x-amz-json-1.0"],
                ["X-Amz-Target", "DynamoDB_20120810.\(operation)"],
            ]
            if Bool.random(using: &rng) { headers.append(["User-Agent", "dynamo-migrate/1.0 (\(pick(textPieces)))"]) }
            if Bool.random(using: &rng) { headers.append(["X-Custom-Note", "  spaced   out\t value  "]) }
            if Bool.random(using: &rng) { headers.append(["Accept-Encoding", "identity"]) }
            headers.shuffle(using: &rng)

            return DifferentialCase(
                epochSeconds: pick(instants) + Int64.random(in: 0..<86_400, using: &rng),
                accessKeyId: pick(["AKIA", "ASIA"]) + chars(upper, 16),
                secretAccessKey: chars(base64, 40),
                sessionToken: Bool.random(using: &rng) ? chars(base64, Int.random(in: 100...400, using: &rng)) + "==" : nil,
                region: region, url: url, host: host, headers: headers, body: body)
        }
    }
}

@Suite struct SigV4DifferentialTests {
    @Test(
        "Authorization headers equal botocore's for random DynamoDB requests",
        .enabled(if: Botocore.isAvailable, "python3 with botocore is not installed; differential test against botocore skipped"))
    func matchesBotocore() throws {
        let seed: UInt64 = 0x5EED_0F_D1FF
        let cases = DifferentialCases.make(count: 600, seed: seed)
        let input = try JSONEncoder().encode(cases)
        let result = try Botocore.run(arguments: ["-c", Botocore.script], input: input)
        try #require(result.status == 0, "botocore failed: \(String(decoding: result.stderr, as: UTF8.self))")
        let expected = try JSONDecoder().decode([BotocoreResult].self, from: result.stdout)
        try #require(expected.count == cases.count)

        var mismatches = 0
        for (index, (c, reference)) in zip(cases, expected).enumerated() {
            let signer = SigV4Signer(
                credentials: Credentials(
                    accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey,
                    sessionToken: c.sessionToken),
                region: c.region, service: "dynamodb")
            let request = SigningRequest(
                method: "POST", path: "/",
                headers: [("Host", c.host)] + c.headers.map { ($0[0], $0[1]) },
                body: Array(c.body.utf8))
            let date = Date(timeIntervalSince1970: TimeInterval(c.epochSeconds))
            let signed = signer.signedHeaders(for: request, date: date)
            func header(_ name: String) -> String? { signed.last { $0.name == name }?.value }
            if header("Authorization") != reference.authorization || header("X-Amz-Date") != reference.amzDate
                || header("X-Amz-Security-Token") != reference.securityToken
            {
                mismatches += 1
                if mismatches <= 3 {
                    Issue.record(
                        """
                        case \(index) (seed \(seed)) differs from botocore
                          ours:     \(header("Authorization") ?? "nil")
                          botocore: \(reference.authorization)
                          canonical request:
                        \(signer.canonicalRequest(for: request, date: date))
                        """)
                }
            }
        }
        #expect(mismatches == 0)
    }
}
