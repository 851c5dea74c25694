// The local DynamoDB for tests: DYNAMO_MIGRATE_TEST_ENDPOINT when set (scripts/test.sh), else a
// moto_server this test process starts itself, else a loud account of what did not run and why.
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The server the suites that need DynamoDB talk to, decided once per test process.
///
/// Plain `swift test` must not report "all passed" while every server test was skipped. So without
/// `DYNAMO_MIGRATE_TEST_ENDPOINT`, the first suite that needs a server starts `moto_server` (when it is
/// on PATH) on a free port; it is stopped when the process exits, and a watcher shell stops it within a
/// second should the process die without running its exit handlers. When there is no server at all,
/// the process ends with a banner on stderr counting the suites that did not run and saying why.
public enum LocalServer {
    /// The endpoint, or nil when there is none (``unavailableReason`` says why).
    public static var endpoint: String? { state.endpoint }
    /// Why there is no server; nil when there is one.
    public static var unavailableReason: String? { state.reason }

    /// Counts a suite or test skipped for lack of a server; returns whether there is one. For traits.
    public static func availableOrCountSkip() -> Bool {
        if endpoint != nil { return true }
        skipped.withLock { $0 += 1 }
        return false
    }

    private static let state: (endpoint: String?, reason: String?) = resolve()
    private static let skipped = Mutex(0)
    private static let motoPID = Mutex<pid_t?>(nil)

    private static func resolve() -> (endpoint: String?, reason: String?) {
        defer { atexit { LocalServer.atExit() } }
        if let configured = ProcessInfo.processInfo.environment["DYNAMO_MIGRATE_TEST_ENDPOINT"], !configured.isEmpty {
            return (configured, nil)
        }
        guard let moto = executableOnPath("moto_server") else {
            return (
                nil,
                "DYNAMO_MIGRATE_TEST_ENDPOINT is unset and moto_server is neither on PATH nor in the project's Python environment "
                    + "(scripts/setup.sh installs it; scripts/test.sh starts it and runs the tests)"
            )
        }
        do {
            return (try start(moto), nil)
        } catch {
            return (nil, "DYNAMO_MIGRATE_TEST_ENDPOINT is unset and \(moto) could not be started: \(error)")
        }
    }

    struct StartFailure: Error, CustomStringConvertible {
        var description: String
    }

    private static func start(_ moto: String) throws -> String {
        let port = try freePort()
        let endpoint = "http://127.0.0.1:\(port)"
        let directory = TestEnvironment.temporaryDirectory("test-moto")
        let log = directory.appendingPathComponent("server.log")
        let pidFile = directory.appendingPathComponent("server.pid")
        // The shell owns moto: it records moto's pid for the exit handler, and stops moto when this
        // process is gone (polled each second). SIGKILL, because moto inherits the test process's
        // blocked signals (SIGTERM among them) and would ignore anything else; it keeps nothing on disk.
        let script = """
            "$1" -H 127.0.0.1 -p "$2" >"$3" 2>&1 &
            m=$!
            echo "$m" >"$4"
            trap 'kill -9 "$m" 2>/dev/null' EXIT
            while kill -0 "$5" 2>/dev/null && kill -0 "$m" 2>/dev/null; do sleep 1; done
            """
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", script, "sh", moto, "\(port)", log.path, pidFile.path, "\(getpid())"]
        shell.standardInput = FileHandle.nullDevice
        shell.standardOutput = FileHandle.nullDevice
        shell.standardError = FileHandle.nullDevice
        try shell.run()
        // Waiting for the server to come up (not ordering tests): up to 30 s, as scripts/local-dynamodb.sh does.
        for _ in 0..<300 {
            if motoPID.withLock({ $0 }) == nil, let text = try? String(contentsOf: pidFile, encoding: .utf8),
                let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                motoPID.withLock { $0 = pid }
            }
            if MotoServer.isReady(endpoint: endpoint) {
                FileHandle.standardError.write(Data("[tests] started moto_server at \(endpoint) (log: \(log.path))\n".utf8))
                return endpoint
            }
            if !shell.isRunning { break }
            usleep(100_000)
        }
        stopMoto()
        let tail = (try? String(contentsOf: log, encoding: .utf8))?.split(separator: "\n").suffix(5).joined(separator: " | ") ?? ""
        throw StartFailure(description: "it did not answer on \(endpoint) within 30 s; its log: \(tail)")
    }

    private static func stopMoto() {
        if let pid = motoPID.withLock({ $0 }) { kill(pid, SIGKILL) }
    }

    private static func atExit() {
        stopMoto()
        let count = skipped.withLock { $0 }
        guard count > 0, let reason = state.reason else { return }
        let line = String(repeating: "!", count: 100)
        FileHandle.standardError.write(
            Data(
                """
                \(line)
                !! NOT RUN: \(count) suites and tests needing a local DynamoDB (each listed above as skipped).
                !! Why: \(reason).
                !! A passing run above says nothing about them. Run scripts/test.sh, or export DYNAMO_MIGRATE_TEST_ENDPOINT.
                \(line)

                """.utf8))
    }

    /// `name` on PATH, else in the project's Python environment (scripts/python-env.sh: `DYNAMO_MIGRATE_VENV`,
    /// by default ~/.cache/dynamo-migrate/venv), where scripts/setup.sh installs moto.
    private static func executableOnPath(_ name: String) -> String? {
        let environment = ProcessInfo.processInfo.environment
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        let cache = environment["XDG_CACHE_HOME"] ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.cache")
        let venv = environment["DYNAMO_MIGRATE_VENV"] ?? cache + "/dynamo-migrate/venv"
        let directories = path.split(separator: ":").map(String.init) + [venv + "/bin"]
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// A port nothing listens on right now (bound to port 0, then released for moto to take).
    private static func freePort() throws -> Int {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw StartFailure(description: "socket() failed: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw StartFailure(description: "could not find a free port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
