using System.Data.Common;
using Jobs.Persistence.Journal;
using Jobs.Persistence.Sql;
using Npgsql;
using NpgsqlTypes;

namespace Jobs.Persistence.Postgres;

/// <summary>
/// The cluster's journal on PostgreSQL: each batch is one multi-row INSERT (unnest of arrays) in one transaction,
/// several batches in flight at once, fences checked with the lease rows locked until commit. Requires
/// synchronous_commit on (checked at start-up).
/// </summary>
public sealed class PostgresJournal : SqlJournal
{
    /// <summary>PostgreSQL's clock in unix milliseconds (lease expiry is judged by it).</summary>
    internal const string NowMillis = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;

    /// <summary>Creates a journal on <paramref name="dataSource"/> in <paramref name="schema"/>.</summary>
    public PostgresJournal(NpgsqlDataSource dataSource, JournalOptions? options = null, string schema = "public", string tablePrefix = "jobs_", IReadOnlyList<IWriteParticipant>? participants = null, bool ownsDataSource = false)
        : base(new SqlNames(SqlDialect.PostgreSql, schema, tablePrefix), (options ?? new JournalOptions()).Validate(), participants)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        _dataSource = dataSource;
        _ownsDataSource = ownsDataSource;
    }

    /// <inheritdoc />
    public override string Backend => "postgresql";

    /// <summary>The data source connections come from.</summary>
    public NpgsqlDataSource DataSource => _dataSource;

    private protected override string FalseLiteral => "false";

    private protected override string TrueLiteral => "true";

    private protected override string NowMillisSql => NowMillis;

    private protected override string NameIn(DbCommand command, IReadOnlyCollection<string> names)
    {
        ((NpgsqlCommand)command).Parameters.Add(new NpgsqlParameter<string[]>("names", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. names] });
        return "name = ANY(@names)";
    }

    private protected override int WriterParallelism => Options.WriteParallelism;

    private protected override async Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

    private protected override async Task<DbConnection> OpenWriterConnectionAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

    private protected override ValueTask ReleaseWriterConnectionAsync(DbConnection connection) => connection.DisposeAsync();

    private protected override async Task CheckDurabilityAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SHOW synchronous_commit";
        var value = (string?)await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        if (value is "off" or "local")
        {
            throw new InvalidOperationException($"PostgreSQL synchronous_commit is '{value}'; 'on' (or remote_write/remote_apply) is required for durable commits");
        }
    }

    private protected override IReadOnlyList<Migration> JournalMigrations() =>
    [
        new(1, "journal, snapshots and leases",
        [
            $"CREATE TABLE {Names.Journal} (ordering BIGSERIAL PRIMARY KEY, persistence_id TEXT NOT NULL, sequence_nr BIGINT NOT NULL, " +
            "manifest TEXT NOT NULL, payload BYTEA NOT NULL, created_at BIGINT NOT NULL, writer TEXT NOT NULL, is_deleted BOOLEAN NOT NULL DEFAULT false, " +
            $"CONSTRAINT {Names.Plain("journal_stream_seq")} UNIQUE (persistence_id, sequence_nr))",
            $"CREATE TABLE {Names.Snapshots} (persistence_id TEXT NOT NULL, sequence_nr BIGINT NOT NULL, created_at BIGINT NOT NULL, manifest TEXT NOT NULL, payload BYTEA NOT NULL, PRIMARY KEY (persistence_id, sequence_nr))",
            $"CREATE TABLE {Names.Leases} (name TEXT PRIMARY KEY, owner TEXT NOT NULL, epoch BIGINT NOT NULL, expires_at BIGINT NOT NULL)",
        ]),
        new(2, "serializer ids (null: the journal's own event serializer)",
        [
            $"ALTER TABLE {Names.Journal} ADD COLUMN serializer_id INTEGER",
            $"ALTER TABLE {Names.Snapshots} ADD COLUMN serializer_id INTEGER",
        ]),
    ];

    private protected override async Task InsertAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<AtomicWrite> writes, CancellationToken cancellationToken)
    {
        var count = writes.Sum(w => w.Events.Count);
        var ids = new string[count];
        var seqs = new long[count];
        var manifests = new string[count];
        var payloads = new byte[count][];
        var times = new long[count];
        var writers = new string[count];
        var serializers = new int?[count];
        var i = 0;
        foreach (var write in writes)
        {
            foreach (var e in write.Events)
            {
                ids[i] = e.PersistenceId;
                seqs[i] = e.SequenceNr;
                manifests[i] = e.Manifest;
                payloads[i] = e.Payload;
                times[i] = e.Timestamp.ToUnixTimeMilliseconds();
                writers[i] = e.WriterId;
                serializers[i] = e.SerializerId;
                i++;
            }
        }

        await using var command = new NpgsqlCommand(
            $"INSERT INTO {Names.Journal} (persistence_id, sequence_nr, manifest, payload, created_at, writer, serializer_id) " +
            "SELECT * FROM unnest(@p, @s, @m, @b, @t, @w, @z)",
            (NpgsqlConnection)connection,
            (NpgsqlTransaction)transaction);
        command.Parameters.Add(new NpgsqlParameter<string[]>("p", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = ids });
        command.Parameters.Add(new NpgsqlParameter<long[]>("s", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { TypedValue = seqs });
        command.Parameters.Add(new NpgsqlParameter<string[]>("m", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = manifests });
        command.Parameters.Add(new NpgsqlParameter<byte[][]>("b", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { TypedValue = payloads });
        command.Parameters.Add(new NpgsqlParameter<long[]>("t", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { TypedValue = times });
        command.Parameters.Add(new NpgsqlParameter<string[]>("w", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = writers });
        command.Parameters.Add(new NpgsqlParameter<int?[]>("z", NpgsqlDbType.Array | NpgsqlDbType.Integer) { TypedValue = serializers });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private protected override async Task<HashSet<WriteFence>> FailedFencesAsync(DbConnection connection, DbTransaction transaction, IReadOnlyCollection<WriteFence> fences, CancellationToken cancellationToken)
    {
        // FOR SHARE holds the lease rows until commit: a takeover (an UPDATE of the row) waits for this batch,
        // so no write can land after a new owner's epoch is in place.
        await using var command = new NpgsqlCommand(
            $"SELECT name, owner, epoch FROM {Names.Leases} WHERE name = ANY(@n) AND expires_at > {NowMillis} FOR SHARE",
            (NpgsqlConnection)connection,
            (NpgsqlTransaction)transaction);
        command.Parameters.Add(new NpgsqlParameter<string[]>("n", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. fences.Select(f => f.LeaseName).Distinct()] });
        var live = new HashSet<WriteFence>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                live.Add(new WriteFence(reader.GetString(0), reader.GetString(1), reader.GetInt64(2)));
            }
        }

        return [.. fences.Where(f => !live.Contains(f))];
    }

    private protected override bool IsUniqueViolation(DbException error) =>
        error is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    private protected override async ValueTask DisposeCoreAsync()
    {
        if (_ownsDataSource)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }
    }
}
