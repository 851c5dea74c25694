import AWSAuth
import DynamoClient
import DynamoCore
import Foundation
import TestSupport
import Testing

@Suite(needsLocalServer)
struct TableOperationsTests {
    let client = makeClient(endpoint: localEndpoint)

    @Test func createDescribeUpdateAndDeleteTable() async throws {
        let name = TestEnvironment.uniqueTableName("ops-create")
        let input = CreateTableInput(
            name: name,
            keySchema: KeySchema(
                partitionKey: KeyAttribute(name: "tenant", type: .string),
                sortKey: KeyAttribute(name: "createdAt", type: .number)),
            billingMode: .provisioned(read: 7, write: 3),
            globalSecondaryIndexes: [
                SecondaryIndex(
                    name: "byEmail", keySchema: KeySchema(partitionKey: KeyAttribute(name: "email", type: .string)),
                    projection: .keysOnly, provisioned: (2, 1))
            ],
            localSecondaryIndexes: [
                SecondaryIndex(
                    name: "byStatus",
                    keySchema: KeySchema(
                        partitionKey: KeyAttribute(name: "tenant", type: .string),
                        sortKey: KeyAttribute(name: "status", type: .string)),
                    projection: .include(["total"]))
            ],
            stream: .newAndOldImages,
            tags: ["team": "platform", "env": "test"],
            deletionProtection: true)
        try await client.createTable(input)
        let table = try await client.waitUntilActive(name, pollInterval: .milliseconds(50))

        #expect(table.name == name)
        #expect(table.status == "ACTIVE")
        #expect(table.keySchema == input.keySchema)
        #expect(table.billingMode == .provisioned(read: 7, write: 3))
        #expect(table.globalSecondaryIndexes.map(\.name) == ["byEmail"])
        #expect(table.globalSecondaryIndexes.first?.keySchema == KeySchema(partitionKey: KeyAttribute(name: "email", type: .string)))
        #expect(table.globalSecondaryIndexes.first?.projection == .keysOnly)
        #expect(table.localSecondaryIndexes.map(\.name) == ["byStatus"])
        #expect(table.localSecondaryIndexes.first?.projection == .include(["total"]))
        #expect(table.stream == .newAndOldImages)
        #expect(table.deletionProtection == true)
        let arn = try #require(table.arn)
        #expect(try await client.listTags(arn: arn) == ["team": "platform", "env": "test"])

        // Deletion protection must be lifted before DeleteTable succeeds.
        await #expect(throws: DynamoDBError.self) { try await client.deleteTable(name) }
        let updated = try await client.updateTable(UpdateTableInput(name: name, billingMode: .payPerRequest, deletionProtection: false))
        #expect(updated.deletionProtection == false)
        #expect(try await client.describeTable(name).billingMode == .payPerRequest)
        try await client.deleteTable(name)
        try await client.waitUntilDeleted(name, pollInterval: .milliseconds(50))
        #expect(try await client.describeTableIfExists(name) == nil)
    }

    @Test func listTablesFollowsEveryPage() async throws {
        let names = try await (0..<5).asyncMap { _ in try await makeTable(client, prefix: "ops-list") }
        // moto pages ListTables by position: when a concurrent test deletes the table named in
        // ExclusiveStartTableName, moto ends the listing early (DynamoDB pages by name and is not
        // affected). A few tries get a listing no other test disturbed.
        var listed: [String] = []
        for _ in 0..<5 {
            listed = try await client.listTables(pageSize: 2)
            if Set(names).isSubset(of: Set(listed)) { break }
        }
        #expect(Set(names).isSubset(of: Set(listed)))
        #expect(listed.count == Set(listed).count, "no table listed twice")
        for name in names { try await client.deleteTable(name) }
    }

    @Test func tagsAndTimeToLive() async throws {
        let name = try await makeTable(client, prefix: "ops-tags")
        let arn = try #require(try await client.describeTable(name).arn)
        try await client.tagResource(arn: arn, tags: ["owner": "ops", "cost-centre": "42"])
        #expect(try await client.listTags(arn: arn) == ["owner": "ops", "cost-centre": "42"])

        #expect(try await client.describeTimeToLive(name).isEnabled == false)
        try await client.updateTimeToLive(name, attributeName: "expiresAt", enabled: true)
        let ttl = try await client.describeTimeToLive(name)
        #expect(ttl.isEnabled)
        #expect(ttl.attributeName == "expiresAt")
        try await client.deleteTable(name)
    }

