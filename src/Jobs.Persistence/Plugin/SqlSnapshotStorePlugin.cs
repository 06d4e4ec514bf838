using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Snapshot;
using StoredCriteria = Jobs.Persistence.Snapshots.SnapshotSelectionCriteria;
using StoredMetadata = Jobs.Persistence.Snapshots.SnapshotMetadata;

namespace Jobs.Persistence.Plugin;

/// <summary>The snapshot-store plugin: snapshots in the journal's database, with their serializer id and manifest.</summary>
public sealed class SqlSnapshotStorePlugin : SnapshotStore
{
    private readonly PluginSettings _settings;
    private readonly PayloadCodec _codec;
    private readonly SqlPersistence _stores;

    /// <summary>Creates the plugin from its HOCON section (over the plugin's defaults).</summary>
    public SqlSnapshotStorePlugin(Config config) =>
        (_settings, _codec, _stores) = PluginContext.Create(config, SqlPersistence.SnapshotPluginId, Context.System);

    /// <inheritdoc />
    protected override async Task<SelectedSnapshot?> LoadAsync(
        string persistenceId,
        SnapshotSelectionCriteria criteria,
        CancellationToken cancellationToken
    )
    {
        var store = (await _stores.JournalAsync(_settings).ConfigureAwait(false)).Snapshots;
        if (await store.LoadAsync(persistenceId, ToStored(criteria), cancellationToken).ConfigureAwait(false) is not { } loaded)
        {
            return null;
        }

        if (criteria.MinTimestamp is { } min && loaded.Metadata.Timestamp.UtcDateTime < min)
        {
            return null; // the newest match is older than asked for, and older ones are older still
        }

        return new SelectedSnapshot(
            new SnapshotMetadata(persistenceId, loaded.Metadata.SequenceNr, loaded.Metadata.Timestamp.UtcDateTime),
            _codec.Deserialize(loaded.SerializerId, loaded.Manifest, loaded.Payload)
        );
    }

    /// <inheritdoc />
    protected override async Task SaveAsync(SnapshotMetadata metadata, object snapshot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var store = (await _stores.JournalAsync(_settings).ConfigureAwait(false)).Snapshots;
        var (serializerId, manifest, bytes) = _codec.Serialize(snapshot);
        var at =
            metadata.Timestamp == DateTime.MinValue
                ? DateTimeOffset.UtcNow
                : new DateTimeOffset(DateTime.SpecifyKind(metadata.Timestamp, DateTimeKind.Utc));
        await store
            .SaveAsync(new StoredMetadata(metadata.PersistenceId, metadata.SequenceNr, at), serializerId, manifest, bytes, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override async Task DeleteAsync(SnapshotMetadata metadata, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var store = (await _stores.JournalAsync(_settings).ConfigureAwait(false)).Snapshots;
        var upTo =
            metadata.Timestamp == DateTime.MinValue
                ? DateTimeOffset.MaxValue
                : new DateTimeOffset(DateTime.SpecifyKind(metadata.Timestamp, DateTimeKind.Utc));
        await store
            .DeleteAsync(metadata.PersistenceId, new StoredCriteria(metadata.SequenceNr, upTo, metadata.SequenceNr), cancellationToken)
            .ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override async Task DeleteAsync(string persistenceId, SnapshotSelectionCriteria criteria, CancellationToken cancellationToken)
    {
        var store = (await _stores.JournalAsync(_settings).ConfigureAwait(false)).Snapshots;
        await store.DeleteAsync(persistenceId, ToStored(criteria), cancellationToken).ConfigureAwait(false);
    }

    private static StoredCriteria ToStored(SnapshotSelectionCriteria criteria) =>
        new(
            criteria.MaxSequenceNr,
            criteria.MaxTimeStamp == DateTime.MaxValue
                ? DateTimeOffset.MaxValue
                : new DateTimeOffset(DateTime.SpecifyKind(criteria.MaxTimeStamp, DateTimeKind.Utc)),
            criteria.MinSequenceNr
        );
}
