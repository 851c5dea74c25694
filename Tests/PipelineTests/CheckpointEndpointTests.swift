// A checkpoint names its endpoint in the one normalized form, however an older run wrote it.
import DynamoClient
import Foundation
import Mappings
import Pipeline
import RunState
import TableIO
import TestSupport
import Testing

@Suite struct CheckpointEndpointTests {
    /// A checkpoint as written before endpoints were normalized: unfinished (copying had started, so a
    /// plain rerun is refused), endpoint as typed.
    func unfinishedCheckpoint(endpoint: String) throws -> URL {
        let directory = TestEnvironment.temporaryDirectory("checkpoint-endpoint")
        var checkpoint = MigrationCheckpoint(planFingerprint: "fp")
        checkpoint.endpoint = endpoint
        checkpoint.sources[MigrationCheckpoint.sourceKey(target: "t", source: "s")] =
            SourceProgress(source: "s", target: "t", totalSegments: 1)
        try FileCheckpointStore(directory: directory).save(checkpoint)
        return directory
    }

    @Test func anOlderCheckpointsEndpointIsNormalizedWhenRead() throws {
        let directory = try unfinishedCheckpoint(endpoint: "HTTP://Example.Local:8000/")
        #expect(try FileCheckpointStore(directory: directory).load()?.endpoint == "http://example.local:8000")
    }

    /// Refused because the run is unfinished and --resume is missing, not because of the endpoint's spelling
    /// (both checks come before anything talks to the endpoint, which is never reached here).
    @Test func aRunOnTheSameEndpointSpelledDifferentlyIsTheSameEndpoint() async throws {
        let directory = try unfinishedCheckpoint(endpoint: "HTTP://127.0.0.1:9/")
        let mapping = try MappingLoader.parse(yaml: "version: 1\ntables: []\n", file: "m.yaml", env: nil).resolve(existingTables: [])
        let options = MigrationOptions(stateDirectory: directory, planFingerprint: "fp")
        let error = await #expect(throws: MigratorError.self) {
            try await Migrator(client: makeClient(endpoint: "http://127.0.0.1:9"), mapping: mapping, options: options).run()
        }
        #expect(error?.description == MigratorError.interruptedRunExists(directory.path).description)
        let other = await #expect(throws: MigratorError.self) {
            try await Migrator(client: makeClient(endpoint: "http://127.0.0.1:10"), mapping: mapping, options: options).run()
        }
        #expect(other?.description == MigratorError.otherEndpoint(directory.path, recorded: "http://127.0.0.1:9", now: "http://127.0.0.1:10").description)
    }
}

/// A resume with a side connected elsewhere (another region, profile or role on the same endpoint) is
/// refused before anything is read or written: items of two accounts or regions must never mix in one target.
@Suite struct CheckpointConnectionTests {
    @Test func aResumeFromAnotherRegionOfTheSameEndpointIsRefusedNamingTheSide() async throws {
        let directory = TestEnvironment.temporaryDirectory("checkpoint-connection")
        var checkpoint = MigrationCheckpoint(planFingerprint: "fp")
        checkpoint.endpoint = "http://127.0.0.1:9"
        checkpoint.sources[MigrationCheckpoint.sourceKey(target: "target-t", source: "source-s")] =
            SourceProgress(source: "source-s", target: "target-t", totalSegments: 1)
        let recorded = "region eu-west-1, endpoint http://127.0.0.1:9, profile default"
        checkpoint.connections = ["source source-s": recorded]
        try FileCheckpointStore(directory: directory).save(checkpoint)

        let mapping = try MappingLoader.parse(
            yaml: "version: 1\ntables:\n  - source: source-s\n    target: target-t\n", file: "m.yaml", env: nil
        ).resolve(existingTables: ["source-s"])
        var options = MigrationOptions(stateDirectory: directory, planFingerprint: "fp")
        options.resume = true
        // makeClient's region is us-east-1: the same endpoint, another region.
        let error = await #expect(throws: MigratorError.self) {
            try await Migrator(client: makeClient(endpoint: "http://127.0.0.1:9"), mapping: mapping, options: options).run()
        }
        #expect(
            error?.description
                == MigratorError.otherConnection(
                    directory.path, side: "source source-s", recorded: recorded,
                    now: "region us-east-1, endpoint http://127.0.0.1:9, profile default"
                ).description)
    }
}
