using System.Data.Common;

namespace Jobs.Persistence.Journal;

/// <summary>
/// Stores extra data (an <see cref="AtomicWrite.Attachment"/>) in the same transaction as the events, so a projection
/// such as a query index is never out of step with the journal.
/// </summary>
public interface IWriteParticipant
{
    /// <summary>Creates or migrates the participant's own tables (SQL backends; <paramref name="connection"/> is null in memory).</summary>
    Task EnsureSchemaAsync(DbConnection? connection, SqlDialect dialect, CancellationToken cancellationToken);

    /// <summary>
    /// Writes the attachments of <paramref name="writes"/> inside <paramref name="transaction"/> (null in memory, where
    /// the journal's lock is held).
    /// </summary>
    Task WriteAsync(DbTransaction? transaction, SqlDialect dialect, IReadOnlyList<AtomicWrite> writes, CancellationToken cancellationToken);
}
