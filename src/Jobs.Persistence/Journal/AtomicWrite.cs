namespace Jobs.Persistence.Journal;

/// <summary>Events of one stream that are stored all together or not at all, with an optional fence and attachment.</summary>
/// <param name="PersistenceId">The stream.</param>
/// <param name="Events">Consecutive events, lowest sequence number first.</param>
/// <param name="Fence">A lease precondition, or null.</param>
/// <param name="Attachment">Data for write participants (for example a query-index row) stored in the same transaction, or null.</param>
public sealed record AtomicWrite(string PersistenceId, IReadOnlyList<PersistentRepr> Events, WriteFence? Fence = null, object? Attachment = null)
{
    /// <summary>The lowest sequence number in the write.</summary>
    public long LowestSequenceNr => Events[0].SequenceNr;

    /// <summary>The highest sequence number in the write.</summary>
    public long HighestSequenceNr => Events[^1].SequenceNr;

    /// <summary>Throws when the write is empty, mixes streams or has gaps.</summary>
    public void Validate()
    {
        if (Events.Count == 0)
        {
            throw new ArgumentException($"atomic write for '{PersistenceId}' has no events");
        }

        for (var i = 0; i < Events.Count; i++)
        {
            if (Events[i].PersistenceId != PersistenceId)
            {
                throw new ArgumentException($"atomic write for '{PersistenceId}' contains an event of '{Events[i].PersistenceId}'");
            }

            if (i > 0 && Events[i].SequenceNr != Events[i - 1].SequenceNr + 1)
            {
                throw new ArgumentException($"atomic write for '{PersistenceId}' has non-consecutive sequence numbers");
            }
        }
    }
}
