namespace Jobs.Persistence.Snapshots;

/// <summary>Identifies a snapshot: the stream and the sequence number the state corresponds to.</summary>
/// <param name="PersistenceId">The stream.</param>
/// <param name="SequenceNr">The last event included in the state.</param>
/// <param name="Timestamp">When the snapshot was taken.</param>
public sealed record SnapshotMetadata(string PersistenceId, long SequenceNr, DateTimeOffset Timestamp);
