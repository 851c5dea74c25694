import Foundation

/// What one run of the `dynamo-migrate` binary did.
public struct CLIRun: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String, stderr: String) { self.status = status; self.stdout = stdout; self.stderr = stderr }
}

extension TestEnvironment {
    /// Runs the built binary with `arguments`, a fresh HOME (no AWS config files) and the given
    /// environment (test credentials for the local server by default), and waits for it.
    /// - Parameter killAfter: a run that could loop forever (the bug a test is about) is killed
    ///   (SIGKILL, status 9) after this many seconds, so the test fails instead of hanging.
    public static func runCLI(
        _ arguments: [String],
        environment: [String: String] = [
            "AWS_ACCESS_KEY_ID": "AKIDTESTTESTTEST",
            "AWS_SECRET_ACCESS_KEY": "test-secret-key",
            "AWS_REGION": "us-east-1",
        ],
        killAfter seconds: Double? = nil
    ) throws -> CLIRun {
        guard let binary = cliBinary else { throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "dynamo-migrate"]) }
        let directory = temporaryDirectory("cli-run")
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("stdout"), err = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.environment = ["HOME": directory.path, "PATH": "/usr/bin:/bin"].merging(environment) { $1 }
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        let finished = Locked(false)
        if let seconds {
            let pid = process.processIdentifier
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
                finished.withLock { done in if !done { kill(pid, SIGKILL) } }
            }
        }
        process.waitUntilExit()
        finished.withLock { $0 = true }
        return CLIRun(
            status: process.terminationStatus,
            stdout: String(decoding: try Data(contentsOf: out), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: err), as: UTF8.self))
    }
}
