using Jobs.Persistence.Snapshots;

namespace Jobs.Persistence.Memory;

/// <summary>Snapshots in process memory, for tests and development.</summary>
public sealed class InMemorySnapshotStore : ISnapshotStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, SortedList<long, SelectedSnapshot>> _snapshots = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public Task<SelectedSnapshot?> LoadAsync(string persistenceId, SnapshotSelectionCriteria criteria, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(criteria);
        lock (_gate)
        {
            return Task.FromResult(
                _snapshots.TryGetValue(persistenceId, out var list) ? list.Values.LastOrDefault(s => criteria.Matches(s.Metadata)) : null
            );
        }
    }

    /// <inheritdoc />
    public Task SaveAsync(SnapshotMetadata metadata, int? serializerId, string manifest, byte[] payload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        lock (_gate)
        {
            if (!_snapshots.TryGetValue(metadata.PersistenceId, out var list))
            {
                _snapshots[metadata.PersistenceId] = list = [];
            }

            list[metadata.SequenceNr] = new SelectedSnapshot(metadata, manifest, payload, serializerId);
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task DeleteAsync(string persistenceId, SnapshotSelectionCriteria criteria, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(criteria);
        lock (_gate)
        {
            if (_snapshots.TryGetValue(persistenceId, out var list))
            {
                foreach (var key in list.Where(s => criteria.Matches(s.Value.Metadata)).Select(s => s.Key).ToList())
                {
                    list.Remove(key);
                }
            }
        }

        return Task.CompletedTask;
    }
}
