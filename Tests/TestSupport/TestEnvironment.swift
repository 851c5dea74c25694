// TestSupport: the local server fixture, the fault-injecting proxy, and data generators for tests.
import Foundation

/// Where the local DynamoDB-compatible server (moto) is, and other facts about the test run.
public enum TestEnvironment {
    /// The local server's endpoint, e.g. `http://127.0.0.1:51234`: `DYNAMO_MIGRATE_TEST_ENDPOINT` (set by
    /// scripts/test.sh), else a moto_server started for this process (see ``LocalServer``); nil when
    /// there is neither (``LocalServer/unavailableReason`` says why).
    public static var endpoint: String? { LocalServer.endpoint }
    /// The folder `../shared` next to the package, when present.
    public static var sharedDirectory: URL? {
        let here = URL(fileURLWithPath: #filePath)  // Tests/TestSupport/TestEnvironment.swift
        let dir = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared")
        return FileManager.default.fileExists(atPath: dir.path) ? dir : nil
    }
    /// The package's root folder.
    public static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
    /// A table name no other test uses.
    public static func uniqueTableName(_ prefix: String) -> String {
        "\(prefix)-\(UInt32.random(in: 0...UInt32.max))"
    }
}

extension TestEnvironment {
    /// The built `dynamo-migrate` binary (next to the test bundle, or in .build/debug).
    public static var cliBinary: URL? {
        var candidates: [URL] = []
        if let first = CommandLine.arguments.first {
            candidates.append(URL(fileURLWithPath: first).deletingLastPathComponent().appendingPathComponent("dynamo-migrate"))
        }
        candidates.append(packageRoot.appendingPathComponent(".build/debug/dynamo-migrate"))
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// A new empty temporary directory.
    public static func temporaryDirectory(_ prefix: String) -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
