using Jobs.Persistence.Postgres;
using Jobs.Testing;
using Npgsql;

namespace Jobs.Persistence.Tests.Journal;

/// <summary>
/// Nodes of a cluster start together on a fresh database: each migrates it, and all of them must start. Found by
/// starting three nodes at once (scripts/three-nodes.sh): two failed with a duplicate key in pg_namespace, because
/// creating the schema came before the migration lock.
/// </summary>
public sealed class MigrationRaceTests
{
    [Fact]
    public async Task JournalsStartingTogether_OnAFreshDatabaseWithItsOwnSchema_AllStart()
    {
        var connectionString = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("race");
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var journals = Enumerable.Range(0, 6).Select(_ => new PostgresJournal(dataSource, schema: "jobs_race")).ToList();
        try
        {
            using var go = new SemaphoreSlim(0);
            var starts = journals
                .Select(j =>
                    Task.Run(async () =>
                    {
                        await go.WaitAsync();
                        await j.StartAsync(CancellationToken.None);
                    })
                )
                .ToList();
            go.Release(journals.Count);
            await Task.WhenAll(starts);
            Assert.Equal(0, await journals[^1].ReadHighestSequenceNrAsync("nothing-yet", CancellationToken.None));
        }
        finally
        {
            foreach (var journal in journals)
            {
                await journal.DisposeAsync();
            }
        }
    }
}
