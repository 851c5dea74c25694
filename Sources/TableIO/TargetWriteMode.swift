import DynamoClient
import Mappings

/// How a ``TargetWriter`` makes a target's content follow its conflict policy.
///
/// `keep-existing` and `fail` must not replace an item already in the target. The exact way is a
/// conditional `PutItem` per item, one request per item. Two faster ways are exact under stated
/// conditions, and ``choose(policy:targetCreatedByThisMigration:sourcePosition:keysDistinctWithinSource:)``
/// is the one rule that picks them:
///
/// - ``batch``: `BatchWriteItem` with no check. Exact for `overwrite` always. For `keep-existing` and
///   `fail`, exact for the **first source of a target this migration created** (recorded in the
///   checkpoint's `targetCreations` before CreateTable) when **no two items of that source can have
///   the same target key**: the table was created empty; the sources of one target are written one
///   after another in mapping order (``Migrator`` starts source *n+1* only once source *n* is done,
///   also on resume, where done sources are skipped and the first unfinished one continues), so while
///   the first source is written the only items there are its own; and an item written again on
///   resume is the same source item (same key, same or newer content), never another source's.
/// - ``probe``: for the later sources of such a target. A `BatchGetItem` (`ConsistentRead`) of the
///   batch's keys tells which keys are there; those the policy decides (`keep-existing`: skipped;
///   `fail`: identical content is skipped, different content stops the run), the absent ones go in
///   one `BatchWriteItem`. The check and the write are two requests, so a key written by *someone
///   else* between them would be replaced. That is accepted here, and only here: the table was
///   created by this migration and is not in service yet, the earlier sources are finished, and
///   items of this source have distinct keys, so no writer of this migration can race it. What a
///   concurrent writer did *before* the check is respected.
/// - ``conditional``: every other case: a target that existed before the migration (an application
///   may be writing to it), or a source whose transform may give two items one key (`set`,
///   `default` or `convert` of a key attribute, or a target key that leaves out a source key
///   attribute). A conditional put is exact under any concurrent writer.
///
/// Running the sources of one target concurrently (for example split across worker processes)
/// breaks the ordering the first two rest on; such a caller must choose ``conditional``.
public enum TargetWriteMode: String, Sendable, Equatable, CustomStringConvertible {
    case batch
    case probe
    case conditional

    public var description: String { rawValue }

    /// The mode for one source of a target (see the type's documentation for why each is exact).
    /// - Parameters:
    ///   - sourcePosition: the source's position among the target's sources (0: written first).
    ///   - keysDistinctWithinSource: no two items of the source can reach one target key
    ///     (``keysAreDistinct(transform:sourceKey:targetKey:)``).
    public static func choose(
        policy: ConflictPolicy, targetCreatedByThisMigration: Bool, sourcePosition: Int, keysDistinctWithinSource: Bool
    ) -> TargetWriteMode {
        guard policy.mayKeepExisting else { return .batch }
        guard targetCreatedByThisMigration, keysDistinctWithinSource else { return .conditional }
        return sourcePosition == 0 ? .batch : .probe
    }

    /// Whether two items of one source table (distinct source keys) always get distinct target keys
    /// through `transform`: every source key attribute must reach a target key attribute unchanged
    /// (renamed or prefixed at most).
    public static func keysAreDistinct(transform: CompiledTransform, sourceKey: KeySchema, targetKey: KeySchema) -> Bool {
        guard let origins = transform.origins(of: targetKey.attributeNames) else { return false }
        return Set(sourceKey.attributeNames).isSubset(of: Set(origins))
    }
}
