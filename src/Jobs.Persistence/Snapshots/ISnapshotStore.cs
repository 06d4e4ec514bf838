namespace Jobs.Persistence.Snapshots;

/// <summary>Stores actor state snapshots so recovery replays only the events after the latest one.</summary>
public interface ISnapshotStore
{
    /// <summary>The newest snapshot matching <paramref name="criteria"/>, or null.</summary>
    Task<SelectedSnapshot?> LoadAsync(string persistenceId, SnapshotSelectionCriteria criteria, CancellationToken cancellationToken);

    /// <summary>The latest snapshot of each stream that has one, in as few round trips as the store can (SQL: one).</summary>
    async Task<IReadOnlyDictionary<string, SelectedSnapshot>> LoadLatestManyAsync(
        IReadOnlyList<string> persistenceIds,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(persistenceIds);
        var result = new Dictionary<string, SelectedSnapshot>(StringComparer.Ordinal);
        foreach (var id in persistenceIds)
        {
            if (await LoadAsync(id, SnapshotSelectionCriteria.Latest, cancellationToken).ConfigureAwait(false) is { } snapshot)
            {
                result[id] = snapshot;
            }
        }

        return result;
    }

    /// <summary>Stores (or replaces) the snapshot at the metadata's sequence number, written by the journal's own serializer.</summary>
    Task SaveAsync(SnapshotMetadata metadata, string manifest, byte[] payload, CancellationToken cancellationToken) =>
        SaveAsync(metadata, null, manifest, payload, cancellationToken);

    /// <summary>Stores (or replaces) the snapshot at the metadata's sequence number, written by serializer <paramref name="serializerId"/>.</summary>
    Task SaveAsync(SnapshotMetadata metadata, int? serializerId, string manifest, byte[] payload, CancellationToken cancellationToken);

    /// <summary>Deletes every snapshot of the stream matching <paramref name="criteria"/>.</summary>
    Task DeleteAsync(string persistenceId, SnapshotSelectionCriteria criteria, CancellationToken cancellationToken);
}
