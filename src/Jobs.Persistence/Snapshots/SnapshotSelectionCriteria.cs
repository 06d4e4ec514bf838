namespace Jobs.Persistence.Snapshots;

/// <summary>Which snapshots a load or delete considers: sequence numbers in [Min, Max] taken no later than MaxTimestamp.</summary>
/// <param name="MaxSequenceNr">Highest sequence number considered.</param>
/// <param name="MaxTimestamp">Latest timestamp considered.</param>
/// <param name="MinSequenceNr">Lowest sequence number considered.</param>
public sealed record SnapshotSelectionCriteria(long MaxSequenceNr, DateTimeOffset MaxTimestamp, long MinSequenceNr = 0)
{
    /// <summary>Every snapshot.</summary>
    public static SnapshotSelectionCriteria Latest { get; } = new(long.MaxValue, DateTimeOffset.MaxValue);

    /// <summary>No snapshot (recovery replays every event).</summary>
    public static SnapshotSelectionCriteria None { get; } = new(0, DateTimeOffset.MinValue);

    /// <summary>True when <paramref name="metadata"/> is selected.</summary>
    public bool Matches(SnapshotMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        return metadata.SequenceNr >= MinSequenceNr && metadata.SequenceNr <= MaxSequenceNr && metadata.Timestamp <= MaxTimestamp;
    }
}
