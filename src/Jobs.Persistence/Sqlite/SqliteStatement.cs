using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Jobs.Persistence.Sqlite;

/// <summary>
/// A statement prepared once per connection and run many times with its parameters bound by position: the journal
/// writer's hot statements (an event insert, a job-index upsert per write). A command bound by name looks every
/// parameter's name up and converts it on each execution, and is prepared again for every batch; this keeps one
/// prepared statement for as long as the connection is open and binds values by index. It runs on whatever
/// transaction the connection has open.
/// </summary>
public sealed class SqliteStatement : IDisposable
{
    private static readonly ConditionalWeakTable<SqliteConnection, Dictionary<string, SqliteStatement>> Cache = new();

    /// <summary>How long a run waits for a table another connection holds (a command's default timeout, 30 s).</summary>
    private const int BusyTimeoutMs = 30_000;

    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _statement;
    private readonly int _parameters;

    private SqliteStatement(SqliteConnection connection, string sql)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("the SQLite connection is not open");
        var rc = raw.sqlite3_prepare_v2(_db, sql, out _statement);
        if (rc != raw.SQLITE_OK)
        {
            throw Error(rc);
        }

        _parameters = raw.sqlite3_bind_parameter_count(_statement);
    }

    /// <summary>
    /// The statement for <paramref name="sql"/> on <paramref name="connection"/> (open), prepared at its first use and
    /// finalized when the connection closes. Not thread-safe: one connection is used by one thread at a time.
    /// </summary>
    public static SqliteStatement For(SqliteConnection connection, string sql)
    {
        var statements = Cache.GetValue(connection, c =>
        {
            var created = new Dictionary<string, SqliteStatement>(StringComparer.Ordinal);
            c.StateChange += (_, change) =>
            {
                if (change.CurrentState == System.Data.ConnectionState.Closed)
                {
                    foreach (var statement in created.Values)
                    {
                        statement.Dispose();
                    }

                    created.Clear();
                }
            };
            return created;
        });
        if (!statements.TryGetValue(sql, out var found))
        {
            found = new SqliteStatement(connection, sql);
            statements[sql] = found;
        }

        return found;
    }

    /// <summary>Binds an integer to parameter <paramref name="index"/> (1-based, in the order the SQL names them).</summary>
    public void Bind(int index, long value) => Check(raw.sqlite3_bind_int64(_statement, index, value));

    /// <summary>Binds a string, or NULL when <paramref name="value"/> is null, to parameter <paramref name="index"/>.</summary>
    public void Bind(int index, string? value) =>
        Check(value is null ? raw.sqlite3_bind_null(_statement, index) : raw.sqlite3_bind_text(_statement, index, value));

    /// <summary>Binds an integer, or NULL when <paramref name="value"/> is null, to parameter <paramref name="index"/>.</summary>
    public void Bind(int index, long? value) =>
        Check(value is { } v ? raw.sqlite3_bind_int64(_statement, index, v) : raw.sqlite3_bind_null(_statement, index));

    /// <summary>Binds a blob to parameter <paramref name="index"/>.</summary>
    public void Bind(int index, byte[] value) => Check(raw.sqlite3_bind_blob(_statement, index, value));

    /// <summary>
    /// Runs the statement with the values bound since its last run (every parameter must be bound each time) and
    /// readies it for the next; the rows it changed. A failure is a <see cref="SqliteException"/> with SQLite's code
    /// (a UNIQUE violation is <c>SQLITE_CONSTRAINT</c>, 19), as from a command.
    /// </summary>
    public int Execute()
    {
        // A table another connection holds (SQLITE_BUSY, or SQLITE_LOCKED in a shared-cache database) is waited for,
        // as a command would, up to the connection's default timeout; the bound values stay bound across the retry.
        var rc = raw.sqlite3_step(_statement);
        var waited = 0;
        for (var pause = 1; (rc & 0xFF) is raw.SQLITE_BUSY or raw.SQLITE_LOCKED && waited < BusyTimeoutMs; pause = Math.Min(pause * 2, 50))
        {
            raw.sqlite3_reset(_statement);
            Thread.Sleep(pause);
            waited += pause;
            rc = raw.sqlite3_step(_statement);
        }

        var error = rc is raw.SQLITE_DONE or raw.SQLITE_ROW ? null : Error(rc);
        raw.sqlite3_reset(_statement);
        raw.sqlite3_clear_bindings(_statement);
        if (error is not null)
        {
            throw error;
        }

        return raw.sqlite3_changes(_db);
    }

    /// <summary>How many parameters the statement has.</summary>
    public int ParameterCount => _parameters;

    /// <inheritdoc />
    public void Dispose() => _statement.Dispose();

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            throw Error(rc);
        }
    }

    private SqliteException Error(int rc) =>
        new($"SQLite Error {rc & 0xFF}: '{raw.sqlite3_errmsg(_db).utf8_to_string()}'.", rc & 0xFF, raw.sqlite3_extended_errcode(_db));
}
