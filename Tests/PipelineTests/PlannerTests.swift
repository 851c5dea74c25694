import DynamoClient
import DynamoCore
import Foundation
import Mappings
import RunState
import TableIO
import TestSupport
import Testing

@testable import Pipeline

@Suite("Planner against the local server", needsLocalServer)
struct PlannerTests {
    let client = makeClient(endpoint: localEndpoint)

    /// Two sources merged into a new target: a key collision (u3), a failing convert (u2), a filtered
    /// item (u4), a GSI of the second source that is lost, an unaccounted, an ignored and a
    /// decommissioned table.
    func makeShopEstate(_ p: String) async throws -> (ResolvedMapping, String) {
        try await createTable(client, CreateTableInput(name: "\(p)-shop-a", keySchema: KeySchema(partitionKey: key("id"))))
        try await createTable(
            client,
            CreateTableInput(
                name: "\(p)-shop-b", keySchema: KeySchema(partitionKey: key("userId")),
                globalSecondaryIndexes: [SecondaryIndex(name: "byStatus", keySchema: KeySchema(partitionKey: key("status")), projection: .keysOnly)]))
        for name in ["stray", "old", "skip"] {
            try await createTable(client, CreateTableInput(name: "\(p)-\(name)", keySchema: KeySchema(partitionKey: key("pk"))))
        }
        try await writeAll(
            client, "\(p)-shop-a",
            [
                ["id": .s("u1"), "name": .s("Ann"), "price": .s("10.5")],
                ["id": .s("u2"), "name": .s("Bob"), "price": .s("ten")],
                ["id": .s("u3"), "name": .s("Cy"), "price": .s("3")],
            ])
        try await writeAll(
            client, "\(p)-shop-b",
            [
                ["userId": .s("u3"), "status": .s("active"), "name": .s("Cyrus")],
                ["userId": .s("u4"), "status": .s("closed"), "name": .s("Dee")],
                ["userId": .s("u5"), "status": .s("active"), "name": .s("Eve")],
            ])
        try await writeAll(client, "\(p)-old", [["pk": .s("x")]])
        let yaml = """
            version: 1
            tables:
              - target: \(p)-shop
                conflict: overwrite
                settings:
                  inherit: false
                  key: { partition: { name: id, type: S } }
                  billing: on-demand
                  ttl: expiresAt
                  tags: { team: qa }
                sources:
                  - table: \(p)-shop-a
                    transforms:
                      - convert: { price: number }
                      - set: { migratedFrom: "{source}" }
                  - table: \(p)-shop-b
                    transforms:
                      - filter: { attribute: status, equals: active }
                      - rename: { userId: id }
                      - set: { migratedFrom: "{source}" }
            decommission:
              - "\(p)-shop-*"
              - \(p)-old
            ignore:
              - \(p)-skip

            """
        return try await resolve(yaml, client: client, prefix: p)
    }

