namespace Jobs.Runtime.Persistence.Snapshots;

/// <summary>Stores actor state snapshots so recovery replays only the events after the latest one.</summary>
public interface ISnapshotStore
{
    /// <summary>The newest snapshot matching <paramref name="criteria"/>, or null.</summary>
    Task<SelectedSnapshot?> LoadAsync(string persistenceId, SnapshotSelectionCriteria criteria, CancellationToken cancellationToken);

    /// <summary>Stores (or replaces) the snapshot at the metadata's sequence number.</summary>
    Task SaveAsync(SnapshotMetadata metadata, string manifest, byte[] payload, CancellationToken cancellationToken);

    /// <summary>Deletes every snapshot of the stream matching <paramref name="criteria"/>.</summary>
    Task DeleteAsync(string persistenceId, SnapshotSelectionCriteria criteria, CancellationToken cancellationToken);
}
