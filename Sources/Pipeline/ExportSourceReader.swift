// Reading an export source (`source: { export: … }`): its data files instead of a Scan.
import DynamoClient
import DynamoCore
import Foundation
import Mappings
import TableIO

/// Reads the data files of an export source, several at once, and hands their items to the same
/// transform, dead-letter and writer path as a Scan (``SegmentReader/process(_:bytes:lastEvaluatedKey:segment:sequence:)``).
///
/// Each data file is one checkpoint segment (by its index in name order). Its batches are registered
/// with a marker as their LastEvaluatedKey and the file's end with none, so a segment is done only
/// when every item of the file is written; a file left unfinished is read again from its start on
/// `--resume` (writes are idempotent puts of the same content), a finished one is skipped.
struct ExportSourceReader: Sendable {
    let export: ExportSource
    let pages: SegmentReader
    /// Data files read at the same time.
    let concurrency: Int
    let shouldStop: @Sendable () -> Bool

    /// Reads the given files; a file that cannot be read (damaged, missing, refused) does not stop the
    /// others: its failure is returned, to be reported once the writers have drained what was read, so
    /// every other file ends up done in the checkpoint and `--resume` reads only the failed ones again.
    func read(files indexes: [Int]) async throws -> [String] {
        let staging = FileManager.default.temporaryDirectory.appendingPathComponent("dynamo-migrate-export-source-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: staging) }
        var failures: [(Int, String)] = []
        do {
            try await withThrowingTaskGroup(of: (Int, String)?.self) { group in
                var pending = indexes.filter { export.files.indices.contains($0) }[...]
                func startNext() {
                    guard !shouldStop(), let index = pending.popFirst() else { return }
                    group.addTask {
                        do {
                            try await readFile(index, staging: staging)
                            return nil
                        } catch let error as StopReading {
                            throw error
                        } catch let error as PipelineError {
                            throw error  // too many dead letters: the run stops
                        } catch {
                            // Format errors name the file already; others (S3, disk) get its name in front.
                            let text = "\(error)", name = export.files[index].name
                            return (index, text.contains(name) ? text : "\(name): \(text)")
                        }
                    }
                }
                for _ in 0..<max(1, concurrency) { startNext() }
                while let result = try await group.next() {
                    if let result { failures.append(result) }
                    startNext()
                }
            }
        } catch is StopReading {
            return []
        }
        return failures.sorted { $0.0 < $1.0 }.map(\.1)
    }

    func readFile(_ index: Int, staging: URL) async throws {
        let file = export.files[index]
        var sequence = 0
        // Bytes are counted per file (compressed, as stored), on the file's last batch.
        _ = try await export.forEachItem(in: file, staging: staging, batchSize: 100) { batch in
            try await pages.process(batch, bytes: 0, lastEvaluatedKey: Self.marker(sequence), segment: index, sequence: sequence)
            sequence += 1
            if shouldStop() { throw StopReading() }
        }
        try await pages.process([], bytes: file.bytes, lastEvaluatedKey: nil, segment: index, sequence: sequence)
    }

    /// Stands for "more of this file follows" in the ledger; never used to resume (a file restarts).
    static func marker(_ batch: Int) -> Item { ["exportBatch": .n(DynamoNumber(batch))] }
}
