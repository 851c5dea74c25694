// What can stop a follow, in words an operator can act on.
import Foundation

/// Errors of `migrate --follow`. ``isUsage`` ones are the operator's input (exit 2); the rest are failures.
public enum FollowError: Error, CustomStringConvertible, Equatable {
    /// The source has no stream, or one without both images.
    case noStream(table: String, viewType: String?, command: String)
    /// The target cannot be followed record by record yet (several sources, or a policy that depends on
    /// what the target held).
    case unsupportedTarget(target: String, reason: String)
    /// The copy ran (or started) without stream positions taken before it: changes made meanwhile are lost.
    case copyWithoutPositions(stateDirectory: String)
    /// Positions exist: continue them with --resume.
    case followExists(stateDirectory: String)
    /// The positions belong to another mapping.
    case otherMapping(stateDirectory: String)
    /// Records the follow needs are gone from the stream (24-hour window), or the stream was replaced.
    case trimmed(table: String, detail: String, stateDirectory: String)
    /// A record lacks an image the follow needs (the stream's view type changed under us).
    case missingImage(source: String, sequenceNumber: String, image: String)

    public var isUsage: Bool {
        switch self {
        case .noStream, .unsupportedTarget, .copyWithoutPositions, .followExists, .otherMapping: true
        case .trimmed, .missingImage: false
        }
    }

    public var description: String {
        switch self {
        case .noStream(let table, let viewType, let command):
            let has = viewType.map { "has a \($0) stream" } ?? "has no stream"
            return
                "\(table) \(has); --follow needs a NEW_AND_OLD_IMAGES stream on every source. Turning one on changes a production table: run `\(command)`, or rerun with --enable-streams"
        case .unsupportedTarget(let target, let reason):
            return "--follow cannot follow target \(target) yet: \(reason); migrate it without --follow (with writes stopped), or split it into its own mapping"
        case .copyWithoutPositions(let dir):
            return
                "the copy recorded in \(dir) started without --follow: changes made to the sources since it started are not in any stream position. Start a new copy with --follow and another --state-dir"
        case .followExists(let dir):
            return "a follow is recorded in \(dir); rerun with --resume to continue it, or use another --state-dir to start over"
        case .otherMapping(let dir):
            return "the stream positions in \(dir) belong to another mapping; use the mapping they were taken for, or another --state-dir"
        case .trimmed(let table, let detail, let dir):
            return
                "the stream of \(table) no longer holds every record the follow needs (\(detail)): DynamoDB Streams keep records 24 hours. The target has missed changes: the copy must restart (new --state-dir, migrate --follow again). State: \(dir)"
        case .missingImage(let source, let sequence, let image):
            return "stream record \(sequence) of \(source) has no \(image): the stream must be NEW_AND_OLD_IMAGES; the copy must restart with such a stream"
        }
    }
}
