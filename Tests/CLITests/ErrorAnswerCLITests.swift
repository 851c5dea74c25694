import Foundation
import TestSupport
import Testing

/// What an operator sees when the endpoint refuses a request in a way that retrying cannot fix: one line,
/// exit 1, after one attempt. A real HTTP server answers with canned bytes.
@Suite struct ErrorAnswerCLITests {
    func run(answer: String) throws -> (CLIRun, Int) {
        let server = try CannedHTTPServer(textResponses: [answer])
        defer { server.stop() }
        let run = try TestEnvironment.runCLI(["tables", "--endpoint-url", server.endpoint], killAfter: 60)
        return (run, server.connectionsAccepted)
    }

    @Test func aRequestTooLargeForAProxyIsOneLineNotASuspicionAboutTheEndpoint() throws {
        let body = "<html><head><title>413 Request Entity Too Large</title></head></html>"
        let (run, connections) = try run(
            answer: "HTTP/1.1 413 Request Entity Too Large\r\nContent-Type: text/html\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        #expect(run.status == 1)
        #expect(
            run.stderr
                == "error: ListTables failed: HTTP413: the request was too large for the endpoint (HTTP 413 Request Entity Too Large) (HTTP 413, 1 attempt). DynamoDB takes requests up to 16 MB and items up to 400 KB; a proxy between here and DynamoDB may allow less.\n"
        )
        #expect(connections == 1)
    }

    @Test func aTransitionalRefusalReachesTheCallerAtOnceWithWhatToDo() throws {
        let (run, connections) = try run(
            answer:
                "HTTP/1.1 400 Bad Request\r\nx-amzn-ErrorType: LimitExceededException:http://internal.amazon.com/coral/com.amazonaws.dynamodb.v20120810/\r\nContent-Length: 0\r\n\r\n"
        )
        #expect(run.status == 1)
        #expect(
            run.stderr
                == "error: ListTables failed: LimitExceededException: (no message) (HTTP 400, 1 attempt). Too many control-plane operations run at once in this account (CreateTable, UpdateTable, DeleteTable, restores): wait for some to finish and run again.\n"
        )
        #expect(connections == 1)
    }
}
