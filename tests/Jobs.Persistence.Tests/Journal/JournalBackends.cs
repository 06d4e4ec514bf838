using System.Data.Common;
using Jobs.Persistence.Journal;
using Jobs.Persistence.Memory;
using Jobs.Persistence.Postgres;
using Jobs.Persistence.Snapshots;
using Jobs.Persistence.Sqlite;
using Jobs.Testing;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Jobs.Persistence.Tests.Journal;

/// <summary>One journal backend under test: the journal, its snapshot store, and a way to set lease rows.</summary>
public abstract class JournalBackend : IAsyncDisposable
{
    public IJournal Journal { get; protected set; } = null!;

    public ISnapshotStore Snapshots { get; protected set; } = null!;

    public abstract Task StartAsync(IReadOnlyList<IWriteParticipant> participants);

    public abstract Task SetLeaseAsync(string name, string owner, long epoch, TimeSpan validFor);

    public virtual async ValueTask DisposeAsync()
    {
        if (Journal is not null)
        {
            await Journal.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}

public sealed class MemoryBackend : JournalBackend
{
    public override async Task StartAsync(IReadOnlyList<IWriteParticipant> participants)
    {
        Journal = new InMemoryJournal(participants);
        Snapshots = new InMemorySnapshotStore();
        await Journal.StartAsync(CancellationToken.None);
    }

    public override Task SetLeaseAsync(string name, string owner, long epoch, TimeSpan validFor)
    {
        ((InMemoryJournal)Journal).SetLease(name, owner, epoch, DateTimeOffset.UtcNow + validFor);
        return Task.CompletedTask;
    }
}

public sealed class SqliteBackend : JournalBackend
{
    private readonly string _directory = Directory.CreateTempSubdirectory("jobs-sqlite-").FullName;

    public string Path => System.IO.Path.Combine(_directory, "journal.db");

    public override async Task StartAsync(IReadOnlyList<IWriteParticipant> participants)
    {
        var journal = new SqliteJournal(Path, participants: participants);
        Journal = journal;
        Snapshots = journal.CreateSnapshotStore();
        await journal.StartAsync(CancellationToken.None);
    }

    public override async Task SetLeaseAsync(string name, string owner, long epoch, TimeSpan validFor)
    {
        await using var connection = await SqliteJournal.OpenAsync(((SqliteJournal)Journal).ConnectionString, CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText =
            $"INSERT INTO jobs_leases (name, owner, epoch, expires_at) VALUES (@n, @o, @e, {SqliteNow} + @v) "
            + "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, epoch = excluded.epoch, expires_at = excluded.expires_at";
        command.Parameters.AddWithValue("@n", name);
        command.Parameters.AddWithValue("@o", owner);
        command.Parameters.AddWithValue("@e", epoch);
        command.Parameters.AddWithValue("@v", (long)validFor.TotalMilliseconds);
        await command.ExecuteNonQueryAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    internal const string SqliteNow = "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)";
}

public sealed class PostgresBackend : JournalBackend
{
    private NpgsqlDataSource? _dataSource;

    public string ConnectionString { get; private set; } = string.Empty;

    public override async Task StartAsync(IReadOnlyList<IWriteParticipant> participants)
    {
        var server = await PostgresServer.SharedAsync();
        ConnectionString = await server.CreateDatabaseAsync("journal");
        _dataSource = NpgsqlDataSource.Create(ConnectionString);
        var journal = new PostgresJournal(_dataSource, participants: participants);
        Journal = journal;
        Snapshots = journal.CreateSnapshotStore();
        await journal.StartAsync(CancellationToken.None);
    }

    public override async Task SetLeaseAsync(string name, string owner, long epoch, TimeSpan validFor)
    {
        await using var command = _dataSource!.CreateCommand(
            "INSERT INTO jobs_leases (name, owner, epoch, expires_at) VALUES ($1, "
                + "$2, $3, (extract(epoch from clock_timestamp()) * 1000)::bigint + $4) "
                + "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, epoch = excluded.epoch, expires_at = excluded.expires_at"
        );
        command.Parameters.Add(new NpgsqlParameter { Value = name });
        command.Parameters.Add(new NpgsqlParameter { Value = owner });
        command.Parameters.Add(new NpgsqlParameter { Value = epoch });
        command.Parameters.Add(new NpgsqlParameter { Value = (long)validFor.TotalMilliseconds });
        await command.ExecuteNonQueryAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_dataSource is not null)
        {
            await _dataSource.DisposeAsync();
        }
    }
}

/// <summary>A write participant that records one row per event of each attached write, in the journal's transaction.</summary>
public sealed class RecordingParticipant : IWriteParticipant
{
    private readonly List<(string, long)> _memoryRows = [];
    private Func<Task<DbConnection>>? _open;

    public Task EnsureSchemaAsync(DbConnection? connection, SqlDialect dialect, CancellationToken cancellationToken)
    {
        if (connection is null)
        {
            return Task.CompletedTask;
        }

        var connectionString = connection.ConnectionString;
        _open =
            dialect == SqlDialect.Sqlite
                ? async () => await SqliteJournal.OpenAsync(connectionString, CancellationToken.None)
                : async () =>
                {
                    var c = new NpgsqlConnection(connectionString);
                    await c.OpenAsync();
                    return c;
                };
        using var command = connection.CreateCommand();
        command.CommandText = "CREATE TABLE IF NOT EXISTS participant_rows (persistence_id TEXT NOT NULL, sequence_nr BIGINT NOT NULL)";
        return command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task WriteAsync(
        DbTransaction? transaction,
        SqlDialect dialect,
        IReadOnlyList<AtomicWrite> writes,
        CancellationToken cancellationToken
    )
    {
        foreach (var write in writes)
        {
            foreach (var e in write.Events)
            {
                if (transaction is null)
                {
                    _memoryRows.Add((e.PersistenceId, e.SequenceNr));
                    continue;
                }

                await using var command = transaction.Connection!.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = "INSERT INTO participant_rows (persistence_id, sequence_nr) VALUES (@p, @s)";
                var p = command.CreateParameter();
                p.ParameterName = "@p";
                p.Value = e.PersistenceId;
                var s = command.CreateParameter();
                s.ParameterName = "@s";
                s.Value = e.SequenceNr;
                command.Parameters.Add(p);
                command.Parameters.Add(s);
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
        }
    }

    public async Task<long> CountAsync(string persistenceId)
    {
        if (_open is null)
        {
            return _memoryRows.Count(r => r.Item1 == persistenceId);
        }

        await using var connection = await _open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM participant_rows WHERE persistence_id = @p";
        var p = command.CreateParameter();
        p.ParameterName = "@p";
        p.Value = persistenceId;
        command.Parameters.Add(p);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
