namespace Jobs.Persistence.Journal;

/// <summary>
/// An event journal. Writes are atomic per <see cref="AtomicWrite"/>; UNIQUE(persistence id, sequence number) makes a
/// second writer of the same stream fail. Implementations batch concurrent writes into shared transactions.
/// </summary>
public interface IJournal : IAsyncDisposable
{
    /// <summary>A short name of the backend for logs and metrics (memory, sqlite, postgresql).</summary>
    string Backend { get; }

    /// <summary>Creates or migrates the schema (when enabled) and checks durability settings; call once before use.</summary>
    Task StartAsync(CancellationToken cancellationToken);

    /// <summary>Stores one atomic write; completes after the commit.</summary>
    /// <exception cref="JournalConflictException">Another writer already stored one of these sequence numbers.</exception>
    /// <exception cref="FencingException">The write's fence no longer holds.</exception>
    Task WriteAsync(AtomicWrite write, CancellationToken cancellationToken);

    /// <summary>Stores several atomic writes (of different streams) in one transaction: all of them or none.</summary>
    /// <exception cref="JournalConflictException">Another writer already stored one of these sequence numbers (nothing is stored).</exception>
    /// <exception cref="FencingException">A write's fence no longer holds (nothing is stored).</exception>
    Task WriteGroupAsync(IReadOnlyList<AtomicWrite> writes, CancellationToken cancellationToken);

    /// <summary>Replays events of a stream with sequence numbers in [from, to], at most <paramref name="max"/>, in order.</summary>
    IAsyncEnumerable<PersistentRepr> ReplayAsync(
        string persistenceId,
        long fromSequenceNr,
        long toSequenceNr,
        long max,
        CancellationToken cancellationToken
    );

    /// <summary>The highest sequence number ever written to the stream (deleted events count), or 0.</summary>
    Task<long> ReadHighestSequenceNrAsync(string persistenceId, CancellationToken cancellationToken);

    /// <summary>
    /// Reads several streams for recovery, each from its own sequence number: what <see cref="ReplayAsync"/> and
    /// <see cref="ReadHighestSequenceNrAsync"/> give for each, in as few round trips as the journal can (SQL: one).
    /// </summary>
    async Task<IReadOnlyDictionary<string, RecoveredEvents>> ReplayManyAsync(
        IReadOnlyList<(string PersistenceId, long FromSequenceNr)> streams,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(streams);
        var result = new Dictionary<string, RecoveredEvents>(StringComparer.Ordinal);
        foreach (var (id, from) in streams)
        {
            var events = new List<PersistentRepr>();
            await foreach (var repr in ReplayAsync(id, from, long.MaxValue, long.MaxValue, cancellationToken).ConfigureAwait(false))
            {
                events.Add(repr);
            }

            result[id] = new RecoveredEvents(events, await ReadHighestSequenceNrAsync(id, cancellationToken).ConfigureAwait(false));
        }

        return result;
    }

    /// <summary>Deletes events up to and including <paramref name="toSequenceNr"/>; the highest sequence number is remembered.</summary>
    Task DeleteMessagesToAsync(string persistenceId, long toSequenceNr, CancellationToken cancellationToken);
}
