using System.Data.Common;
using Jobs.Persistence.Journal;
using Jobs.Persistence.Sql;
using Microsoft.Data.Sqlite;

namespace Jobs.Persistence.Sqlite;

/// <summary>
/// The embedded node's journal: one SQLite file in WAL mode with synchronous=FULL (checked at start-up), one writer
/// connection that stores each batch in one transaction, pooled connections for reads.
/// </summary>
public sealed class SqliteJournal : SqlJournal
{
    /// <summary>SQLite's database clock in unix milliseconds (lease expiry is judged by it).</summary>
    internal const string NowMillis = "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)";

    private readonly string _connectionString;
    private readonly string _lockPath;
    private SqliteConnection? _writer;
    private FileStream? _ownership;

    /// <summary>Creates a journal on the database file at <paramref name="path"/> (created if missing).</summary>
    public SqliteJournal(
        string path,
        JournalOptions? options = null,
        string tablePrefix = "jobs_",
        IReadOnlyList<IWriteParticipant>? participants = null
    )
        : base(new SqlNames(SqlDialect.Sqlite, null, tablePrefix), (options ?? new JournalOptions()).Validate(), participants)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        _lockPath = Path.GetFullPath(path) + ".lock";
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    /// <inheritdoc />
    public override string Backend => "sqlite";

    /// <summary>The file beside the database whose exclusive lock makes this journal the database's one owner.</summary>
    public string LockPath => _lockPath;

    /// <summary>The connection string in use (for tools and tests).</summary>
    public string ConnectionString => _connectionString;

    private protected override string FalseLiteral => "0";

    private protected override string TrueLiteral => "1";

    private protected override string NowMillisSql => NowMillis;

    private protected override string NameIn(DbCommand command, IReadOnlyCollection<string> names)
    {
        var parameters = new List<string>(names.Count);
        foreach (var name in names)
        {
            var parameter = Parameter(command, "@name" + parameters.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
            parameter.Value = name;
            parameters.Add(parameter.ParameterName);
        }

        return $"name IN ({string.Join(", ", parameters)})";
    }

    private protected override int WriterParallelism => 1; // SQLite has one writer at a time anyway

    /// <summary>
    /// Opens a connection with the durability pragmas every connection of this journal uses. The pragmas are set once
    /// per database connection: a pooled connection keeps them, so opening it again from the pool runs no statement.
    /// </summary>
    public static async Task<SqliteConnection> OpenAsync(string connectionString, CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        var handle = connection.Handle;
        if (handle is not null && Configured.TryGetValue(handle, out _))
        {
            return connection;
        }

        await using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;";
        await pragma.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        if (handle is not null)
        {
            Configured.AddOrUpdate(handle, Marker);
        }

        return connection;
    }

    /// <summary>The database connections (kept by the pool across opens) whose pragmas are set.</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<SQLitePCL.sqlite3, object> Configured = [];

    private static readonly object Marker = new();

    private protected override async Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken) =>
        await OpenAsync(_connectionString, cancellationToken).ConfigureAwait(false);

    private protected override async Task<DbConnection> OpenWriterConnectionAsync(CancellationToken cancellationToken) =>
        _writer ??= await OpenAsync(_connectionString, cancellationToken).ConfigureAwait(false);

    private protected override ValueTask ReleaseWriterConnectionAsync(DbConnection connection) => ValueTask.CompletedTask; // kept for the next batch

