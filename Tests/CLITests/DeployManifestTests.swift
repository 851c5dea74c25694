import Foundation
import Mappings
import TestSupport
import Testing

/// The deployment files (deploy/kubernetes, deploy/aws-batch, deploy/iam, Dockerfile) checked by
/// Tests/Conformance/validate_deploy.py: Kubernetes manifests against Kubernetes' OpenAPI schemas in their
/// strict form (kubernetes-validate's JSON schemas, installed into the project's Python environment by
/// scripts/setup.sh, read offline), Batch inputs against botocore's model of AWS Batch, IAM actions against
/// botocore's service models; plus the API servers' own rules and the files' consistency with each other.
enum DeployValidator {
    static let script = TestEnvironment.packageRoot.appendingPathComponent("Tests/Conformance/validate_deploy.py")

    /// A python3 that has botocore and kubernetes-validate: the one on PATH, else the project's environment.
    static let python: URL? = {
        let venv =
            ProcessInfo.processInfo.environment["DYNAMO_MIGRATE_VENV"]
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/dynamo-migrate/venv").path
        let candidates = [URL(fileURLWithPath: "/usr/bin/env"), URL(fileURLWithPath: venv).appendingPathComponent("bin/python3")]
        return candidates.first { candidate in
            guard FileManager.default.isExecutableFile(atPath: candidate.path),
                let result = try? RequestValidator.run(candidate, ["-c", "import botocore.validate, kubernetes_validate.utils, yaml"])
            else { return false }
            return result.status == 0
        }
    }()

    /// Why the checks cannot run, or nil; said on standard error so a green run that skipped them says so.
    static let unavailableReason: String? = {
        guard python != nil else {
            let reason = "python3 with botocore and kubernetes-validate not found (scripts/setup.sh installs them into ~/.cache/dynamo-migrate/venv)"
            FileHandle.standardError.write(Data("!! NOT RUN: deployment manifest schema checks: \(reason)\n".utf8))
            return reason
        }
        return nil
    }()

    static var isAvailable: Bool { unavailableReason == nil }

    struct Problem: Codable, Equatable, CustomStringConvertible {
        var file: String
        var problem: String
        var description: String { "\(file): \(problem)" }
    }

    struct Mapping: Codable {
        var source: String
        var text: String
    }

    struct Report: Codable {
        var files: [String]
        var problems: [Problem]
        var mappings: [Mapping]
    }

    /// Checks the deployment files under `root` (which holds deploy/ and Dockerfile).
    static func validate(_ root: URL) throws -> Report {
        let python = try #require(python)
        let result = try RequestValidator.run(python, [script.path, root.path])
        try #require(result.status == 0, "validate_deploy.py exited \(result.status): \(String(decoding: result.stderr, as: UTF8.self))")
        return try JSONDecoder().decode(Report.self, from: result.stdout)
    }

    /// A copy of the repository's deployment files in a temporary directory, to break on purpose.
    static func copy() throws -> URL {
        let root = TestEnvironment.temporaryDirectory("deploy-copy")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        for item in ["deploy", "Dockerfile"] {
            try FileManager.default.copyItem(
                at: TestEnvironment.packageRoot.appendingPathComponent(item), to: root.appendingPathComponent(item))
        }
        return root
    }

    /// Replaces `old` (which must occur exactly once) by `new` in `file` under `root`.
    static func edit(_ root: URL, _ file: String, _ old: String, _ new: String) throws {
        let url = root.appendingPathComponent(file)
        let text = try String(contentsOf: url, encoding: .utf8)
        try #require(text.components(separatedBy: old).count == 2, "\(file) should hold '\(old)' exactly once")
        try Data(text.replacingOccurrences(of: old, with: new).utf8).write(to: url)
    }
}

