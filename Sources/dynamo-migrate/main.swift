import DynamoMigrateCLI

await DynamoMigrate.main()
