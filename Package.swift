// swift-tools-version: 6.0
// dynamo-migrate: migrate, verify, back up and restore Amazon DynamoDB tables.
import PackageDescription

let package = Package(
    name: "dynamo-migrate",
    platforms: [.macOS(.v15)],  // Synchronization.Mutex needs macOS 15
    products: [
        .executable(name: "dynamo-migrate", targets: ["dynamo-migrate"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // System libraries and their shims, nothing else.
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),

        // Values, DynamoDB JSON, canonical numbers.
        .target(name: "DynamoCore"),
        // SigV4 signing, credentials (providers fetch over CurlTransport), region and endpoint resolution.
        .target(
            name: "AWSAuth",
            dependencies: [
                "CurlTransport",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        // CRC32 and gzip through zlib.
        .target(name: "ZlibSupport", dependencies: ["CZlib"]),
        // HTTP over libcurl, driven on its own thread.
        .target(name: "CurlTransport", dependencies: ["CCurl", "ZlibSupport"]),
        // Typed DynamoDB operations, retries, errors, waiters.
        .target(
            name: "DynamoClient",
            dependencies: [
                "DynamoCore", "AWSAuth", "CurlTransport",
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Mapping files: parse, validate with positions, compile transforms.
        .target(
            name: "Mappings",
            dependencies: [
                "DynamoCore",
                .product(name: "Yams", package: "Yams"),
            ]),
        // The shared lower layer under every engine, part 1: every record a run keeps (checkpoints,
        // verification, dead letters, decommission audit, backups, drills) behind one StateStore, typed
        // and versioned, with one atomic replace, one JSONL appender and one permission policy.
        .target(name: "RunState", dependencies: ["DynamoCore", "AWSAuth", "Mappings"]),
        // The shared lower layer, part 2: table I/O. Parallel Scan, bounded queue, rate limiter, batched
        // writer, item projection, target blueprints, content checksums, the export file layout.
        .target(
            name: "TableIO",
            dependencies: [
                "DynamoCore", "AWSAuth", "DynamoClient", "Mappings", "RunState", "ZlibSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // Engines, peers of each other, each on TableIO + RunState + DynamoClient.
        // Plan and migrate: the streaming migrator (segment readers, checkpoints, reports).
        .target(
            name: "Pipeline",
            dependencies: [
                "DynamoCore", "AWSAuth", "DynamoClient", "Mappings", "TableIO", "RunState",
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Live migration: stream positions before the copy, then the sources' DynamoDB Streams applied to
        // the targets (shard lineage, per-shard checkpoints, lag) until cutover.
        .target(
            name: "Follow",
            dependencies: [
                "DynamoCore", "AWSAuth", "DynamoClient", "Mappings", "TableIO", "RunState",
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Verification of a migration against its mapping, and diffs.
        .target(
            name: "Verification",
            dependencies: [
                "DynamoCore", "DynamoClient", "Mappings", "TableIO", "RunState",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        // Exports, imports, on-demand backups, restore drills and backup policies.
        .target(
            name: "Backup",
            dependencies: [
                "DynamoCore", "DynamoClient", "ZlibSupport", "Mappings", "TableIO", "RunState",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]),
        // Deletion guarded by proof: verified data, verified backups, confirmation, audit log.
        .target(
            name: "Decommission",
            dependencies: [
                "AWSAuth", "DynamoClient", "Mappings", "TableIO", "RunState",
            ]),
        // Commands and their output.
        .target(
            name: "DynamoMigrateCLI",
            dependencies: [
                "TableIO", "RunState", "Pipeline", "Follow", "Verification", "Decommission", "Backup",
                "DynamoCore", "AWSAuth", "DynamoClient", "Mappings",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(name: "dynamo-migrate", dependencies: ["DynamoMigrateCLI"]),

        // Micro benchmarks (codec, signer, CRC32); see Benchmarks/README.md.
        .executableTarget(
            name: "dynamo-migrate-bench",
            dependencies: ["DynamoCore", "AWSAuth", "ZlibSupport", "TableIO"],
            path: "Benchmarks/Micro"),
        // In-memory DynamoDB data plane on 127.0.0.1 for end-to-end benchmarks; see Benchmarks/README.md.
        .executableTarget(
            name: "dynamo-bench-server", dependencies: ["DynamoCore", "ZlibSupport"],
            path: "Benchmarks/Server"),

        // Test support: local server fixture, fault-injecting proxy, data generators.
        .target(name: "TestSupport", dependencies: ["DynamoCore", "AWSAuth", "DynamoClient"], path: "Tests/TestSupport"),
        .testTarget(
            name: "DynamoCoreTests",
            dependencies: [
                "DynamoCore", "TestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]),
        .testTarget(name: "AWSAuthTests", dependencies: ["AWSAuth", "TestSupport"]),
        .testTarget(name: "CurlTransportTests", dependencies: ["CurlTransport", "ZlibSupport", "TestSupport"]),
        .testTarget(name: "DynamoClientTests", dependencies: ["DynamoClient", "TestSupport"]),
        .testTarget(name: "MappingsTests", dependencies: ["Mappings", "TestSupport"]),
        .testTarget(name: "RunStateTests", dependencies: ["RunState", "TestSupport"]),
        .testTarget(
            name: "TableIOTests",
            dependencies: [
                "TableIO", "RunState", "DynamoCore", "DynamoClient", "TestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "TableIO", "RunState", "TestSupport"]),
        .testTarget(
            name: "FollowTests",
            dependencies: [
                "Follow", "Pipeline", "Verification", "TableIO", "RunState", "Mappings", "DynamoCore", "DynamoClient", "TestSupport",
            ]),
        .testTarget(
            name: "VerificationTests",
            dependencies: [
                "Verification", "Pipeline", "DynamoCore", "DynamoClient", "Mappings", "TableIO", "RunState", "AWSAuth", "TestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]),
        .testTarget(
            name: "DecommissionTests",
            dependencies: [
                "Decommission", "Backup", "Verification", "Pipeline", "TableIO", "RunState", "Mappings", "DynamoClient", "TestSupport",
            ]),
        .testTarget(
            name: "BackupTests",
            dependencies: [
                "Backup", "TableIO", "RunState", "TestSupport", "DynamoCore", "DynamoClient", "ZlibSupport", "Mappings",
            ]),
        .testTarget(name: "CLITests", dependencies: ["DynamoMigrateCLI", "Mappings", "TestSupport"]),
        .testTarget(name: "TestSupportTests", dependencies: ["TestSupport"]),
        .testTarget(name: "BenchServerTests", dependencies: ["DynamoClient", "DynamoCore", "ZlibSupport", "TestSupport"]),
    ]
)
