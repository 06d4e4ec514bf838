namespace Jobs.Persistence.Journal;

/// <summary>What recovery reads of one stream: its live events from a sequence number on, and the highest number ever written.</summary>
/// <param name="Events">Events not deleted, in order.</param>
/// <param name="HighestSequenceNr">The highest sequence number ever written to the stream (deleted events count), or 0.</param>
public sealed record RecoveredEvents(IReadOnlyList<PersistentRepr> Events, long HighestSequenceNr);
