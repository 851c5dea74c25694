import DynamoCore
import Foundation

// Calls that create or delete something, made safe against a lost answer: DynamoDB applied the
// request, the answer never arrived, and the retry (ours, or libcurl's own resend on a reused
// connection) meets the consequence — ResourceInUseException, a second backup, BackupNotFoundException.
// One rule for every engine: what we asked for and find in place is ours, provided it is what we asked for.

/// A table exists under the name we asked to create (or restore into), but it is not the table we
/// asked for, so it is not ours to adopt.
public struct TableAdoptionError: Error, Sendable, CustomStringConvertible {
    public var table: String
    public var reason: String

    public init(table: String, reason: String) {
        self.table = table; self.reason = reason
    }

    public var description: String {
        "table \(table) already exists but is not the table this run asked for (\(reason)); leave it alone: delete or rename it yourself, or choose another table name"
    }
}

extension DynamoDBClient {
    /// Creates `input`'s table and waits until it is ACTIVE, or adopts the table when it is already
    /// there because of our own request.
    ///
    /// The caller must have checked that the table did not exist (or recorded its intent to create it)
    /// before: then `ResourceInUseException` from this CreateTable means an earlier attempt of ours was
    /// applied and only its answer was lost. The table is adopted when its key schema is the one asked
    /// for; otherwise ``TableAdoptionError`` is thrown.
    /// - Parameter intentRecorded: an earlier run recorded that it was creating this table (resume): an
    ///   existing table is adopted without sending CreateTable again.
    /// - Returns: the ACTIVE table, and whether it was adopted rather than created by this call.
    public func createOrAdoptTable(
        _ input: CreateTableInput, intentRecorded: Bool = false,
        pollInterval: Duration = .milliseconds(500)
    ) async throws -> (table: TableDescription, adopted: Bool) {
        var adopted = false
        if intentRecorded, try await describeTableIfExists(input.name) != nil {
            adopted = true
        } else {
            var refusal: DynamoDBError?
            do {
                // Over the account's limit of concurrent control-plane calls, CreateTable queues.
                _ = try await whenAccepted("CreateTable", table: input.name, busy: []) { () async throws(DynamoDBError) -> TableDescription? in
                    try await createTable(input)
                }
            } catch { refusal = error }
            if let refusal {
                guard refusal.errorType == "ResourceInUseException" || refusal.errorType == "TableAlreadyExistsException",
                    let existing = try await describeTableIfExists(input.name), existing.status != "DELETING"
                else { throw refusal }
                logger.warning("CreateTable on \(input.name): the table is already there (an earlier attempt was applied, its answer lost); adopting it")
                adopted = true
            }
        }
        let table = try await waitUntilActive(input.name, pollInterval: pollInterval)
        if adopted, table.keySchema != input.keySchema {
            throw TableAdoptionError(table: input.name, reason: "its key is \(table.keySchema), the one asked for is \(input.keySchema)")
        }
        return (table, adopted)
    }

    /// RestoreTableFromBackup into `targetTable`; when the target is already there because of our own
    /// request (TableAlreadyExistsException after a lost answer), adopts it, provided DynamoDB records
    /// it as restored from this backup (when it says so at all). Does not wait for ACTIVE.
    ///
    /// The caller must have checked that `targetTable` did not exist before.
    /// - Returns: whether the table was adopted rather than restored by this call.
    @discardableResult
    public func restoreTableFromBackupOrAdopt(backupArn: String, targetTable: String) async throws -> Bool {
        try await restoreOrAdopt(targetTable, summaryField: "SourceBackupArn", expectedSource: backupArn) { () async throws(DynamoDBError) in
            try await restoreTableFromBackup(backupArn: backupArn, targetTable: targetTable)
        }
    }

    /// RestoreTableToPointInTime into `targetTable`, adopting the target when it is already there
    /// because of our own request, like ``restoreTableFromBackupOrAdopt(backupArn:targetTable:)``.
    @discardableResult
    public func restoreTableToPointInTimeOrAdopt(sourceTable: String, targetTable: String, to point: RestorePoint) async throws -> Bool {
        let sourceArn = try await describeTable(sourceTable).arn
        return try await restoreOrAdopt(targetTable, summaryField: "SourceTableArn", expectedSource: sourceArn) { () async throws(DynamoDBError) in
            try await restoreTableToPointInTime(sourceTable: sourceTable, targetTable: targetTable, to: point)
        }
    }

    private func restoreOrAdopt(
        _ targetTable: String, summaryField: String, expectedSource: String?,
        restore: () async throws(DynamoDBError) -> TableDescription
    ) async throws -> Bool {
        var refusal: DynamoDBError?
        do { _ = try await restore() } catch { refusal = error }
        guard let refusal else { return false }
        guard refusal.errorType == "TableAlreadyExistsException" || refusal.errorType == "ResourceInUseException",
            let existing = try await describeTableIfExists(targetTable), existing.status != "DELETING"
        else { throw refusal }
        if let expectedSource, let source = existing.raw["RestoreSummary"]?[summaryField]?.stringValue, source != expectedSource {
            throw TableAdoptionError(table: targetTable, reason: "it was restored from \(source), not \(expectedSource)")
        }
        logger.warning("restore into \(targetTable): the table is already there (an earlier attempt was applied, its answer lost); adopting it")
        return true
    }

    /// CreateBackup that a lost answer does not turn into two backups.
    ///
    /// The call is not retried blindly: after a failure that DynamoDB may have applied (a lost or
    /// garbled answer, a 5xx) or `BackupInUseException` (our own first request still running), the
    /// backups of `table` are listed and a backup named `name` that was not there before this call is
    /// ours; only when there is none is CreateBackup sent again. `name` should be unique to this call
    /// (it is how the backup is found again). ListBackups' filters are applied here, as some servers
    /// ignore them.
    public func createBackupOnce(table: String, name: String) async throws(DynamoDBError) -> BackupSummary {
        let before = Set(try await listBackups(table: table).filter { $0.name == name }.map(\.arn))
        var random = SystemRandomNumberGenerator()
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await createBackup(table: table, name: name, idempotent: false)
            } catch let failure {
                guard failure.mayHaveBeenApplied || failure.errorType == "BackupInUseException",
                    attempt < retryPolicy.maxAttempts
                else { throw failure }
                let ours = try await listBackups(table: table).filter { $0.name == name && !before.contains($0.arn) }
                if let found = ours.min(by: { ($0.creationDate ?? .distantFuture) < ($1.creationDate ?? .distantFuture) }) {
                    logger.warning("CreateBackup of \(table): the answer was lost, but backup \(name) is there; using it (\(found.arn))")
                    return found
                }
                logger.warning("CreateBackup of \(table): \(failure); no backup \(name) was made, sending it again")
                do { try await clock.sleep(for: retryPolicy.delay(beforeRetry: attempt, using: &random)) } catch { throw failure }
            }
        }
    }

    /// DeleteBackup where a backup that is already gone counts as deleted: `BackupNotFoundException`
    /// after our own DeleteBackup is what a lost answer looks like on the retry.
    /// - Returns: false when DynamoDB said the backup was not (any longer) there.
    @discardableResult
    public func deleteBackupIfPresent(arn: String) async throws(DynamoDBError) -> Bool {
        do {
            try await deleteBackup(arn: arn)
            return true
        } catch  where error.errorType == "BackupNotFoundException" {
            return false
        }
    }
}