    @Test("the plan of a many-to-one mapping, value and JSON, exactly")
    func exactPlan() async throws {
        let p = TestEnvironment.uniqueTableName("plan")
        let (mapping, path) = try await makeShopEstate(p)
        let plan = try await Planner(
            client: client, mapping: mapping,
            options: PlanOptions(mappingFile: path, env: nil, sampleSize: 3, writeRate: 2)
        ).makePlan()

        let a = "\(p)-shop-a", b = "\(p)-shop-b", target = "\(p)-shop"
        let idKey = KeySchema(partitionKey: key("id"))
        let expectedTarget = PlannedTarget(
            name: target, exists: false, existing: nil, conflict: "overwrite", inheritsFrom: nil,
            settings: PlannedSettings(
                keySchema: idKey, billing: PlannedBilling(.payPerRequest), globalSecondaryIndexes: [],
                localSecondaryIndexes: [], stream: "OFF", sseType: "AWS_OWNED", kmsKeyId: nil,
                deletionProtection: false, tags: ["team": "qa"], ttlAttribute: "expiresAt",
                pointInTimeRecovery: true),
            actions: ["create the table and wait until it is ACTIVE", "enable TTL on expiresAt", "enable point-in-time recovery"],
            lostSettings: ["global index byStatus of \(b)"],
            sources: [
                PlannedSource(
                    table: a, order: 1, keySchema: idKey, billing: PlannedBilling(.payPerRequest), itemCount: 3, sizeBytes: 0,
                    keyPrefix: nil, hasTransforms: true, deletionProtection: false, decommission: true,
                    actions: ["copy into the new table \(target) (source 1 of 2)", "decommission once \(target) verifies"],
                    samples: [
                        PlannedSample(
                            before: DynamoItem(["id": .s("u1"), "name": .s("Ann"), "price": .s("10.5")]), outcome: .transformed,
                            after: DynamoItem(["id": .s("u1"), "name": .s("Ann"), "price": .n(DynamoNumber(unchecked: "10.5")), "migratedFrom": .s(a)]),
                            targetKey: DynamoItem(["id": .s("u1")])),
                        PlannedSample(
                            before: DynamoItem(["id": .s("u2"), "name": .s("Bob"), "price": .s("ten")]), outcome: .failed,
                            error: "\(path):14:24: convert number: attribute 'price' is \"ten\", not a number"),
                        PlannedSample(
                            before: DynamoItem(["id": .s("u3"), "name": .s("Cy"), "price": .s("3")]), outcome: .transformed,
                            after: DynamoItem(["id": .s("u3"), "name": .s("Cy"), "price": .n(DynamoNumber(3)), "migratedFrom": .s(a)]),
                            targetKey: DynamoItem(["id": .s("u3")])),
                    ]),
                PlannedSource(
                    table: b, order: 2, keySchema: KeySchema(partitionKey: key("userId")), billing: PlannedBilling(.payPerRequest),
                    itemCount: 3, sizeBytes: 0, keyPrefix: nil, hasTransforms: true, deletionProtection: false, decommission: true,
                    actions: [
                        "merge into \(target) (source 2 of 2), after \(a)",
                        "conflict: overwrite: where a key is already in the target, this source's item replaces it (later sources win)",
                        "decommission once \(target) verifies",
                    ],
                    samples: [
                        PlannedSample(
                            before: DynamoItem(["userId": .s("u3"), "status": .s("active"), "name": .s("Cyrus")]), outcome: .transformed,
                            after: DynamoItem(["id": .s("u3"), "status": .s("active"), "name": .s("Cyrus"), "migratedFrom": .s(b)]),
                            targetKey: DynamoItem(["id": .s("u3")])),
                        PlannedSample(before: DynamoItem(["userId": .s("u4"), "status": .s("closed"), "name": .s("Dee")]), outcome: .filtered),
                        PlannedSample(
                            before: DynamoItem(["userId": .s("u5"), "status": .s("active"), "name": .s("Eve")]), outcome: .transformed,
                            after: DynamoItem(["id": .s("u5"), "status": .s("active"), "name": .s("Eve"), "migratedFrom": .s(b)]),
                            targetKey: DynamoItem(["id": .s("u5")])),
                    ]),
            ],
            collisions: [
                KeyCollision(
                    key: DynamoItem(["id": .s("u3")]), sources: [a, b], conflict: "overwrite", identical: false,
                    outcome: "the item from \(b) is written last and wins")
            ])
        let expected = MigrationPlan(
            endpoint: localEndpoint, mappingFile: path, env: nil, sampleSize: 3, targets: [expectedTarget],
            decommission: [
                PlannedDecommission(table: "\(p)-old", migratedInto: nil, itemCount: 1, deletionProtection: false),
                PlannedDecommission(table: a, migratedInto: target, itemCount: 3, deletionProtection: false),
                PlannedDecommission(table: b, migratedInto: target, itemCount: 3, deletionProtection: false),
            ],
            ignored: ["\(p)-skip"], unaccounted: ["\(p)-stray"],
            warnings: ["1 of 6 sampled items fail their transform; migrate sends such items to the dead letters"],
            problems: [],
            estimate: PlanEstimate(
                sourceItems: 6, sourceBytes: 0, writeRate: 2, seconds: 3,
                note: "an estimate: the sources' item counts divided by the write rate; item sizes, capacity and throttling change the real duration"))

        // Field by field first, so a difference is easy to find; then the whole value.
        #expect(plan.targets.first?.sources.first?.samples == expectedTarget.sources[0].samples)
        #expect(plan.targets.first?.sources.last?.samples == expectedTarget.sources[1].samples)
        #expect(plan.targets.first?.collisions == expectedTarget.collisions)
        #expect(plan.targets.first?.lostSettings == expectedTarget.lostSettings)
        #expect(plan.targets == [expectedTarget])
        #expect(plan == expected)
        #expect(plan.blocked == false)

        let json = try plan.jsonText()
            .replacingOccurrences(of: p, with: "P")
            .replacingOccurrences(of: path.replacingOccurrences(of: p, with: "P"), with: "MAPPING")
            .replacingOccurrences(of: localEndpoint, with: "ENDPOINT")
        #expect(json == expectedShopJSON)
    }

