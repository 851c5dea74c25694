// DynamoMigrateCLI: the `dynamo-migrate` commands and their output.
import ArgumentParser
import Foundation
import RunState
import TableIO

/// The root command.
public struct DynamoMigrate: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "dynamo-migrate",
        abstract: "Migrate, verify, back up and restore Amazon DynamoDB tables.",
        discussion: """
            Credentials, region and endpoint are resolved like aws-cli: --profile / AWS_PROFILE, \
            AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, ~/.aws/credentials and ~/.aws/config, \
            --region / AWS_REGION / AWS_DEFAULT_REGION, and --endpoint-url / AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL.
            """,
        version: "0.1.0",
        subcommands: [
            TablesCommand.self, PlanCommand.self, MigrateCommand.self, ChecksumCommand.self, VerifyCommand.self,
            DiffCommand.self, ExportCommand.self, ImportCommand.self, BackupCommand.self, DrillCommand.self,
            DecommissionCommand.self, WhoamiCommand.self,
        ])
    public init() {}
}

extension DynamoMigrate {
    /// Parses the arguments and runs the chosen command. (Called from `main.swift`; a plain
    /// `await DynamoMigrate.main()` there resolves to the synchronous entry point on Linux.)
    public static func runFromCommandLine() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            // Bad flags are bad input like a bad mapping: exit 2, not ArgumentParser's 64.
            if exitCode(for: error).rawValue == 64 {
                let message = fullMessage(for: error)
                FileHandle.standardError.write(Data((message + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
