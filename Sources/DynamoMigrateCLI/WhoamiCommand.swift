import AWSAuth
import ArgumentParser
import CurlTransport
import DynamoClient
import Foundation

/// `dynamo-migrate whoami`: who the tool calls AWS as, in which region and at which endpoints, and
/// where each of these came from, like `aws configure list` plus `aws sts get-caller-identity`.
/// Secrets are never printed; the access key id is masked to its last four characters.
struct WhoamiCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whoami",
        abstract: "Show the caller identity (STS GetCallerIdentity), the credential provider, region and endpoints, and where each came from.",
        discussion: "Run it first wherever the tool will run (EC2, EKS, ECS, a laptop with SSO) to check that the credentials it finds are the intended ones.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var outputFormat: OutputFormatOptions

    struct Setting: Encodable { var value: String; var source: String }
    struct CredentialsInfo: Encodable {
        var provider: String
        var accessKey: String
        var temporary: Bool
        var expiration: String?
    }
    struct Report: Encodable {
        var account: String
        var arn: String
        var userId: String
        var credentials: CredentialsInfo
        var profile: String?
        var region: Setting
        var endpoint: Setting
        var stsEndpoint: Setting
    }

    func run() async throws {
        try await runReportingErrors {
            let client = try global.makeClient()
            let configuration = client.configuration
            let current: ExpiringCredentials
            do {
                current = try await client.credentials.credentials()
            } catch {
                throw CLIError.failed("\(error)")
            }
            let http = CurlTransport()
            defer { http.shutdown() }
            let sts = STSClient(endpoint: configuration.stsEndpoint, region: configuration.region, http: http)
            let identity: CallerIdentity
            do {
                identity = try await sts.getCallerIdentity(credentials: current.credentials)
            } catch {
                throw CLIError.failed("\(error). The credentials come from \(client.credentials.source).")
            }
            let report = Report(
                account: identity.account, arn: identity.arn, userId: identity.userId,
                credentials: CredentialsInfo(
                    provider: client.credentials.source,
                    accessKey: Self.masked(current.credentials.accessKeyId),
                    temporary: current.credentials.sessionToken != nil,
                    expiration: current.expiration.map { ISO8601DateFormatter().string(from: $0) }),
                profile: configuration.profile,
                region: Setting(value: configuration.region, source: configuration.regionSource),
                endpoint: Setting(value: configuration.endpoint, source: configuration.endpointSource),
                stsEndpoint: Setting(value: configuration.stsEndpoint, source: configuration.stsEndpointSource))
            if outputFormat.json {
                print(try jsonText(report))
                return
            }
            var table = TextTable(["SETTING", "VALUE", "FROM"])
            table.add(["account", report.account, "STS GetCallerIdentity"])
            table.add(["arn", report.arn, "STS GetCallerIdentity"])
            table.add(["user id", report.userId, "STS GetCallerIdentity"])
            let lifetime =
                report.credentials.expiration.map { "temporary, expires \($0)" }
                ?? (report.credentials.temporary ? "session token, no expiry known" : "long-term keys")
            table.add(["access key", "\(report.credentials.accessKey) (\(lifetime))", report.credentials.provider])
            let profileSource =
                global.profile != nil
                ? "--profile"
                : ProcessInfo.processInfo.environment["AWS_PROFILE"].map { $0.isEmpty ? "default" : "AWS_PROFILE" } ?? "default"
            table.add(["profile", report.profile ?? "(none)", report.profile == nil ? "" : profileSource])
            table.add(["region", report.region.value, report.region.source])
            table.add(["endpoint", report.endpoint.value, report.endpoint.source])
            table.add(["sts endpoint", report.stsEndpoint.value, report.stsEndpoint.source])
            print(table.render())
        }
    }

    /// `****************ABCD`, as `aws configure list` shows keys.
    static func masked(_ key: String) -> String {
        String(repeating: "*", count: max(0, key.count - 4)) + key.suffix(4)
    }
}
