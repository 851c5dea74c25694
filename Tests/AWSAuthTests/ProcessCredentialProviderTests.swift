// credential_process with real script files run through /bin/sh.
import AWSAuth
import Foundation
import TestSupport
import Testing

@Suite struct ProcessCredentialProviderTests {
    let dir = TestEnvironment.temporaryDirectory("credential-process")

    /// An executable script in the test's folder; returns the command line that runs it.
    /// The command runs it through /bin/sh rather than exec'ing the file: a process spawned at the
    /// same moment by a parallel test can inherit the still-open write descriptor, and exec of a file
    /// open for writing fails with ETXTBSY ("Text file busy").
    func script(_ name: String, _ body: String) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try ("#!/bin/sh\n" + body).write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)
        return "/bin/sh '\(path)' --profile dev"
    }

    @Test func jsonOnStdout() async throws {
        let command = try script(
            "ok.sh",
            """
            [ "$2" = dev ] || exit 9
            cat <<JSON
            {"Version": 1, "AccessKeyId": "ASIAPROCESS", "SecretAccessKey": "\(Planted.secret)",
             "SessionToken": "\(Planted.sessionToken)", "Expiration": "2026-11-30T10:00:00.000Z"}
            JSON
            """)
        let provider = ProcessCredentialProvider(profile: "dev", command: command)
        #expect(
            try await provider.fetch()
                == ExpiringCredentials(
                    credentials: Credentials(accessKeyId: "ASIAPROCESS", secretAccessKey: Planted.secret, sessionToken: Planted.sessionToken),
                    expiration: utc("2026-11-30T10:00:00Z")))
        #expect(provider.source == "credential_process of the profile \"dev\"")
    }

    @Test func longTermKeysWithoutExpiration() async throws {
        let command = try script("static.sh", #"echo '{"Version":1,"AccessKeyId":"AKIASTATIC","SecretAccessKey":"s"}'"#)
        #expect(
            try await ProcessCredentialProvider(profile: "p", command: command).fetch()
                == ExpiringCredentials(credentials: Credentials(accessKeyId: "AKIASTATIC", secretAccessKey: "s")))
    }

    @Test func aFailingCommandIsReportedWithItsStderr() async throws {
        let command = try script("fail.sh", "echo 'vault is sealed' >&2\nexit 3\n")
        let error = await providerError { try await ProcessCredentialProvider(profile: "dev", command: command).fetch() }
        #expect(
            error?.description
                == "cannot get credentials from credential_process of the profile \"dev\": the command exited with status 3; its stderr: vault is sealed")
    }

    @Test func badOutputNeverShowsWhatWasPrinted() async throws {
        let truncated = try script("truncated.sh", #"printf '{"Version":1,"AccessKeyId":"A","SecretAccessKey":"\#(Planted.secret)'"#)
        var error = await providerError { try await ProcessCredentialProvider(profile: "dev", command: truncated).fetch() }
        #expect(error?.reason == "the command's output is not a JSON object and printed nothing on stderr")

        let version2 = try script("v2.sh", #"echo '{"Version":2,"AccessKeyId":"A","SecretAccessKey":"\#(Planted.secret)"}'"#)
        error = await providerError { try await ProcessCredentialProvider(profile: "dev", command: version2).fetch() }
        #expect(error?.reason == "the command's JSON has \"Version\": 2; only version 1 is supported")

        let noSecret = try script("nosecret.sh", #"echo '{"Version":1,"AccessKeyId":"A","SessionToken":"\#(Planted.sessionToken)"}'"#)
        error = await providerError { try await ProcessCredentialProvider(profile: "dev", command: noSecret).fetch() }
        #expect(error?.reason == "the command's JSON has no SecretAccessKey")
    }

    /// A command that fills the stderr pipe before it writes stdout must not hang the read.
    @Test func muchOutputOnBothStreams() async throws {
        let command = try script(
            "chatty.sh",
            """
            i=0; while [ $i -lt 3000 ]; do echo "progress line $i of a chatty credential helper" >&2; i=$((i+1)); done
            echo '{"Version":1,"AccessKeyId":"ASIACHATTY","SecretAccessKey":"s","SessionToken":"t"}'
            """)
        #expect(try await ProcessCredentialProvider(profile: "dev", command: command).fetch().credentials.accessKeyId == "ASIACHATTY")
    }

    @Test func fromTheProfileFilesCredentialsFileFirst() throws {
        let home = try AWSHome(
            credentials: "[dev]\ncredential_process = /opt/creds --from-credentials\n",
            config:
                "[profile dev]\ncredential_process = /opt/creds --from-config\n[profile other]\ncredential_process = /opt/other\n[profile plain]\nregion = eu-west-1\n"
        )
        #expect(try ProcessCredentialProvider.fromConfig(profile: "dev", environment: home.env())?.command == "/opt/creds --from-credentials")
        #expect(try ProcessCredentialProvider.fromConfig(profile: "other", environment: home.env())?.command == "/opt/other")
        #expect(try ProcessCredentialProvider.fromConfig(profile: "plain", environment: home.env())?.command == nil)
        #expect(try ProcessCredentialProvider.fromConfig(profile: "missing", environment: home.env())?.command == nil)
    }
}