@Suite("Deployment files: Kubernetes, AWS Batch, IAM and the Dockerfile pass their schemas")
struct DeployManifestTests {
    @Test(
        "the repository's deployment files have no problem, and the ConfigMap's mapping is one dynamo-migrate accepts",
        .enabled(if: DeployValidator.isAvailable, "deployment schema checks NOT run: \(DeployValidator.unavailableReason ?? "")"))
    func repositoryFilesPass() throws {
        let report = try DeployValidator.validate(TestEnvironment.packageRoot)
        #expect(report.problems == [], "\(report.problems.map(\.description).joined(separator: "\n"))")
        #expect(
            Set(report.files)
                == [
                    "Dockerfile", "deploy/kubernetes/configmap-mapping.yaml", "deploy/kubernetes/job.yaml", "deploy/kubernetes/namespace.yaml",
                    "deploy/kubernetes/serviceaccount.yaml", "deploy/kubernetes/status-job.yaml", "deploy/aws-batch/job-definition.json",
                    "deploy/aws-batch/submit-job.json", "deploy/iam/decommission-policy.json", "deploy/iam/enable-streams-policy.json",
                    "deploy/iam/migrator-policy.json",
                ])
        try #require(report.mappings.count == 1)
        let document = try MappingLoader.parse(yaml: report.mappings[0].text, file: report.mappings[0].source, env: nil)
        #expect(document.entries.map(\.target.text) == ["orders-v2"])
    }

    @Test(
        "a wrong field in a Kubernetes manifest is named: misspelt, mistyped, or a rule of the API server",
        .enabled(if: DeployValidator.isAvailable, "deployment schema checks NOT run: \(DeployValidator.unavailableReason ?? "")"))
    func kubernetesMistakesAreNamed() throws {
        let root = try DeployValidator.copy()
        defer { try? FileManager.default.removeItem(at: root) }
        let job = "deploy/kubernetes/job.yaml"
        try DeployValidator.edit(root, job, "          imagePullPolicy: IfNotPresent", "          imagePullPolcy: IfNotPresent")
        try DeployValidator.edit(root, job, "  backoffLimitPerIndex: 3", "  backoffLimitPerIndex: \"3\"")
        try DeployValidator.edit(root, job, "  parallelism: 4", "  parallelism: 6")
        try DeployValidator.edit(root, job, "      restartPolicy: Never", "      restartPolicy: OnFailure")
        try DeployValidator.edit(root, job, "          containerName: migrate", "          containerName: migrator")
        try DeployValidator.edit(
            root, "deploy/kubernetes/serviceaccount.yaml", "    eks.amazonaws.com/role-arn: arn:aws:iam::111122223333:role/dynamo-migrate\n", "")

        let report = try DeployValidator.validate(root)
        let name = "Job/dynamo-migrate-orders"
        #expect(
            report.problems == [
                .init(file: job, problem: "\(name): spec.backoffLimitPerIndex: '3' is not of type 'integer', 'null'"),
                .init(
                    file: job, problem: "\(name): spec.template.spec.containers[0]: Additional properties are not allowed ('imagePullPolcy' was unexpected)"),
                .init(file: "deploy/kubernetes/serviceaccount.yaml", problem: "ServiceAccount dynamo-migrate: no eks.amazonaws.com/role-arn annotation (IRSA)"),
                .init(file: job, problem: "\(name): podFailurePolicy needs the pod template's restartPolicy: Never"),
                .init(file: job, problem: "\(name): podFailurePolicy.rules[0] names container 'migrator', which the pod does not have"),
                .init(file: job, problem: "\(name) container migrate: --workers 4 but spec.parallelism is 6"),
            ], "\(report.problems.map(\.description).joined(separator: "\n"))")
    }

    @Test(
        "a wrong field in the Batch job definition, the submit input or an IAM policy is named",
        .enabled(if: DeployValidator.isAvailable, "deployment schema checks NOT run: \(DeployValidator.unavailableReason ?? "")"))
    func batchAndIAMMistakesAreNamed() throws {
        let root = try DeployValidator.copy()
        defer { try? FileManager.default.removeItem(at: root) }
        let definition = "deploy/aws-batch/job-definition.json", submit = "deploy/aws-batch/submit-job.json"
        let policy = "deploy/iam/migrator-policy.json"
        try DeployValidator.edit(root, definition, #""attempts": 4"#, #""attempts": 4, "attemptDelay": 30"#)
        try DeployValidator.edit(root, definition, #""--max-write-units","#, #""--max-write-units", "Ref::maxWrite","#)
        try DeployValidator.edit(root, submit, #""size": 4"#, #""size": 1"#)
        try DeployValidator.edit(root, submit, #""jobQueue": "dynamo-migrate","#, #""jobQueue": "dynamo-migrate", "jobQueueArn": "x","#)
        try DeployValidator.edit(root, policy, #""dynamodb:BatchWriteItem","#, #""dynamodb:BatchWriteItems","#)
        try DeployValidator.edit(root, policy, #""s3:ListBucketMultipartUploads""#, #""s3:ListBucketMultipartUploads", "s3:*""#)

        let report = try DeployValidator.validate(root)
        // botocore lists the members it knows after "must be one of": that list grows with its versions.
        let problems = report.problems.map { DeployValidator.Problem(file: $0.file, problem: $0.problem.components(separatedBy: ", must be one of:")[0]) }
        #expect(
            problems == [
                .init(file: definition, problem: #"botocore (RegisterJobDefinition): Unknown parameter in retryStrategy: "attemptDelay""#),
                .init(file: submit, problem: #"botocore (SubmitJob): Unknown parameter in input: "jobQueueArn""#),
                .init(file: definition, problem: "command uses Ref::maxWrite but parameters has no default for it"),
                .init(file: submit, problem: "arrayProperties.size 1: an array job has 2 to 10,000 children"),
                .init(
                    file: policy,
                    problem: "Statement[3] (WriteTargets): dynamodb:BatchWriteItems is not an action of dynamodb (no such operation in botocore's model)"),
                .init(file: policy, problem: "Statement[6] (ListOnlyTheStatePrefix): wildcard action s3:*: least privilege names each action"),
            ], "\(report.problems.map(\.description).joined(separator: "\n"))")
    }
}
