using System.Data.Common;
using Jobs.Persistence.Snapshots;

namespace Jobs.Persistence.Sql;

/// <summary>Snapshots in the journal's database (portable SQL shared by SQLite and PostgreSQL).</summary>
internal sealed class SqlSnapshotStore(SqlNames names, Func<CancellationToken, Task<DbConnection>> open) : ISnapshotStore
{
    public async Task<SelectedSnapshot?> LoadAsync(string persistenceId, SnapshotSelectionCriteria criteria, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(criteria);
        await using var connection = await open(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText =
            $"SELECT sequence_nr, created_at, manifest, payload, serializer_id FROM {names.Snapshots} "
            + "WHERE persistence_id = @p AND sequence_nr >= @min AND sequence_nr <= @max AND created_at <= @ts ORDER BY sequence_nr DESC LIMIT 1";
        AddCriteria(command, persistenceId, criteria);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        var metadata = new SnapshotMetadata(persistenceId, reader.GetInt64(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)));
        return new SelectedSnapshot(metadata, reader.GetString(2), (byte[])reader.GetValue(3), SqlJournal.NullableInt(reader, 4));
    }

    public async Task<IReadOnlyDictionary<string, SelectedSnapshot>> LoadLatestManyAsync(
        IReadOnlyList<string> persistenceIds,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(persistenceIds);
        var result = new Dictionary<string, SelectedSnapshot>(StringComparer.Ordinal);
        if (persistenceIds.Count == 0)
        {
            return result;
        }

        await using var connection = await open(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText =
            $"SELECT persistence_id, sequence_nr, created_at, manifest, payload, serializer_id FROM {names.Snapshots} "
            + $"WHERE persistence_id IN ({SqlLists.BindInList(command, [.. persistenceIds.Distinct(StringComparer.Ordinal)])}) "
            + "ORDER BY persistence_id, sequence_nr";

        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var id = reader.GetString(0);
            var metadata = new SnapshotMetadata(id, reader.GetInt64(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)));
            // ascending: the last one wins
            result[id] = new SelectedSnapshot(metadata, reader.GetString(3), (byte[])reader.GetValue(4), SqlJournal.NullableInt(reader, 5));
        }

        return result;
    }

    public async Task SaveAsync(SnapshotMetadata metadata, int? serializerId, string manifest, byte[] payload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        await using var connection = await open(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText =
            $"INSERT INTO {names.Snapshots} (persistence_id, sequence_nr, created_at, "
            + "manifest, payload, serializer_id) VALUES (@p, @s, @t, @m, @b, @z) "
            + "ON CONFLICT (persistence_id, sequence_nr) DO UPDATE SET created_at = excluded.created_at, "
            + "manifest = excluded.manifest, payload = excluded.payload, serializer_id = excluded.serializer_id";
        Add(command, "@p", metadata.PersistenceId);
        Add(command, "@s", metadata.SequenceNr);
        Add(command, "@t", metadata.Timestamp.ToUnixTimeMilliseconds());
        Add(command, "@m", manifest);
        Add(command, "@b", payload);
        Add(command, "@z", serializerId is { } id ? id : DBNull.Value);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task DeleteAsync(string persistenceId, SnapshotSelectionCriteria criteria, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(criteria);
        await using var connection = await open(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText =
            $"DELETE FROM {names.Snapshots} WHERE persistence_id = @p AND sequence_nr >= @min AND sequence_nr <= @max AND created_at <= @ts";
        AddCriteria(command, persistenceId, criteria);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static void AddCriteria(DbCommand command, string persistenceId, SnapshotSelectionCriteria criteria)
    {
        Add(command, "@p", persistenceId);
        Add(command, "@min", criteria.MinSequenceNr);
        Add(command, "@max", criteria.MaxSequenceNr);
        Add(command, "@ts", criteria.MaxTimestamp.ToUnixTimeMilliseconds());
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
