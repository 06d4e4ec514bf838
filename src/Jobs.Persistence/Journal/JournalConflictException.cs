namespace Jobs.Persistence.Journal;

/// <summary>A write collided with events already stored for the same stream and sequence numbers (a second writer).</summary>
public sealed class JournalConflictException : Exception
{
    /// <summary>Creates the exception for a stream.</summary>
    public JournalConflictException(string persistenceId, long sequenceNr, Exception? innerException = null)
        : base($"stream '{persistenceId}' already has an event at sequence number {sequenceNr}: another writer is active", innerException)
    {
        PersistenceId = persistenceId;
        SequenceNr = sequenceNr;
    }

    /// <summary>The stream.</summary>
    public string PersistenceId { get; }

    /// <summary>The first sequence number of the rejected write.</summary>
    public long SequenceNr { get; }
}
