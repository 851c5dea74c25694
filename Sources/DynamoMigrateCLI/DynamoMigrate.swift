// DynamoMigrateCLI: the `dynamo-migrate` commands and their output.
import ArgumentParser

/// The root command.
public struct DynamoMigrate: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "dynamo-migrate",
        abstract: "Migrate, verify, back up and restore Amazon DynamoDB tables.",
        subcommands: [])
    public init() {}
}
