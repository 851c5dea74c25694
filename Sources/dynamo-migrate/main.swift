import DynamoMigrateCLI

await DynamoMigrate.runFromCommandLine()