    @Test func unknownTableIsResourceNotFoundNamingTheTable() async throws {
        let name = "no-such-table-\(UInt32.random(in: 0...UInt32.max))"
        do {
            _ = try await client.describeTable(name)
            Issue.record("DescribeTable of a missing table succeeded")
        } catch {
            #expect(error.isResourceNotFound)
            #expect(
                error.description.hasPrefix("table \(name) does not exist in us-east-1 at \(localEndpoint) (DescribeTable failed: ResourceNotFoundException"))
            #expect(error.description.contains("1 attempt"), "not retried: \(error)")
        }
    }
}

@Suite(needsLocalServer)
struct ItemOperationsTests {
    let client = makeClient(endpoint: localEndpoint)

    @Test func putGetDeleteAndConditionalPut() async throws {
        let table = try await makeTable(client, prefix: "items-put")
        let item = sampleItems(1)[0]
        try await client.putItem(table: table, item: item)
        #expect(try await client.getItem(table: table, key: ["pk": .s("item-0")], consistentRead: true) == item)
        #expect(try await client.getItem(table: table, key: ["pk": .s("missing")]) == nil)

        do {
            try await client.putItem(table: table, item: ["pk": .s("item-0")], conditionExpression: "attribute_not_exists(pk)")
            Issue.record("conditional put over an existing item succeeded")
        } catch {
            #expect(error.isConditionalCheckFailed)
        }
        #expect(try await client.getItem(table: table, key: ["pk": .s("item-0")]) == item, "failed condition changed nothing")

        try await client.deleteItem(table: table, key: ["pk": .s("item-0")])
        #expect(try await client.getItem(table: table, key: ["pk": .s("item-0")]) == nil)
        try await client.deleteTable(table)
    }

    @Test func batchWriteThenScanEveryPageAndEverySegment() async throws {
        let table = try await makeTable(client, prefix: "items-scan")
        let items = sampleItems(120)
        try await writeAll(client, table, items)

        let paged = try await scanAll(client, table, limit: 7)
        #expect(paged.count == 120)
        #expect(byKey(paged) == byKey(items))

        var segments: [[Item]] = []
        for segment in 0..<4 {
            var start: Item?
            var found: [Item] = []
            repeat {
                let page = try await client.scan(
                    ScanInput(
                        table: table, segment: segment, totalSegments: 4, limit: 50,
                        exclusiveStartKey: start, returnConsumedCapacity: true))
                #expect(page.count == page.items.count)
                found += page.items
                start = page.lastEvaluatedKey
            } while start != nil
            segments.append(found)
        }
        #expect(segments.map(\.count).reduce(0, +) == 120, "segments are disjoint and complete")
        #expect(byKey(segments.flatMap { $0 }) == byKey(items))
        try await client.deleteTable(table)
    }

    @Test func queryAndBatchGet() async throws {
        let table = try await makeTable(client, prefix: "items-query", sortKey: KeyAttribute(name: "sk", type: .number))
        let items = (0..<10).map { i -> Item in ["pk": .s(i < 6 ? "a" : "b"), "sk": .n(DynamoNumber(i)), "v": .s("value \(i)")] }
        try await writeAll(client, table, items)

        let page = try await client.query(
            QueryInput(
                table: table, keyConditionExpression: "#p = :p AND sk >= :low",
                expressionAttributeNames: ["#p": "pk"],
                expressionAttributeValues: [":p": .s("a"), ":low": .n(DynamoNumber(2))],
                scanIndexForward: false))
        #expect(page.items == [5, 4, 3, 2].map { items[$0] })

        let output = try await client.batchGetItem([
            table: [
                ["pk": .s("a"), "sk": .n(DynamoNumber(1))],
                ["pk": .s("b"), "sk": .n(DynamoNumber(9))],
                ["pk": .s("b"), "sk": .n(DynamoNumber(100))],
            ]
        ])
        #expect(Set(output.responses[table] ?? []) == Set([items[1], items[9]]))
        #expect(output.unprocessedKeys.isEmpty)
        try await client.deleteTable(table)
    }

    @Test func batchWriteDeletes() async throws {
        let table = try await makeTable(client, prefix: "items-delete")
        try await writeAll(client, table, sampleItems(10))
        let output = try await client.batchWriteItem([table: (0..<4).map { .delete(key: ["pk": .s("item-\($0)")]) }])
        #expect(output.unprocessedCount == 0)
        #expect(Set(try await scanAll(client, table).compactMap { $0["pk"] }) == Set((4..<10).map { AttributeValue.s("item-\($0)") }))
        try await client.deleteTable(table)
    }

