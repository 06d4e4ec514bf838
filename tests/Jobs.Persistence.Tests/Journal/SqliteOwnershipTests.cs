using Jobs.Persistence.Sqlite;
using Microsoft.Data.Sqlite;

namespace Jobs.Persistence.Tests.Journal;

/// <summary>One owner per embedded database file, in one process as across processes (CrashTests covers a killed owner).</summary>
public sealed class SqliteOwnershipTests
{
    [Fact]
    public async Task SecondJournalOnTheSameFile_IsRefused_UntilTheFirstIsDisposed()
    {
        var directory = Directory.CreateTempSubdirectory("jobs-owner-").FullName;
        try
        {
            var path = Path.Combine(directory, "owned.db");
            var first = new SqliteJournal(path);
            await first.StartAsync(CancellationToken.None);
            await using (var second = new SqliteJournal(path))
            {
                var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => second.StartAsync(CancellationToken.None));
                Assert.Contains(path, refused.Message, StringComparison.Ordinal);
            }

            await first.DisposeAsync();
            await using var third = new SqliteJournal(path);
            await third.StartAsync(CancellationToken.None);
            Assert.Equal(0, await third.ReadHighestSequenceNrAsync("any", CancellationToken.None));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }
}