    @Test("making a plan writes nothing: tables, items, PITR, TTL, tags and backups are unchanged")
    func writesNothing() async throws {
        let p = TestEnvironment.uniqueTableName("plan")
        let (shop, _) = try await makeShopEstate(p)
        // An existing target with the right key, PITR off and no TTL: migrate would enable PITR on it.
        try await createTable(client, CreateTableInput(name: "\(p)-orders", keySchema: KeySchema(partitionKey: key("orderId"))))
        try await createTable(
            client,
            CreateTableInput(
                name: "\(p)-orders-old", keySchema: KeySchema(partitionKey: key("orderId")),
                billingMode: .provisioned(read: 2, write: 1), tags: ["owner": "shop"]))
        try await writeAll(client, "\(p)-orders-old", (0..<30).map { ["orderId": .s("o\($0)"), "total": .n(DynamoNumber($0))] })
        try await client.updateTimeToLive("\(p)-orders-old", attributeName: "expiresAt", enabled: true)
        _ = try await client.createBackup(table: "\(p)-orders-old", name: "\(p)-before")
        let yaml = """
            version: 1
            tables:
              - target: \(p)-shop
                settings: { key: { partition: { name: id, type: S } }, ttl: expiresAt }
                sources:
                  - table: \(p)-shop-a
                  - table: \(p)-shop-b
                    transforms:
                      - rename: { userId: id }
              - source: \(p)-orders-old
                target: \(p)-orders
            decommission: ["\(p)-old", "\(p)-orders-old"]
            ignore: ["\(p)-skip", "\(p)-stray"]

            """
        let (mapping, path) = try await resolve(yaml, client: client, prefix: p)
        #expect(shop.targets.count == 1)

        let before = try await EstateSnapshot.take(client, prefix: p)
        let plan = try await Planner(
            client: client, mapping: mapping,
            options: PlanOptions(mappingFile: path, env: nil, sampleSize: 5)
        ).makePlan()
        let after = try await EstateSnapshot.take(client, prefix: p)

        // The plan saw work migrate would do: create a table, enable TTL and PITR.
        #expect(
            plan.targets.map(\.actions) == [
                ["create the table and wait until it is ACTIVE", "enable TTL on expiresAt", "enable point-in-time recovery"],
                ["use the existing table (0 items now); its settings stay as they are", "enable point-in-time recovery"],
            ])
        #expect(plan.targets.map { $0.sources.map(\.samples.count) } == [[3, 3], [5]])
        #expect(
            plan.targets[1].existing?.differences == ["billing is on-demand, the mapping says provisioned 2/1", "TTL is off, the mapping says on expiresAt"])
        #expect(before.tableNames == ["\(p)-old", "\(p)-orders", "\(p)-orders-old", "\(p)-shop-a", "\(p)-shop-b", "\(p)-skip", "\(p)-stray"])
        #expect(before.tables["\(p)-orders-old"]?.items.count == 30)
        #expect(before.tables["\(p)-orders-old"]?.backups.count == 1)
        #expect(before.tables["\(p)-orders"]?.pointInTimeRecovery.isPointInTimeRecoveryEnabled == false)
        #expect(after == before)
    }

    @Test("a source whose every sampled item fails its transform is a blocking problem")
    func everySampleFails() async throws {
        let p = TestEnvironment.uniqueTableName("plan")
        try await createTable(client, CreateTableInput(name: "\(p)-src", keySchema: KeySchema(partitionKey: key("id"))))
        try await writeAll(client, "\(p)-src", [["id": .s("a"), "price": .s("ten")], ["id": .s("b"), "price": .s("n/a")]])
        let (mapping, path) = try await resolve(
            """
            version: 1
            tables:
              - source: \(p)-src
                target: \(p)-dst
                transforms:
                  - convert: { price: number }

            """, client: client, prefix: p)
        let plan = try await Planner(client: client, mapping: mapping, options: PlanOptions(mappingFile: path, env: nil)).makePlan()
        #expect(plan.blocked)
        #expect(plan.problems.map(\.kind) == [.everySampleFails])
        #expect(plan.problems.first?.message.hasPrefix("every sampled item of \(p)-src (2) fails its transform, e.g. ") == true)
        #expect(plan.problems.first?.message.hasSuffix(": migrate would dead-letter the whole table") == true)
    }

    @Test("an existing target with another key schema is a blocking problem")
    func keySchemaMismatch() async throws {
        let p = TestEnvironment.uniqueTableName("plan")
        try await createTable(client, CreateTableInput(name: "\(p)-src", keySchema: KeySchema(partitionKey: key("id"))))
        try await createTable(client, CreateTableInput(name: "\(p)-dst", keySchema: KeySchema(partitionKey: key("other", .number))))
        try await writeAll(client, "\(p)-src", [["id": .s("a")]])
        let (mapping, path) = try await resolve(
            """
            version: 1
            tables:
              - source: \(p)-src
                target: \(p)-dst

            """, client: client, prefix: p)
        let plan = try await Planner(client: client, mapping: mapping, options: PlanOptions(mappingFile: path, env: nil)).makePlan()

        #expect(
            plan.problems == [
                PlanProblem(
                    kind: .keySchemaMismatch, target: "\(p)-dst",
                    message: "target table \(p)-dst already exists with key schema other(N), but the mapping needs id(S); migrate refuses to write into it")
            ])
        #expect(plan.blocked)
        #expect(
            plan.targets.first?.existing
                == ExistingTarget(
                    status: "ACTIVE", keySchema: KeySchema(partitionKey: key("other", .number)), keySchemaMatches: false,
                    itemCount: 0, pointInTimeRecovery: false, differences: []))
        #expect(plan.targets.first?.actions == [])
        #expect(
            plan.targets.first?.sources.first?.actions == [
                "merge into the existing table \(p)-dst",
                "conflict: overwrite: where a key is already in the target, this source's item replaces it (later sources win)",
            ])
    }

    @Test("sampled items of a conflict: fail target sharing a key with different content block; identical ones do not")
    func failPolicyCollisions() async throws {
        let p = TestEnvironment.uniqueTableName("plan")
        for name in ["a", "b", "c"] {
            try await createTable(client, CreateTableInput(name: "\(p)-\(name)", keySchema: KeySchema(partitionKey: key("id"))))
        }
        try await writeAll(client, "\(p)-a", [["id": .s("k1"), "v": .n(DynamoNumber(1))], ["id": .s("k2"), "v": .n(DynamoNumber(2))]])
        try await writeAll(client, "\(p)-b", [["id": .s("k1"), "v": .n(DynamoNumber(1))]])
        try await writeAll(client, "\(p)-c", [["id": .s("k2"), "v": .n(DynamoNumber(9))]])
        let (mapping, path) = try await resolve(
            """
            version: 1
            tables:
              - target: \(p)-all
                conflict: fail
                sources: [{ table: \(p)-a }, { table: \(p)-b }, { table: \(p)-c }]

            """, client: client, prefix: p)
        let plan = try await Planner(client: client, mapping: mapping, options: PlanOptions(mappingFile: path, env: nil)).makePlan()

        #expect(
            plan.targets.first?.collisions == [
                KeyCollision(
                    key: DynamoItem(["id": .s("k1")]), sources: ["\(p)-a", "\(p)-b"], conflict: "fail", identical: true,
                    outcome: "the copies are identical, which is not a conflict; the item is written once"),
                KeyCollision(
                    key: DynamoItem(["id": .s("k2")]), sources: ["\(p)-a", "\(p)-c"], conflict: "fail", identical: false,
                    outcome: "migrate stops at this key"),
            ])
        #expect(
            plan.problems == [
                PlanProblem(
                    kind: .conflictWouldFail, target: "\(p)-all",
                    message:
                        "sampled items of \(p)-a and \(p)-c share the key id=\"k2\" in \(p)-all with different content, and its conflict policy is 'fail': migrate would stop there"
                )
            ])
    }
}

