using System.Data.Common;
using Jobs.Persistence.Journal;

namespace Jobs.Actors.Index;

/// <summary>
/// Gives a write participant a database of its own where the journal has none: the in-memory journal passes no
/// connection and no transaction, so this opens one (an in-memory SQLite database the node holds open) and writes
/// each batch in a transaction of its own, while the journal's lock keeps the batches in order.
/// </summary>
internal sealed class OwnDatabaseParticipant(IWriteParticipant inner, Func<CancellationToken, Task<DbConnection>> open) : IWriteParticipant
{
    public async Task EnsureSchemaAsync(DbConnection? connection, SqlDialect dialect, CancellationToken cancellationToken)
    {
        if (connection is not null)
        {
            await inner.EnsureSchemaAsync(connection, dialect, cancellationToken).ConfigureAwait(false);
            return;
        }

        await using var own = await open(cancellationToken).ConfigureAwait(false);
        await inner.EnsureSchemaAsync(own, SqlDialect.Sqlite, cancellationToken).ConfigureAwait(false);
    }

    public async Task WriteAsync(
        DbTransaction? transaction,
        SqlDialect dialect,
        IReadOnlyList<AtomicWrite> writes,
        CancellationToken cancellationToken
    )
    {
        if (transaction is not null)
        {
            await inner.WriteAsync(transaction, dialect, writes, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (writes.All(w => w.Attachment is null))
        {
            return;
        }

        await using var own = await open(cancellationToken).ConfigureAwait(false);
        await using var ownTransaction = await own.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await inner.WriteAsync(ownTransaction, SqlDialect.Sqlite, writes, cancellationToken).ConfigureAwait(false);
        await ownTransaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }
}
