// What `migrate --follow` needs, as `plan --follow` shows it: streams on the sources, the backfill
// against the streams' 24-hour window, and whether each target can be followed exactly.
import DynamoClient
import DynamoCore
import Foundation
import Mappings
import TableIO

/// The follow part of a plan (`plan --follow`).
public struct PlannedFollow: Encodable, Sendable, Equatable {
    /// How long DynamoDB Streams keep a record.
    public var streamRetentionHours = 24
    /// `--enable-streams` was given: missing streams are changes migrate makes, not problems.
    public var enableStreams: Bool
    /// The copy's estimated duration (``PlanEstimate/seconds``): stream positions are taken before the
    /// scans, so the oldest record waits at least this long before it is applied.
    public var backfillSeconds: Double
    /// `ok`, `close` (at least half the window) or `over` (the window would be outlived).
    public var retention: String
    /// Every source, in mapping order.
    public var sources: [PlannedStream]
    /// Every target, in mapping order.
    public var targets: [PlannedFollowTarget]
}

/// A source's stream as DescribeTable reports it, and what follow needs done about it.
public struct PlannedStream: Encodable, Sendable, Equatable {
    public var table: String
    /// The StreamViewType when a stream is enabled; nil when there is none.
    public var viewType: String?
    /// DescribeTable's LatestStreamArn (also set for a stream turned off less than 24 hours ago).
    public var latestStreamArn: String?
    /// The stream is enabled with NEW_AND_OLD_IMAGES.
    public var ready: Bool
    /// The change the source needs (nil when ready), in words.
    public var change: String?
    /// The same change as an AWS CLI command an operator can run.
    public var command: String?
}

/// Whether a target ends up exactly as `verify` expects when its sources' streams are followed.
public struct PlannedFollowTarget: Encodable, Sendable, Equatable {
    public var name: String
    /// Records are applied with their own images (one source), or each touched key is recomputed from
    /// every source's current content (several sources: ``TargetItemResolver``).
    public var method: String
    public var exact: Bool
    /// Why it is not exact (``FollowLimitation``); migrate --follow refuses such a target.
    public var limitation: String?
}

extension PlannedFollow {
    /// The share of the 24-hour window from which the plan warns that the backfill comes close to it.
    public static let closeShare = 0.5

    /// The AWS CLI command that gives `table` a NEW_AND_OLD_IMAGES stream.
    public static func enableCommand(_ table: String) -> String {
        "aws dynamodb update-table --table-name \(table) --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES"
    }

    /// A source's stream: ready, or the change it needs.
    public static func stream(of description: TableDescription) -> PlannedStream {
        let arn = description.raw["LatestStreamArn"]?.stringValue
        let view = description.stream?.rawValue
        switch description.stream {
        case .newAndOldImages?:
            return PlannedStream(table: description.name, viewType: view, latestStreamArn: arn, ready: true)
        case nil:
            return PlannedStream(
                table: description.name, viewType: nil, latestStreamArn: arn, ready: false,
                change: "enable a NEW_AND_OLD_IMAGES stream (UpdateTable); the table stays writable while it is turned on",
                command: enableCommand(description.name))
        case let other?:
            // DynamoDB does not change an enabled stream's view type: it has to be turned off and on, which
            // starts a new stream; whoever reads the old one (a Lambda, say) stops getting records.
            return PlannedStream(
                table: description.name, viewType: view, latestStreamArn: arn, ready: false,
                change:
                    "replace its \(other.rawValue) stream with a NEW_AND_OLD_IMAGES one: turn the stream off, then on again; readers of the current stream stop getting records",
                command:
                    "aws dynamodb update-table --table-name \(description.name) --stream-specification StreamEnabled=false && "
                    + enableCommand(description.name))
        }
    }