@Suite("Plan collisions, without a server")
struct PlanCollisionTests {
    @Test("keep-existing keeps the first source's item; a key produced once is no collision")
    func keepExisting() {
        let produced: [(key: Item, source: String, item: Item)] = [
            (["id": .s("x")], "one", ["id": .s("x"), "v": .n(DynamoNumber(1))]),
            (["id": .s("y")], "one", ["id": .s("y")]),
            (["id": .s("x")], "two", ["id": .s("x"), "v": .n(DynamoNumber(2))]),
            (["id": .s("x")], "three", ["id": .s("x"), "v": .n(DynamoNumber(3))]),
        ]
        #expect(
            Planner.collisions(produced, conflict: .keepExisting) == [
                KeyCollision(
                    key: DynamoItem(["id": .s("x")]), sources: ["one", "two", "three"], conflict: "keep-existing",
                    identical: false, outcome: "the item from one is kept; later copies are skipped")
            ])
        #expect(Planner.collisions(produced, conflict: .overwrite).map(\.outcome) == ["the item from three is written last and wins"])
    }

    @Test("numbers compare by value when keys are grouped")
    func numericKeys() {
        let produced: [(key: Item, source: String, item: Item)] = [
            (["n": .n(DynamoNumber(unchecked: "1.50"))], "one", ["n": .n(DynamoNumber(unchecked: "1.50"))]),
            (["n": .n(DynamoNumber(unchecked: "1.5"))], "two", ["n": .n(DynamoNumber(unchecked: "1.5"))]),
        ]
        let collisions = Planner.collisions(produced, conflict: .overwrite)
        #expect(collisions.map(\.sources) == [["one", "two"]])
        #expect(collisions.map(\.identical) == [true])
    }
}

