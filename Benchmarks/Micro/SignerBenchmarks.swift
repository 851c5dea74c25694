// Signer micro benchmarks: µs per signed DynamoDB request, small and ~64 KB BatchWriteItem.
import AWSAuth
import Foundation

enum SignerBenchmarks {
    static func run() -> [(name: String, value: Double, unit: String)] {
        let signer = SigV4Signer(
            credentials: Credentials(
                accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                sessionToken: String(repeating: "FwoGZXIvYXdzEBYaDH", count: 20)),
            region: "eu-west-1", service: "dynamodb")

        let small = request(operation: "GetItem", body: Array(#"{"TableName":"orders","Key":{"pk":{"S":"customer#0001"},"sk":{"S":"order#2024-05-01"}}}"#.utf8))
        // 25 items of ~2.6 KB each: a full BatchWriteItem of about 64 KB.
        let padding = String(repeating: "x", count: 2_560)
        let items = (0..<25).map { #"{"PutRequest":{"Item":{"pk":{"S":"item-\#($0)"},"payload":{"S":"\#(padding)"}}}}"# }
        let batchBody = Array(#"{"RequestItems":{"orders":[\#(items.joined(separator: ","))]}}"#.utf8)
        let batch = request(operation: "BatchWriteItem", body: batchBody)

        return [
            ("signer.sign.GetItem.small", microseconds(signer, small), "µs/request"),
            ("signer.sign.BatchWriteItem.\(batchBody.count / 1024)KB", microseconds(signer, batch), "µs/request"),
        ]
    }

    private static func request(operation: String, body: [UInt8]) -> SigningRequest {
        SigningRequest(
            method: "POST", path: "/",
            headers: [
                ("Host", "dynamodb.eu-west-1.amazonaws.com"),
                ("Content-Type", "application/x-amz-json-1.0"),
                ("X-Amz-Target", "DynamoDB_20120810.\(operation)"),
            ],
            body: body)
    }

    /// Median of five runs of about 0.2 s each, after a warm-up.
    private static func microseconds(_ signer: SigV4Signer, _ request: SigningRequest) -> Double {
        let clock = ContinuousClock()
        var sink = 0
        var date = Date(timeIntervalSince1970: 1_717_000_000)
        func batch(_ n: Int) -> Duration {
            clock.measure {
                for _ in 0..<n {
                    // A new second each time, as a live client would have; the day (and key) stays the same.
                    date = date.addingTimeInterval(0.001)
                    sink &+= signer.signedHeaders(for: request, date: date).last?.value.utf8.count ?? 0
                }
            }
        }
        var n = 16
        while batch(n) < .milliseconds(50) { n *= 2 }
        n *= 4
        var runs: [Double] = []
        for _ in 0..<5 {
            let d = batch(n)
            runs.append((Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12) / Double(n))
        }
        if sink == 42 { print("") }  // keeps the work observable
        return runs.sorted()[2]
    }
}
