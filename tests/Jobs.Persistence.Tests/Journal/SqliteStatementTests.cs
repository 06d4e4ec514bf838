using Jobs.Persistence.Sqlite;
using Microsoft.Data.Sqlite;

namespace Jobs.Persistence.Tests.Journal;

/// <summary>The writer's prepared statements: reuse, errors, and waiting for a table another connection holds.</summary>
public sealed class SqliteStatementTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"jobs-statement-{Guid.NewGuid():N}.db");

    private string ConnectionString => new SqliteConnectionStringBuilder { DataSource = _path, Pooling = false }.ToString();

    [Fact]
    public async Task AStatementIsPreparedOncePerConnection_RunsInItsTransaction_AndIsFinalizedWhenTheConnectionCloses()
    {
        await using var connection = await OpenWithTableAsync();
        var first = SqliteStatement.For(connection, "INSERT INTO t (id, name) VALUES (?1, ?2)");
        Assert.Same(first, SqliteStatement.For(connection, "INSERT INTO t (id, name) VALUES (?1, ?2)"));
        Assert.Equal(2, first.ParameterCount);

        await using (var transaction = await connection.BeginTransactionAsync())
        {
            first.Bind(1, 1L);
            first.Bind(2, "one");
            Assert.Equal(1, first.Execute());
            await transaction.RollbackAsync();
        }

        Assert.Equal(0L, await CountAsync(connection)); // it ran in the transaction that was rolled back
        await connection.CloseAsync();
        await connection.OpenAsync();
        var second = SqliteStatement.For(connection, "INSERT INTO t (id, name) VALUES (?1, ?2)");
        Assert.NotSame(first, second); // the first was finalized with the closed connection
        second.Bind(1, 2L);
        second.Bind(2, (string?)null);
        Assert.Equal(1, second.Execute());
        Assert.Equal(1L, await CountAsync(connection));
    }

    [Fact]
    public async Task AUniqueViolation_IsASqliteExceptionWithCode19_AndTheStatementRunsAgainAfterIt()
    {
        await using var connection = await OpenWithTableAsync();
        var insert = SqliteStatement.For(connection, "INSERT INTO t (id, name) VALUES (?1, ?2)");
        insert.Bind(1, 1L);
        insert.Bind(2, "one");
        insert.Execute();
        insert.Bind(1, 1L);
        insert.Bind(2, "again");
        var error = Assert.Throws<SqliteException>(() => insert.Execute());
        Assert.Equal(19, error.SqliteErrorCode);
        Assert.Contains("UNIQUE", error.Message, StringComparison.Ordinal);
        insert.Bind(1, 2L);
        insert.Bind(2, "two");
        Assert.Equal(1, insert.Execute());
        Assert.Equal(2L, await CountAsync(connection));
    }

    [Fact]
    public async Task ARunWaitsForAWriteLockAnotherConnectionHolds_InsteadOfFailingBusy()
    {
        // A command waits for a busy database (up to its timeout); a prepared statement must too: the in-memory
        // journal's index (a shared-cache database) found its upserts refused while a reader held the table.
        await using var connection = await OpenWithTableAsync();
        await using var other = new SqliteConnection(ConnectionString);
        await other.OpenAsync();
        await using var holding = other.BeginTransaction(deferred: false); // BEGIN IMMEDIATE: the write lock
        await using (var write = other.CreateCommand())
        {
            write.Transaction = holding;
            write.CommandText = "INSERT INTO t (id, name) VALUES (100, 'holder')";
            await write.ExecuteNonQueryAsync();
        }

        var insert = SqliteStatement.For(connection, "INSERT INTO t (id, name) VALUES (?1, ?2)");
        insert.Bind(1, 1L);
        insert.Bind(2, "waited");
        var released = Task.Run(async () =>
        {
            await Task.Delay(300);
            await holding.CommitAsync();
        });
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(1, insert.Execute());
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(200), $"ran after {watch.ElapsedMilliseconds} ms, while the lock was held");
        await released;
        Assert.Equal(2L, await CountAsync(connection));
    }

    public void Dispose()
    {
        foreach (var file in new[] { _path, _path + "-wal", _path + "-shm" })
        {
            File.Delete(file);
        }
    }

    private async Task<SqliteConnection> OpenWithTableAsync()
    {
        var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync();
        await using var create = connection.CreateCommand();
        create.CommandText = "PRAGMA journal_mode = WAL; CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, name TEXT)";
        await create.ExecuteNonQueryAsync();
        return connection;
    }

    private static async Task<long> CountAsync(SqliteConnection connection)
    {
        await using var count = connection.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM t";
        return (long)(await count.ExecuteScalarAsync())!;
    }
}