    private protected override async Task CheckDurabilityAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode = WAL";
        var mode = (string?)await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(
                $"SQLite journal_mode is '{mode}' but WAL is required (in-memory databases cannot be used: use the memory journal)"
            );
        }

        command.CommandText = "PRAGMA synchronous";
        var synchronous = Convert.ToInt64(
            await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false),
            System.Globalization.CultureInfo.InvariantCulture
        );
        if (synchronous < 2)
        {
            throw new InvalidOperationException($"SQLite synchronous is {synchronous} but FULL (2) is required for durable commits");
        }
    }

    private protected override IReadOnlyList<Migration> JournalMigrations() =>
        [
            new(
                1,
                "journal, snapshots and leases",
                [
                    $"CREATE TABLE {Names.Journal} (ordering INTEGER PRIMARY KEY AUTOINCREMENT, "
                        + "persistence_id TEXT NOT NULL, sequence_nr INTEGER NOT NULL, "
                        + "manifest TEXT NOT NULL, payload BLOB NOT NULL, created_at INTEGER NOT "
                        + "NULL, writer TEXT NOT NULL, is_deleted INTEGER NOT NULL DEFAULT 0, "
                        + "UNIQUE (persistence_id, sequence_nr))",
                    $"CREATE TABLE {Names.Snapshots} (persistence_id TEXT NOT NULL, sequence_nr INTEGER NOT NULL, created_at "
                        + "INTEGER NOT NULL, manifest TEXT NOT NULL, payload BLOB NOT NULL, PRIMARY KEY (persistence_id, sequence_nr))",
                    $"CREATE TABLE {Names.Leases} (name TEXT PRIMARY KEY, owner TEXT NOT NULL, epoch INTEGER NOT NULL, expires_at INTEGER NOT NULL)",
                ]
            ),
            new(
                2,
                "serializer ids (null: the journal's own event serializer)",
                [$"ALTER TABLE {Names.Journal} ADD COLUMN serializer_id INTEGER", $"ALTER TABLE {Names.Snapshots} ADD COLUMN serializer_id INTEGER"]
            ),
        ];

    private protected override Task InsertAsync(
        DbConnection connection,
        DbTransaction transaction,
        IReadOnlyList<AtomicWrite> writes,
        CancellationToken cancellationToken
    )
    {
        // Prepared once per connection, bound by position (SqliteStatement); runs in the batch's transaction.
        var insert = SqliteStatement.For(
            (SqliteConnection)connection,
            $"INSERT INTO {Names.Journal} (persistence_id, sequence_nr, manifest, payload, "
                + "created_at, writer, serializer_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
        );
        foreach (var write in writes)
        {
            foreach (var e in write.Events)
            {
                cancellationToken.ThrowIfCancellationRequested();
                insert.Bind(1, e.PersistenceId);
                insert.Bind(2, e.SequenceNr);
                insert.Bind(3, e.Manifest);
                insert.Bind(4, e.Payload);
                insert.Bind(5, e.Timestamp.ToUnixTimeMilliseconds());
                insert.Bind(6, e.WriterId);
                insert.Bind(7, e.SerializerId);
                insert.Execute();
            }
        }

        return Task.CompletedTask;
    }

    private protected override async Task<HashSet<WriteFence>> FailedFencesAsync(
        DbConnection connection,
        DbTransaction transaction,
        IReadOnlyCollection<WriteFence> fences,
        CancellationToken cancellationToken
    )
    {
        var failed = new HashSet<WriteFence>();
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT COUNT(*) FROM {Names.Leases} WHERE name = @n AND owner = @o AND epoch = @e AND expires_at > {NowMillis}";
        var (n, o, e) = (Parameter(command, "@n"), Parameter(command, "@o"), Parameter(command, "@e"));
        foreach (var fence in fences)
        {
            n.Value = fence.LeaseName;
            o.Value = fence.Owner;
            e.Value = fence.Epoch;
            if (
                Convert.ToInt64(
                    await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false),
                    System.Globalization.CultureInfo.InvariantCulture
                ) == 0
            )
            {
                failed.Add(fence);
            }
        }

        return failed;
    }

    /// <summary>A named parameter added to <paramref name="command"/>, its value set per execution.</summary>
    private static DbParameter Parameter(DbCommand command, string name)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        command.Parameters.Add(parameter);
        return parameter;
    }

    // SQLITE_CONSTRAINT (UNIQUE on persistence_id, sequence_nr)
    private protected override bool IsUniqueViolation(DbException error) => error is SqliteException { SqliteErrorCode: 19 };

    /// <summary>
    /// An embedded database has one owner at a time: a second process on the same file would recover the first one's
    /// running attempts as lost and run them again. The lock is an operating-system lock on a file beside the
    /// database, so the kernel frees it when the process dies (a restart after kill -9 waits for nothing).
    /// </summary>
    private protected override void AcquireOwnership()
    {
        if (_ownership is not null)
        {
            return;
        }

        try
        {
            _ownership = new FileStream(_lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
        }
        catch (IOException ex)
        {
            throw new InvalidOperationException(
                $"the SQLite database '{_lockPath[..^5]}' is in use by another process "
                    + $"(it holds '{_lockPath}'): an embedded database has one owner at a time. "
                    + "Stop the other node, or give this one its own database file (several nodes share a PostgreSQL database).",
                ex
            );
        }
    }

    private protected override async ValueTask DisposeCoreAsync()
    {
        if (_writer is not null)
        {
            await _writer.DisposeAsync().ConfigureAwait(false);
        }

        SqliteConnection.ClearPool(new SqliteConnection(_connectionString));
        if (_ownership is not null)
        {
            await _ownership.DisposeAsync().ConfigureAwait(false);
            _ownership = null;
        }
    }
}
