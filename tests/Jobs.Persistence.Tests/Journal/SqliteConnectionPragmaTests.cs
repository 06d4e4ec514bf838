using Jobs.Persistence.Sqlite;
using Microsoft.Data.Sqlite;

namespace Jobs.Persistence.Tests.Journal;

/// <summary>
/// The journal's connections: its pragmas are set once per database connection, which the pool keeps (the same
/// handle) with the pragmas in force.
/// </summary>
public sealed class SqliteConnectionPragmaTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"jobs-pragma-{Guid.NewGuid():N}.db");

    private string ConnectionString => new SqliteConnectionStringBuilder { DataSource = _path }.ToString();

    [Fact]
    public async Task AConnectionOpenedAgainFromThePool_KeepsThePragmas_AndANewOneGetsThem()
    {
        SQLitePCL.sqlite3 first;
        await using (var connection = await SqliteJournal.OpenAsync(ConnectionString, CancellationToken.None))
        {
            first = connection.Handle!;
            Assert.Equal((2L, 1L), await PragmasAsync(connection)); // synchronous = FULL, foreign_keys = ON
        }

        await using (var again = await SqliteJournal.OpenAsync(ConnectionString, CancellationToken.None))
        {
            Assert.Same(first, again.Handle); // the pool's connection, whose pragmas are not set again
            Assert.Equal((2L, 1L), await PragmasAsync(again));
            SqliteConnection.ClearPool(again);
        }

        await using var fresh = await SqliteJournal.OpenAsync(ConnectionString, CancellationToken.None);
        Assert.NotSame(first, fresh.Handle);
        Assert.Equal((2L, 1L), await PragmasAsync(fresh));
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        foreach (var file in new[] { _path, _path + "-wal", _path + "-shm" })
        {
            File.Delete(file);
        }
    }

    private static async Task<(long Synchronous, long ForeignKeys)> PragmasAsync(SqliteConnection connection)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA synchronous";
        var synchronous = (long)(await command.ExecuteScalarAsync())!;
        command.CommandText = "PRAGMA foreign_keys";
        return (synchronous, (long)(await command.ExecuteScalarAsync())!);
    }
}