    @Test func dynamoDBLimitsAreEnforcedBeforeSending() async throws {
        let table = "never-created-\(UInt32.random(in: 0...UInt32.max))"
        let twentySix = sampleItems(26).map { WriteRequest.put($0) }
        await #expect(throws: DynamoDBError.self) { _ = try await client.batchWriteItem([table: twentySix]) }
        do {
            _ = try await client.batchWriteItem([table: twentySix])
        } catch {
            #expect(error.description == "BatchWriteItem not sent: 26 write requests; DynamoDB takes at most 25 per call")
        }
        let big: Item = ["pk": .s("big"), "blob": .b([UInt8](repeating: 7, count: 400 * 1024))]
        do {
            _ = try await client.batchWriteItem([table: [.put(big)]])
            Issue.record("an item over 400 KB was accepted")
        } catch {
            guard case .invalidRequest(let operation, let reason) = error else { Issue.record("unexpected \(error)"); return }
            #expect(operation == "BatchWriteItem")
            #expect(reason.contains("over DynamoDB's 400 KB item limit"))
        }
        #expect(client.statistics.requests == 0, "nothing was sent")
    }
}

@Suite(needsLocalServer)
struct BackupOperationsTests {
    let client = makeClient(endpoint: localEndpoint)

    @Test func backupDescribeListRestoreAndDelete() async throws {
        let table = try await makeTable(client, prefix: "bk-src")
        let items = sampleItems(30)
        try await writeAll(client, table, items)

        let backup = try await client.createBackup(table: table, name: "nightly-\(table)")
        #expect(backup.name == "nightly-\(table)")
        #expect(backup.tableName == table)
        let available = try await client.waitUntilBackupAvailable(backup.arn, pollInterval: .milliseconds(50))
        #expect(available.backup.status == "AVAILABLE")
        #expect(available.sourceTableName == table)
        #expect(available.sourceKeySchema?.partitionKey.name == "pk")

        let listed = try await client.listBackups(table: table)
        #expect(listed.map(\.arn) == [backup.arn])

        let restored = TestEnvironment.uniqueTableName("bk-restored")
        try await client.restoreTableFromBackup(backupArn: backup.arn, targetTable: restored)
        try await client.waitUntilActive(restored, pollInterval: .milliseconds(50))
        #expect(byKey(try await scanAll(client, restored)) == byKey(items))

        try await client.deleteBackup(arn: backup.arn)
        #expect(try await client.listBackups(table: table).filter { $0.status != "DELETED" }.isEmpty)
        try await client.deleteTable(restored)
        try await client.deleteTable(table)
    }

    @Test func pointInTimeRecovery() async throws {
        let table = try await makeTable(client, prefix: "pitr-src")
        try await writeAll(client, table, sampleItems(12))
        #expect(try await client.describeContinuousBackups(table: table).isPointInTimeRecoveryEnabled == false)
        let enabled = try await client.updateContinuousBackups(table: table, pointInTimeRecovery: true)
        #expect(enabled.isPointInTimeRecoveryEnabled)
        let described = try await client.describeContinuousBackups(table: table)
        #expect(described.isPointInTimeRecoveryEnabled)
        #expect(described.latestRestorableDate != nil)

        let restored = TestEnvironment.uniqueTableName("pitr-restored")
        try await client.restoreTableToPointInTime(sourceTable: table, targetTable: restored, to: .latest)
        try await client.waitUntilActive(restored, pollInterval: .milliseconds(50))
        #expect(byKey(try await scanAll(client, restored)) == byKey(sampleItems(12)))
        try await client.deleteTable(restored)
        try await client.deleteTable(table)
    }
}

@Suite struct ConnectionErrorTests {
    @Test func unreachableEndpointSaysSoAfterRetrying() async throws {
        // Port 9 (discard) on loopback is closed here.
        let sleeper = RecordingSleeper()
        let client = makeClient(endpoint: "http://127.0.0.1:9", retryPolicy: RetryPolicy(maxAttempts: 3), sleeper: sleeper)
        do {
            _ = try await client.listTables()
            Issue.record("ListTables against a closed port succeeded")
        } catch {
            guard case .transport(.connectFailed, let context) = error else { Issue.record("unexpected \(error)"); return }
            #expect(context.attempts == 3)
            #expect(error.description.hasPrefix("ListTables failed after 3 attempts: could not connect to http://127.0.0.1:9/"))
            #expect(error.description.contains("--endpoint-url"))
        }
        #expect(sleeper.recorded.count == 2)
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
