import AWSAuth
import ArgumentParser
import DynamoClient
import Foundation
import Logging
import RunState
import TableIO

/// Options every command takes: where to connect and how much to say.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .customLong("endpoint-url"),
        help: "DynamoDB endpoint, e.g. http://127.0.0.1:8000 (default: AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL, or AWS's regional endpoint).")
    var endpointURL: String?

    @Option(help: "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, or the profile's region).")
    var region: String?

    @Option(help: "Profile from ~/.aws/credentials and ~/.aws/config (default: AWS_PROFILE, or 'default').")
    var profile: String?

    @OptionGroup var output: VerboseOption
    var verbose: Bool { output.verbose }

    /// Bad values here are bad input (exit 2), refused before any file is read or any call is made.
    func validate() throws {
        if let region, region.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--region is empty; give a region such as us-east-1, or leave the flag out")
        }
        if let endpointURL {
            if endpointURL.trimmingCharacters(in: .whitespaces).isEmpty {
                throw ValidationError("--endpoint-url is empty; give a URL such as http://127.0.0.1:8000, or leave the flag out")
            }
            if let port = Self.explicitPort(endpointURL), !(1...65535).contains(port) {
                throw ValidationError("--endpoint-url \(endpointURL): port \(port) is out of range; ports are 1 to 65535")
            }
        }
    }

    /// The port written in a URL (`http://host:PORT/...`), or nil when there is none or it is not a number.
    static func explicitPort(_ url: String) -> Int? {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        var authority = url[schemeEnd.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        if let bracket = authority.lastIndex(of: "]") { authority = authority[authority.index(after: bracket)...] }
        guard let colon = authority.lastIndex(of: ":") else { return nil }
        let digits = authority[authority.index(after: colon)...]
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        return Int(digits.prefix(12)) ?? Int.max
    }

    /// Resolves credentials and endpoint, and builds a client.
    func makeClient() throws -> DynamoDBClient {
        let configuration: AWSConfiguration
        do {
            configuration = try AWSConfigurationResolver.resolve(profile: profile, region: region, endpointURL: endpointURL)
        } catch {
            throw CLIError.configuration(error.description)
        }
        var logger = Logger(label: "dynamo-migrate")
        logger.logLevel = verbose ? .debug : .warning
        return DynamoDBClient(configuration: configuration, logger: logger)
    }
}

/// `--verbose`, which every command takes (also those that make no DynamoDB calls), as the README says.
struct VerboseOption: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Log every retry and request detail to standard error.")
    var verbose = false
}

/// Refuses an empty table name on the command line: bad input (exit 2), not a ValidationException
/// from DynamoDB after connecting.
func validateTableNames(_ names: [String]) throws {
    if names.contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
        throw ValidationError("a table name is empty; DynamoDB table names are 3 to 255 characters")
    }
}

/// Errors the CLI reports itself, with their exit codes.
enum CLIError: Error, CustomStringConvertible {
    /// Bad input: flags, files, mappings (exit 2).
    case usage(String)
    /// Credentials, region or endpoint cannot be resolved (exit 2).
    case configuration(String)
    /// A check failed or work could not be done (exit 1).
    case failed(String)

    var description: String {
        switch self {
        case .usage(let m), .configuration(let m), .failed(let m): m
        }
    }

    var exitCode: Int32 {
        switch self {
        case .usage, .configuration: 2
        case .failed: 1
        }
    }
}

/// Runs a command body, printing any error for the operator and turning it into an exit code.
func runReportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as CLIError {
        printError(error.description)
        throw ExitCode(error.exitCode)
    } catch let error as DynamoDBError {
        printError(error.description)
        // No credentials configured anywhere is missing input, like an unknown profile.
        if case .credentials(let cause, _) = error, cause.nothingConfigured { throw ExitCode(2) }
        throw ExitCode(1)
    } catch let error as ExitCode {
        throw error
    } catch let error as ExportSourceError {
        // A mapping's export source: its file:line and what is wrong (bad input exits 2).
        printError(error.description)
        throw ExitCode(error.isInputError ? 2 : 1)
    } catch {
        printError("\(error)")
        throw ExitCode(1)
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
}

/// `--segments`, declared and validated once for every command that scans a table.
struct ScanOptions: ParsableArguments {
    @Option(help: "Parallel Scan segments per table, 1 to 1000000 (default: from the table's size; 4 for export and backup create).")
    var segments: Int?

    func validate() throws {
        if let segments, !(1...1_000_000).contains(segments) { throw ValidationError("--segments must be between 1 and 1000000") }
    }

    /// The segments asked for, or `fallback` (commands that do not size segments from the table).
    func segments(default fallback: Int) -> Int { segments ?? fallback }
}

/// How a command prints its result: text for people, JSON for programs, Markdown (plan) for a change ticket.
enum OutputFormat: Equatable {
    case text, json, markdown
}

/// `--json`, declared once for every command that can print its result as JSON.
struct OutputFormatOptions: ParsableArguments {
    @Flag(help: "Print the result as JSON instead of text.")
    var json = false

    var format: OutputFormat { json ? .json : .text }
}
