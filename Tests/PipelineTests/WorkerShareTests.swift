import DynamoClient
import Foundation
import RunState
import TestSupport
import Testing

@testable import Pipeline

/// Capacity flags are for the whole job: each of N workers takes 1/N.
@Suite("worker capacity share", needsLocalServer)
struct WorkerShareTests {
    @Test("--max-write-units and percentages are divided among the workers")
    func unitsAreShared() async throws {
        let client = makeClient(endpoint: localEndpoint)
        let table = try await makeTable(client, prefix: "share", billing: .provisioned(read: 400, write: 1000))
        let description = try await client.describeTable(table)
        let resolved = try await resolve("version: 1\ntables:\n  - source: \(table)\n    target: \(table)-copy\n", client: client)
        func migrator(workers: Int?) -> Migrator {
            var options = MigrationOptions(stateDirectory: TestEnvironment.temporaryDirectory("share"), planFingerprint: "p")
            if let workers {
                let job = WorkerJob(planFingerprint: "p", workers: workers, segments: [:], order: [], endpoint: localEndpoint, createdAt: Date())
                options.workerShare = WorkerShare(job: job, worker: 0)
            }
            return Migrator(client: client, mapping: resolved, options: options)
        }
        let single = migrator(workers: nil), four = migrator(workers: 4)
        #expect(single.units(absolute: 100, percent: nil, of: description, write: true) == 100)
        #expect(four.units(absolute: 100, percent: nil, of: description, write: true) == 25)
        #expect(single.units(absolute: nil, percent: 50, of: description, write: true) == 500)
        #expect(four.units(absolute: nil, percent: 50, of: description, write: true) == 125)
        #expect(four.units(absolute: nil, percent: 50, of: description, write: false) == 50)
        #expect(four.units(absolute: nil, percent: nil, of: description, write: true) == nil)
        try await client.deleteTable(table)
    }
}
