import ArgumentParser
import DynamoClient
import Foundation
import S3Client
import TableIO

/// Options of commands that write exports to S3 (`export TABLE --to s3://…`).
struct S3WriteOptions: ParsableArguments {
    @Option(help: "Server-side encryption of the objects written to S3: AES256 or aws:kms.")
    var sse: String?

    @Option(name: .customLong("kms-key"), help: "The KMS key (ID, ARN or alias) for --sse aws:kms; the account's aws/s3 key when left out.")
    var kmsKey: String?

    @Option(name: .customLong("part-size-mb"), help: "Data files larger than this go up to S3 as multipart uploads in parts of this size (at least 5).")
    var partSizeMB: Int = 16

    @Option(name: .customLong("upload-concurrency"), help: "Parts of one data file uploaded at once.")
    var uploadConcurrency: Int = 4

    func validate() throws {
        if partSizeMB < 5 { throw ValidationError("--part-size-mb must be at least 5 (S3's smallest part)") }
        if uploadConcurrency < 1 { throw ValidationError("--upload-concurrency must be at least 1") }
        do { _ = try S3ServerSideEncryption.parse(sse: sse, kmsKey: kmsKey) } catch { throw ValidationError(error.description) }
    }

    func uploadOptions() throws -> S3UploadOptions {
        let encryption: S3ServerSideEncryption?
        do { encryption = try S3ServerSideEncryption.parse(sse: sse, kmsKey: kmsKey) } catch { throw CLIError.usage(error.description) }
        return S3UploadOptions(partSize: partSizeMB << 20, concurrency: uploadConcurrency, encryption: encryption)
    }
}

/// Parses an export path argument (`s3://bucket/prefix` or a local folder); a bad S3 URL is a usage error.
func parseExportStorage(_ text: String) throws -> ExportStorage {
    do { return try ExportStorage(parsing: text) } catch { throw CLIError.usage(error.description) }
}

/// An S3 client with the DynamoDB client's credentials, region and logger; its endpoint comes from
/// `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL` or the profile's `endpoint_url`, as aws-cli resolves it.
func makeS3Client(sharing client: DynamoDBClient) -> S3Client {
    S3Client(configuration: client.configuration, clock: client.clock, logger: client.logger, credentials: client.credentials)
}

/// A new folder for an export on its way to or from S3, removed when `body` ends.
func withStagingDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dynamo-migrate-s3-\(UUID().uuidString)")
    do {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    } catch {
        throw CLIError.failed("cannot create a staging folder in \(FileManager.default.temporaryDirectory.path): \(error.localizedDescription)")
    }
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(directory)
}

/// Downloads the single export under `location` into `staging` and returns where it is.
func fetchExport(_ location: S3Location, client: DynamoDBClient, into staging: URL) async throws -> (local: ExportLocation, folder: S3Location) {
    let transfer = S3ExportTransfer(client: makeS3Client(sharing: client))
    let folder: S3Location
    do { folder = try await transfer.findOne(in: location) } catch let error as ExportFormatError { throw CLIError.usage(error.description) }
    return (try await transfer.fetch(folder, into: staging), folder)
}
