// credential_process: a profile's command prints credentials as JSON on stdout, as aws-cli runs it.
import Foundation

/// Credentials printed by a profile's `credential_process` command, run through `/bin/sh -c` as aws-cli
/// runs it: `{"Version": 1, "AccessKeyId": …, "SecretAccessKey": …, "SessionToken": …, "Expiration": …}`.
///
/// The command runs on a thread of its own, so a slow command (a hardware key, a vault) never blocks the
/// cooperative pool. Its stdin is /dev/null: a command that stops to ask a question would otherwise wait
/// for an answer nobody sees, since its stderr is captured for the error message.
public struct ProcessCredentialProvider: CredentialProvider {
    public let profile: String
    /// The command line, as written in the profile. Not part of ``source`` or any message: it may carry
    /// arguments the operator would not want in a log.
    public let command: String
    /// The shell the command line is given to.
    let shell: String

    public var source: String { "credential_process of the profile \"\(profile)\"" }

    public init(profile: String, command: String, shell: String = "/bin/sh") {
        self.profile = profile; self.command = command; self.shell = shell
    }

    /// The provider of a profile's settings (config or credentials file), or nil when it has no
    /// `credential_process`.
    public static func forProfile(_ profile: String, settings: [String: String]) -> ProcessCredentialProvider? {
        guard let command = settings["credential_process"]?.trimmingCharacters(in: .whitespacesAndNewlines),
            !command.isEmpty
        else { return nil }
        return ProcessCredentialProvider(profile: profile, command: command)
    }

    /// The provider of `profile`'s `credential_process`, looked up as aws-cli does: the credentials file's
    /// `[NAME]` first, then the config file's `[profile NAME]`; nil when neither sets one. Throws
    /// ``AWSConfigurationError`` for an unreadable or malformed file.
    public static func fromConfig(profile: String, environment: [String: String]) throws -> ProcessCredentialProvider? {
        let files = try ProfileFiles.load(environment: environment)
        if let section = files.credentials?.section(named: profile), let found = forProfile(profile, settings: section.settings) {
            return found
        }
        guard let section = files.config?.configProfile(named: profile) else { return nil }
        return forProfile(profile, settings: section.settings)
    }

    public func fetch() async throws -> ExpiringCredentials {
        let output = try await run()
        guard output.status == 0 else {
            throw CredentialProviderError(source: source, reason: "the command exited with status \(output.status)" + Self.stderrSuffix(output.stderr))
        }
        guard let object = CredentialFetching.jsonObject(output.stdout) else {
            throw CredentialProviderError(source: source, reason: "the command's output is not a JSON object" + Self.stderrSuffix(output.stderr))
        }
        guard let version = object["Version"] as? Int else {
            throw CredentialProviderError(source: source, reason: "the command's JSON has no \"Version\": 1")
        }
        guard version == 1 else {
            throw CredentialProviderError(source: source, reason: "the command's JSON has \"Version\": \(version); only version 1 is supported")
        }
        guard let id = CredentialFetching.string(object, "AccessKeyId") else {
            throw CredentialProviderError(source: source, reason: "the command's JSON has no AccessKeyId")
        }
        guard let secret = CredentialFetching.string(object, "SecretAccessKey") else {
            throw CredentialProviderError(source: source, reason: "the command's JSON has no SecretAccessKey")
        }
        var expiration: Date?
        if let text = CredentialFetching.string(object, "Expiration") {
            guard let date = CredentialFetching.date(text) else {
                throw CredentialProviderError(source: source, reason: "the command's Expiration \"\(text)\" is not an ISO 8601 date")
            }
            expiration = date
        }
        return ExpiringCredentials(
            credentials: Credentials(
                accessKeyId: id, secretAccessKey: secret,
                sessionToken: CredentialFetching.string(object, "SessionToken")),
            expiration: expiration)
    }

    /// The last 1000 characters of stderr: enough to say what went wrong without flooding the terminal.
    static func stderrSuffix(_ stderr: [UInt8]) -> String {
        let text = String(decoding: stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return " and printed nothing on stderr" }
        return "; its stderr: \(text.count > 1000 ? "…" + String(text.suffix(1000)) : text)"
    }

    struct Output { var status: Int32; var stdout: [UInt8]; var stderr: [UInt8] }

    /// Runs the command on a new thread, reading stdout and stderr to their ends at the same time (a
    /// command filling one pipe while we wait on the other would never finish).
    private func run() async throws -> Output {
        let child = Child(shell: shell, command: command)
        let source = self.source
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Output, any Error>) in
            Thread.detachNewThread {
                do {
                    continuation.resume(returning: try child.run())
                } catch {
                    continuation.resume(
                        throwing: CredentialProviderError(
                            source: source, reason: "cannot start the shell \(child.process.executableURL?.path ?? ""): \(error.localizedDescription)"))
                }
            }
        }
    }

    /// One run of the command. `@unchecked Sendable`: it is handed to the one thread that runs it and
    /// touched by no other, except `stderrBytes`, written by the stderr reader before `errorRead` is
    /// signalled and read only after waiting for it.
    private final class Child: @unchecked Sendable {
        let process = Process()
        let stdout = Pipe(), stderr = Pipe()
        let exited = DispatchSemaphore(value: 0)
        let errorRead = DispatchSemaphore(value: 0)
        var stderrBytes = Data()

        init(shell: String, command: String) {
            process.executableURL = URL(fileURLWithPath: shell)
            process.arguments = ["-c", command]
            process.standardOutput = stdout
            process.standardError = stderr
            process.standardInput = FileHandle.nullDevice
            let exited = self.exited
            process.terminationHandler = { _ in exited.signal() }
        }

        /// Blocks until the command has exited and both streams are read.
        func run() throws -> Output {
            // `run` closes our copies of the pipes' write ends, so the reads below see the end.
            try process.run()
            Thread.detachNewThread { [self] in
                stderrBytes = stderr.fileHandleForReading.readDataToEndOfFile()
                errorRead.signal()
            }
            let stdoutBytes = stdout.fileHandleForReading.readDataToEndOfFile()
            errorRead.wait()
            exited.wait()
            return Output(status: process.terminationStatus, stdout: Array(stdoutBytes), stderr: Array(stderrBytes))
        }
    }
}
