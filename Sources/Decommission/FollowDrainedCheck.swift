// Decommission of a source that was followed (migrate --follow): its follow must have ended drained.
import Foundation
import RunState

/// For a source whose stream was followed: the follow ended drained (every shard caught up, nothing new for
/// the idle period), and `verify` ran after that. Without it, changes the applications made to the source
/// after the copy may never have reached the target. ``DataAccountedForCheck`` then proves the source did
/// not change since that verification. A source that was never followed passes (nothing to prove here).
public struct FollowDrainedCheck: DecommissionCheck {
    public let name = "follow drained"
    public init() {}

    public func evaluate(_ c: DecommissionCandidate) async throws -> CheckResult {
        let positions = try LocalDirectoryStateStore(directory: c.stateDirectory).loadStreamPositions()
        return decide(
            table: c.table.name, positions: positions, verifiedAt: c.verification?.verifiedAt, mappingPath: c.mappingPath,
            stateDirectory: c.stateDirectory)
    }

    /// The decision from the recorded state alone.
    public func decide(table: String, positions: StreamPositions?, verifiedAt: Date?, mappingPath: String, stateDirectory: URL) -> CheckResult {
        guard let source = positions?.sources[table] else {
            return CheckResult(name: name, passed: true, evidence: "\(table) was not followed (no stream positions for it in \(stateDirectory.path))")
        }
        let drain = "stop the applications' writes to \(table), then run `dynamo-migrate migrate \(mappingPath) --follow --resume --until-idle 60s`"
        guard let outcome = source.outcome else {
            return CheckResult(
                name: name, passed: false, evidence: "\(table) was followed (migrate --follow) but its follow never ended drained", remedy: drain)
        }
        if let last = outcome.lastRecordAt, last > outcome.drainedAt {
            return CheckResult(
                name: name, passed: false, evidence: "the last record applied from \(table) is newer than its drain (\(outcome.drainedAt))", remedy: drain)
        }
        if let verifiedAt, verifiedAt < outcome.drainedAt {
            return CheckResult(
                name: name, passed: false,
                evidence: "the last verification (\(RecordJSON.iso8601(verifiedAt))) ran before the follow of \(table) drained (\(outcome.drainedAt))",
                remedy: "run `dynamo-migrate verify \(mappingPath)` again")
        }
        let last = outcome.lastRecordAt.map { ", last change applied \(RecordJSON.iso8601($0))" } ?? ""
        return CheckResult(
            name: name, passed: true,
            evidence: "follow of \(table) drained at \(RecordJSON.iso8601(outcome.drainedAt))\(last), \(outcome.recordsApplied) records applied")
    }
}
