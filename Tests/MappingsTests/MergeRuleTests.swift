import Foundation
import Mappings
import Testing

/// The one merge rule, case by case: what each policy decides for a key that is absent, present with the
/// same content, or present with different content.
@Suite struct MergeRuleTests {
    struct Case: Sendable, CustomStringConvertible {
        var policy: ConflictPolicy
        var existing: String?
        var incoming: String
        var outcome: MergeOutcome
        var description: String { "\(policy): existing \(existing ?? "none"), incoming \(incoming)" }
    }

    static let cases: [Case] = [
        Case(policy: .overwrite, existing: nil, incoming: "b", outcome: .takeIncoming),
        Case(policy: .overwrite, existing: "b", incoming: "b", outcome: .takeIncoming),
        Case(policy: .overwrite, existing: "a", incoming: "b", outcome: .takeIncoming),
        Case(policy: .keepExisting, existing: nil, incoming: "b", outcome: .takeIncoming),
        Case(policy: .keepExisting, existing: "b", incoming: "b", outcome: .keepExisting),
        Case(policy: .keepExisting, existing: "a", incoming: "b", outcome: .keepExisting),
        Case(policy: .fail, existing: nil, incoming: "b", outcome: .takeIncoming),
        Case(policy: .fail, existing: "b", incoming: "b", outcome: .keepExisting),
        Case(policy: .fail, existing: "a", incoming: "b", outcome: .conflict),
    ]

    @Test(arguments: cases)
    func merge(_ c: Case) {
        #expect(c.policy.merge(existing: c.existing, incoming: c.incoming) == c.outcome)
    }

    @Test func whatWritersNeedToKnow() {
        #expect(ConflictPolicy.allCases.filter(\.mayKeepExisting) == [.keepExisting, .fail])
        #expect(ConflictPolicy.allCases.filter(\.comparesContent) == [.fail])
    }

    @Test func recordedAsTheMappingSpelling() throws {
        let encoded = try JSONEncoder().encode(ConflictPolicy.allCases)
        #expect(String(decoding: encoded, as: UTF8.self) == #"["overwrite","keep-existing","fail"]"#)
        #expect(try JSONDecoder().decode([ConflictPolicy].self, from: encoded) == ConflictPolicy.allCases)
        #expect("\(ConflictPolicy.keepExisting)" == "keep-existing")
    }
}
