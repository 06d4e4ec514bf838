using System.Data.Common;
using Jobs.Persistence.Journal;
using Jobs.Persistence.Sql;
using Npgsql;
using NpgsqlTypes;

namespace Jobs.Persistence.Postgres;

/// <summary>
/// The cluster's journal on PostgreSQL: each batch is one multi-row INSERT (unnest of arrays) in one transaction,
/// several batches in flight at once, fences checked under the leases' advisory locks until commit. Requires
/// synchronous_commit on (checked at start-up).
/// </summary>
public sealed class PostgresJournal : SqlJournal
{
    /// <summary>PostgreSQL's clock in unix milliseconds (lease expiry is judged by it).</summary>
    internal const string NowMillis = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;

    /// <summary>Creates a journal on <paramref name="dataSource"/> in <paramref name="schema"/>.</summary>
    public PostgresJournal(
        NpgsqlDataSource dataSource,
        JournalOptions? options = null,
        string schema = "public",
        string tablePrefix = "jobs_",
        IReadOnlyList<IWriteParticipant>? participants = null,
        bool ownsDataSource = false
    )
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
        ((NpgsqlCommand)command).Parameters.Add(
            new NpgsqlParameter<string[]>("names", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = [.. names] }
        );
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
            throw new InvalidOperationException(
                $"PostgreSQL synchronous_commit is '{value}'; 'on' (or remote_write/remote_apply) is required for durable commits"
            );
        }
    }

    private protected override IReadOnlyList<Migration> JournalMigrations() =>
        [
            new(
                1,
                "journal, snapshots and leases",
                [
                    $"CREATE TABLE {Names.Journal} (ordering BIGSERIAL PRIMARY KEY, persistence_id TEXT NOT NULL, sequence_nr BIGINT NOT NULL, "
                        + "manifest TEXT NOT NULL, payload BYTEA NOT NULL, created_at BIGINT NOT "
                        + "NULL, writer TEXT NOT NULL, is_deleted BOOLEAN NOT NULL DEFAULT false, "
                        + $"CONSTRAINT {Names.Plain("journal_stream_seq")} UNIQUE (persistence_id, sequence_nr))",
                    $"CREATE TABLE {Names.Snapshots} (persistence_id TEXT NOT NULL, sequence_nr BIGINT NOT NULL, created_at "
                        + "BIGINT NOT NULL, manifest TEXT NOT NULL, payload BYTEA NOT NULL, PRIMARY KEY (persistence_id, sequence_nr))",
                    $"CREATE TABLE {Names.Leases} (name TEXT PRIMARY KEY, owner TEXT NOT NULL, epoch BIGINT NOT NULL, expires_at BIGINT NOT NULL)",
                ]
            ),
            new(
                2,
                "serializer ids (null: the journal's own event serializer)",
                [$"ALTER TABLE {Names.Journal} ADD COLUMN serializer_id INTEGER", $"ALTER TABLE {Names.Snapshots} ADD COLUMN serializer_id INTEGER"]
            ),
        ];

    private protected override async Task InsertAsync(
        DbConnection connection,
        DbTransaction transaction,
        IReadOnlyList<AtomicWrite> writes,
        CancellationToken cancellationToken
    )
    {
        await using var command = new NpgsqlCommand(
            $"INSERT INTO {Names.Journal} (persistence_id, sequence_nr, manifest, payload, created_at, writer, serializer_id) "
                + "SELECT * FROM unnest(@p, @s, @m, @b, @t, @w, @z)",
            (NpgsqlConnection)connection,
            (NpgsqlTransaction)transaction
        );
        AddEventArrays(command.Parameters, writes, withFences: false);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private protected override bool InsertChecksFences => true;

    private protected override async Task<bool> InsertCheckingFencesAsync(
        DbConnection connection,
        DbTransaction transaction,
        IReadOnlyList<AtomicWrite> writes,
        CancellationToken cancellationToken
    )
    {
        // One round trip for two statements. The first takes each lease's advisory lock shared until commit (see
        // FailedFencesAsync); the second, whose snapshot is taken after those locks are held, inserts the events of
        // every write whose fence holds. Fewer rows than events: a fence failed, and the caller rolls back.
        await using var batch = new NpgsqlBatch((NpgsqlConnection)connection, (NpgsqlTransaction)transaction);
        string[] leases = [.. writes.Select(w => w.Fence?.LeaseName).OfType<string>().Distinct().OrderBy(n => n, StringComparer.Ordinal)];
        var lockNames = LockLeasesShared(leases);

        // The live holdings are read once (a hashed subquery), not once per row.
        var insert = new NpgsqlBatchCommand(
            $"INSERT INTO {Names.Journal} (persistence_id, sequence_nr, manifest, payload, created_at, writer, serializer_id) "
                + "SELECT u.p, u.s, u.m, u.b, u.t, u.w, u.z FROM unnest(@p, @s, @m, @b, "
                + "@t, @w, @z, @fn, @fo, @fe) AS u(p, s, m, b, t, w, z, fn, fo, fe) "
                + "WHERE u.fn IS NULL OR (u.fn, u.fo, u.fe) IN (SELECT name, owner, epoch "
                + $"FROM {Names.Leases} WHERE name = ANY(@n) AND expires_at > {NowMillis})"
        );
        var events = AddEventArrays(insert.Parameters, writes, withFences: true);
        insert.Parameters.Add(new NpgsqlParameter<string[]>("n", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = leases });
        batch.BatchCommands.Add(lockNames);
        batch.BatchCommands.Add(insert);
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return insert.RecordsAffected == events;
    }

    /// <summary>
    /// The events of <paramref name="writes"/> as one array parameter per column (and per fence field); returns the
    /// number of events.
    /// </summary>
    private static int AddEventArrays(NpgsqlParameterCollection parameters, IReadOnlyList<AtomicWrite> writes, bool withFences)
    {
        var count = writes.Sum(w => w.Events.Count);
        var ids = new string[count];
        var seqs = new long[count];
        var manifests = new string[count];
        var payloads = new byte[count][];
        var times = new long[count];
        var writers = new string[count];
        var serializers = new int?[count];
        var fenceNames = new string?[count];
        var fenceOwners = new string?[count];
        var fenceEpochs = new long?[count];
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
                fenceNames[i] = write.Fence?.LeaseName;
                fenceOwners[i] = write.Fence?.Owner;
                fenceEpochs[i] = write.Fence?.Epoch;
                i++;
            }
        }

        parameters.Add(new NpgsqlParameter<string[]>("p", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = ids });
        parameters.Add(new NpgsqlParameter<long[]>("s", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { TypedValue = seqs });
        parameters.Add(new NpgsqlParameter<string[]>("m", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = manifests });
        parameters.Add(new NpgsqlParameter<byte[][]>("b", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { TypedValue = payloads });
        parameters.Add(new NpgsqlParameter<long[]>("t", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { TypedValue = times });
        parameters.Add(new NpgsqlParameter<string[]>("w", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = writers });
        parameters.Add(new NpgsqlParameter<int?[]>("z", NpgsqlDbType.Array | NpgsqlDbType.Integer) { TypedValue = serializers });
        if (withFences)
        {
            parameters.Add(new NpgsqlParameter<string?[]>("fn", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = fenceNames });
            parameters.Add(new NpgsqlParameter<string?[]>("fo", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = fenceOwners });
            parameters.Add(new NpgsqlParameter<long?[]>("fe", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { TypedValue = fenceEpochs });
        }

        return count;
    }

    private protected override async Task<HashSet<WriteFence>> FailedFencesAsync(
        DbConnection connection,
        DbTransaction transaction,
        IReadOnlyCollection<WriteFence> fences,
        CancellationToken cancellationToken
    )
    {
        // Two statements in one round trip. The first takes each lease's advisory lock shared until commit: a
        // takeover takes it exclusively (TakeOverLockSql), so it waits for this batch, and this batch waits for a
        // takeover in progress. The second reads the rows with a snapshot taken after the locks are held, so it sees
        // any takeover that committed before. Shared advisory locks live in the lock manager alone: unlike row locks
        // (FOR SHARE), several batches holding them at once write nothing to the lease rows.
        await using var batch = new NpgsqlBatch((NpgsqlConnection)connection, (NpgsqlTransaction)transaction);
        var names = fences.Select(f => f.LeaseName).Distinct().OrderBy(n => n, StringComparer.Ordinal).ToArray();
        var lockNames = LockLeasesShared(names);
        var read = new NpgsqlBatchCommand($"SELECT name, owner, epoch FROM {Names.Leases} WHERE name = ANY(@n) AND expires_at > {NowMillis}");
        read.Parameters.Add(new NpgsqlParameter<string[]>("n", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = names });
        batch.BatchCommands.Add(lockNames);
        batch.BatchCommands.Add(read);
        var live = new HashSet<WriteFence>();
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                live.Add(new WriteFence(reader.GetString(0), reader.GetString(1), reader.GetInt64(2)));
            }
        }

        return [.. fences.Where(f => !live.Contains(f))];
    }

    /// <summary>
    /// A statement taking the advisory lock of each of <paramref name="names"/> shared until commit, in the order given
    /// (callers sort them, so that two batches never wait for each other's locks in opposite orders).
    /// </summary>
    private static NpgsqlBatchCommand LockLeasesShared(string[] names)
    {
        var command = new NpgsqlBatchCommand($"SELECT count(pg_advisory_xact_lock_shared({LeaseLockKey("n")})) FROM unnest(@n) AS n");
        command.Parameters.Add(new NpgsqlParameter<string[]>("n", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = names });
        return command;
    }

    private protected override string TakeOverLockSql => $"SELECT pg_advisory_xact_lock({LeaseLockKey("@n")})";

    /// <inheritdoc />
    private protected override string TakeOverTryLockSql => $"SELECT pg_try_advisory_xact_lock({LeaseLockKey("@n")})";

    /// <summary>
    /// The advisory-lock key of the lease named by SQL expression <paramref name="name"/> (a 64-bit hash; a collision
    /// only makes two leases wait for each other).
    /// </summary>
    private static string LeaseLockKey(string name) => $"hashtextextended({name}, 7402)";

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