    /// How a target is followed, and whether exactly.
    public static func target(_ target: ResolvedTarget, sources: [TableDescription], targetKey: KeySchema) -> PlannedFollowTarget {
        let limitation = target.followLimitation(sourceKeys: sources.map(\.keySchema.spec), targetKey: targetKey.spec)
        let from = target.sources.count == 1 ? "its source's current item" : "all \(target.sources.count) sources' current items"
        let method =
            target.isFollowedByRecomputing
            ? "each key a record touches is recomputed from \(from) under conflict policy \(target.conflict)"
            : "each record is applied with its own images"
        return PlannedFollowTarget(name: target.name, method: method, exact: limitation == nil, limitation: limitation?.description)
    }

    /// `ok`, `close` or `over` for a backfill of `seconds`.
    public static func retention(backfillSeconds seconds: Double, retentionHours: Int = 24) -> String {
        let window = Double(retentionHours) * 3600
        if seconds >= window { return "over" }
        return seconds >= window * closeShare ? "close" : "ok"
    }
}

extension Planner {
    /// The follow part of the plan, with its problems and warnings.
    func planFollow(
        described: [String: TableDescription], targets: [PlannedTarget], estimate: PlanEstimate,
        problems: inout [PlanProblem], warnings: inout [String]
    ) -> PlannedFollow {
        var streams: [PlannedStream] = []
        var followTargets: [PlannedFollowTarget] = []
        for (resolved, planned) in zip(mapping.targets, targets) {
            let sources = resolved.sources.compactMap { described[$0.table] }
            for description in sources where !streams.contains(where: { $0.table == description.name }) {
                let stream = PlannedFollow.stream(of: description)
                streams.append(stream)
                guard !stream.ready, let command = stream.command else { continue }
                if description.stream != nil {
                    problems.append(
                        PlanProblem(
                            kind: .streamNotReady, target: resolved.name,
                            message:
                                "\(description.name) has a \(description.stream!.rawValue) stream; migrate --follow needs NEW_AND_OLD_IMAGES, and changing the view type replaces the stream, so migrate leaves it to you: \(command)"
                        ))
                } else if !options.enableStreams {
                    problems.append(
                        PlanProblem(
                            kind: .streamNotReady, target: resolved.name,
                            message:
                                "\(description.name) has no stream; migrate --follow needs a NEW_AND_OLD_IMAGES stream: run `\(command)`, or give migrate --enable-streams"
                        ))
                }
            }
            let follow = PlannedFollow.target(resolved, sources: sources, targetKey: planned.settings.keySchema)
            followTargets.append(follow)
            if let limitation = follow.limitation {
                problems.append(PlanProblem(kind: .followInexact, target: resolved.name, message: "migrate --follow refuses \(resolved.name): \(limitation)"))
            }
            if resolved.isFollowedByRecomputing, let existing = planned.existing, existing.itemCount > 0 {
                warnings.append(
                    "\(resolved.name) already holds about \(existing.itemCount) items; follow recomputes a merged key from its sources alone, so an item that was there before and that a source also has is replaced or deleted"
                )
            }
        }
        let retention = PlannedFollow.retention(backfillSeconds: estimate.seconds)
        let window = "the streams' 24-hour window"
        switch retention {
        case "over":
            problems.append(
                PlanProblem(
                    kind: .backfillOutlivesStream, target: "",
                    message:
                        "the copy is estimated at \(Self.hours(estimate.seconds)), longer than \(window): records taken before the scans would be trimmed before follow applies them; raise the write rate or split the mapping"
                ))
        case "close":
            warnings.append(
                "the copy is estimated at \(Self.hours(estimate.seconds)), at least half of \(window): should it run slower than estimated, follow will stop with records trimmed and the copy must restart"
            )
        default: break
        }
        return PlannedFollow(
            enableStreams: options.enableStreams, backfillSeconds: estimate.seconds, retention: retention,
            sources: streams, targets: followTargets)
    }

    static func hours(_ seconds: Double) -> String {
        String(format: "%.1f h", seconds / 3600)
    }
}
