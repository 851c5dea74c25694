// A followed source is decommissioned only once its follow ended drained and verify ran after the drain.
import Decommission
import Foundation
import RunState
import Testing

@Suite struct FollowDrainedCheckTests {
    @Test func aFollowedSourceNeedsADrainedFollowAndAVerifyAfterIt() {
        let check = FollowDrainedCheck()
        let state = URL(fileURLWithPath: "/state")
        func decide(_ positions: StreamPositions?, verifiedAt: Date?) -> CheckResult {
            check.decide(table: "orders", positions: positions, verifiedAt: verifiedAt, mappingPath: "m.yaml", stateDirectory: state)
        }
        #expect(decide(nil, verifiedAt: Date()).passed)

        let captured = Date(timeIntervalSince1970: 1_800_000_000)
        var positions = StreamPositions(planFingerprint: "fp", endpoint: "http://x")
        positions.sources["orders"] = SourceStreamPosition(table: "orders", streamArn: "arn:s", capturedAt: captured, applyFrom: captured)
        let undrained = decide(positions, verifiedAt: Date())
        #expect(!undrained.passed)
        #expect(undrained.evidence == "orders was followed (migrate --follow) but its follow never ended drained")
        #expect(
            undrained.remedy
                == "stop the applications' writes to orders, then run `dynamo-migrate migrate m.yaml --follow --resume --until-idle 60s`")

        let drainedAt = captured.addingTimeInterval(3600)
        positions.sources["orders"]?.outcome = FollowOutcome(drainedAt: drainedAt, lastRecordAt: drainedAt.addingTimeInterval(-120), recordsApplied: 42)
        let verifiedBefore = decide(positions, verifiedAt: drainedAt.addingTimeInterval(-1))
        #expect(!verifiedBefore.passed)
        #expect(verifiedBefore.remedy == "run `dynamo-migrate verify m.yaml` again")
        let proven = decide(positions, verifiedAt: drainedAt.addingTimeInterval(60))
        #expect(proven.passed)
        #expect(proven.evidence == "follow of orders drained at 2027-01-15T09:00:00.000Z, last change applied 2027-01-15T08:58:00.000Z, 42 records applied")
    }
}
