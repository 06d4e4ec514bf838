namespace Jobs.Runtime.Persistence.Journal;

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
    IAsyncEnumerable<PersistentRepr> ReplayAsync(string persistenceId, long fromSequenceNr, long toSequenceNr, long max, CancellationToken cancellationToken);

    /// <summary>The highest sequence number ever written to the stream (deleted events count), or 0.</summary>
    Task<long> ReadHighestSequenceNrAsync(string persistenceId, CancellationToken cancellationToken);

    /// <summary>Deletes events up to and including <paramref name="toSequenceNr"/>; the highest sequence number is remembered.</summary>
    Task DeleteMessagesToAsync(string persistenceId, long toSequenceNr, CancellationToken cancellationToken);
}