/// `plan --json` of ``PlannerTests/exactPlan()``, with the table prefix as P, the mapping path as
/// MAPPING and the endpoint as ENDPOINT.
let expectedShopJSON = #"""
    {
      "blocked" : false,
      "decommission" : [
        {
          "deletionProtection" : false,
          "itemCount" : 1,
          "table" : "P-old"
        },
        {
          "deletionProtection" : false,
          "itemCount" : 3,
          "migratedInto" : "P-shop",
          "table" : "P-shop-a"
        },
        {
          "deletionProtection" : false,
          "itemCount" : 3,
          "migratedInto" : "P-shop",
          "table" : "P-shop-b"
        }
      ],
      "endpoint" : "ENDPOINT",
      "estimate" : {
        "note" : "an estimate: the sources' item counts divided by the write rate; item sizes, capacity and throttling change the real duration",
        "seconds" : 3,
        "sourceBytes" : 0,
        "sourceItems" : 6,
        "writeRate" : 2
      },
      "formatVersion" : 1,
      "ignored" : [
        "P-skip"
      ],
      "mappingFile" : "MAPPING",
      "problems" : [

      ],
      "sampleSize" : 3,
      "targets" : [
        {
          "actions" : [
            "create the table and wait until it is ACTIVE",
            "enable TTL on expiresAt",
            "enable point-in-time recovery"
          ],
          "collisions" : [
            {
              "conflict" : "overwrite",
              "identical" : false,
              "key" : {
                "id" : {
                  "S" : "u3"
                }
              },
              "outcome" : "the item from P-shop-b is written last and wins",
              "sources" : [
                "P-shop-a",
                "P-shop-b"
              ]
            }
          ],
          "conflict" : "overwrite",
          "exists" : false,
          "lostSettings" : [
            "global index byStatus of P-shop-b"
          ],
          "name" : "P-shop",
          "settings" : {
            "billing" : {
              "mode" : "PAY_PER_REQUEST"
            },
            "deletionProtection" : false,
            "globalSecondaryIndexes" : [

            ],
            "keySchema" : {
              "partitionKey" : {
                "name" : "id",
                "type" : "S"
              }
            },
            "localSecondaryIndexes" : [

            ],
            "pointInTimeRecovery" : true,
            "sseType" : "AWS_OWNED",
            "stream" : "OFF",
            "tags" : {
              "team" : "qa"
            },
            "ttlAttribute" : "expiresAt"
          },
          "sources" : [
            {
              "actions" : [
                "copy into the new table P-shop (source 1 of 2)",
                "decommission once P-shop verifies"
              ],
              "billing" : {
                "mode" : "PAY_PER_REQUEST"
              },
              "decommission" : true,
              "deletionProtection" : false,
              "hasTransforms" : true,
              "itemCount" : 3,
              "keySchema" : {
                "partitionKey" : {
                  "name" : "id",
                  "type" : "S"
                }
              },
              "order" : 1,
              "samples" : [
                {
                  "after" : {
                    "id" : {
                      "S" : "u1"
                    },
                    "migratedFrom" : {
                      "S" : "P-shop-a"
                    },
                    "name" : {
                      "S" : "Ann"
                    },
                    "price" : {
                      "N" : "10.5"
                    }
                  },
                  "before" : {
                    "id" : {
                      "S" : "u1"
                    },
                    "name" : {
                      "S" : "Ann"
                    },
                    "price" : {
                      "S" : "10.5"
                    }
                  },
                  "outcome" : "transformed",
                  "targetKey" : {
                    "id" : {
                      "S" : "u1"
                    }
                  }
                },
                {
                  "before" : {
                    "id" : {
                      "S" : "u2"
                    },
                    "name" : {
                      "S" : "Bob"
                    },
                    "price" : {
                      "S" : "ten"
                    }
                  },
                  "error" : "MAPPING:14:24: convert number: attribute 'price' is \"ten\", not a number",
                  "outcome" : "failed"
                },
                {
                  "after" : {
                    "id" : {
                      "S" : "u3"
                    },
                    "migratedFrom" : {
                      "S" : "P-shop-a"
                    },
                    "name" : {
                      "S" : "Cy"
                    },
                    "price" : {
                      "N" : "3"
                    }
                  },
                  "before" : {
                    "id" : {
                      "S" : "u3"
                    },
                    "name" : {
                      "S" : "Cy"
                    },
                    "price" : {
                      "S" : "3"
                    }
                  },
                  "outcome" : "transformed",
                  "targetKey" : {
                    "id" : {
                      "S" : "u3"
                    }
                  }
                }
              ],
              "sizeBytes" : 0,
              "table" : "P-shop-a"
            },
            {
              "actions" : [
                "merge into P-shop (source 2 of 2), after P-shop-a",
                "conflict: overwrite: where a key is already in the target, this source's item replaces it (later sources win)",
                "decommission once P-shop verifies"
              ],
              "billing" : {
                "mode" : "PAY_PER_REQUEST"
              },
              "decommission" : true,
              "deletionProtection" : false,
              "hasTransforms" : true,
              "itemCount" : 3,
              "keySchema" : {
                "partitionKey" : {
                  "name" : "userId",
                  "type" : "S"
                }
              },
              "order" : 2,
              "samples" : [
                {
                  "after" : {
                    "id" : {
                      "S" : "u3"
                    },
                    "migratedFrom" : {
                      "S" : "P-shop-b"
                    },
                    "name" : {
                      "S" : "Cyrus"
                    },
                    "status" : {
                      "S" : "active"
                    }
                  },
                  "before" : {
                    "name" : {
                      "S" : "Cyrus"
                    },
                    "status" : {
                      "S" : "active"
                    },
                    "userId" : {
                      "S" : "u3"
                    }
                  },
                  "outcome" : "transformed",
                  "targetKey" : {
                    "id" : {
                      "S" : "u3"
                    }
                  }
                },
                {
                  "before" : {
                    "name" : {
                      "S" : "Dee"
                    },
                    "status" : {
                      "S" : "closed"
                    },
                    "userId" : {
                      "S" : "u4"
                    }
                  },
                  "outcome" : "filtered"
                },
                {
                  "after" : {
                    "id" : {
                      "S" : "u5"
                    },
                    "migratedFrom" : {
                      "S" : "P-shop-b"
                    },
                    "name" : {
                      "S" : "Eve"
                    },
                    "status" : {
                      "S" : "active"
                    }
                  },
                  "before" : {
                    "name" : {
                      "S" : "Eve"
                    },
                    "status" : {
                      "S" : "active"
                    },
                    "userId" : {
                      "S" : "u5"
                    }
                  },
                  "outcome" : "transformed",
                  "targetKey" : {
                    "id" : {
                      "S" : "u5"
                    }
                  }
                }
              ],
              "sizeBytes" : 0,
              "table" : "P-shop-b"
            }
          ]
        }
      ],
      "unaccounted" : [
        "P-stray"
      ],
      "warnings" : [
        "1 of 6 sampled items fail their transform; migrate sends such items to the dead letters"
      ]
    }
    """#
