using Jobs.Client;
using Jobs.Testing;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Jobs.Actors.Tests;

/// <summary>ScheduleMany is one durable write: when storage refuses one job of a batch, none of the batch is stored.</summary>
public abstract class BatchAtomicitySpec(Backend backend)
{
    /// <summary>Makes storage refuse writes of the job "poison" (a trigger), as a failing disk or constraint would.</summary>
    protected abstract Task PoisonAsync(string storage);

    protected abstract Task<(string Storage, string Directory)> StorageAsync();

    [Fact]
    public async Task AStorageFailure_StoresNoneOfTheBatch_PerItemErrors_ThenABatchWithoutItStoresAll()
    {
        var (storage, directory) = await StorageAsync();
        await using var node = await TestNode.StartAsync(backend, manualClock: false, storageConfig: storage);
        await PoisonAsync(storage);
        var batch = Enumerable
            .Range(0, 200)
            .Select(i =>
                ScheduleRequest.Create("echo", new EchoPayload("b")) with
                {
                    JobId = i == 137 ? "poison" : $"b{i}",
                    Delay = TimeSpan.FromHours(1),
                }
            )
            .ToList();
        var results = await node.Client.ScheduleManyAsync(batch);
        Assert.Equal(200, results.Count);
        Assert.All(results, r => Assert.Equal("storage-failure", r.Error?.ErrorCode));
        var counts = await node.Client.CountAsync(new JobQuery());
        Assert.Equal(0, counts.Values.Sum());
        await Assert.ThrowsAsync<JobNotFoundException>(() => node.Client.GetAsync("b0"));

        batch.RemoveAt(137);
        batch.Add(batch[0]); // a repeated id within one batch: the later item reports the earlier one's job
        batch.Add(new ScheduleRequest { Kind = "no-such-kind" });
        results = await node.Client.ScheduleManyAsync(batch);
        Assert.All(results.Take(199), r => Assert.False(r.Result!.AlreadyExisted));
        Assert.True(results[199].Result!.AlreadyExisted);
        Assert.Equal("b0", results[199].Result!.JobId);
        Assert.Equal("kind", Assert.IsType<JobValidationException>(results[200].Error).Field);
        Assert.Equal(199, (await node.Client.CountAsync(new JobQuery()))[JobStatus.Scheduled]);
        SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }
}

public sealed class SqliteBatchAtomicityTests() : BatchAtomicitySpec(Backend.Sqlite)
{
    private string _path = null!;

    protected override async Task<(string Storage, string Directory)> StorageAsync()
    {
        var directory = Directory.CreateTempSubdirectory("jobs-batch-").FullName;
        _path = Path.Combine(directory, "jobs.db");
        return (await TestNode.StorageConfigAsync(Backend.Sqlite, directory), directory);
    }

    protected override async Task PoisonAsync(string storage)
    {
        await using var connection = new SqliteConnection($"Data Source={_path}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText =
            "CREATE TRIGGER poison BEFORE INSERT ON jobs_journal WHEN NEW.persistence_id = 'job-poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END;";
        await command.ExecuteNonQueryAsync();
    }
}

public sealed class PostgresBatchAtomicityTests() : BatchAtomicitySpec(Backend.Postgres)
{
    private string _connectionString = null!;

    protected override async Task<(string Storage, string Directory)> StorageAsync()
    {
        _connectionString = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("batch");
        return (
            $"jobs.persistence {{ backend = postgresql, postgresql.connection-string = \"{_connectionString}\" }}",
            Directory.CreateTempSubdirectory("jobs-batch-").FullName
        );
    }

    protected override async Task PoisonAsync(string storage)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'poisoned'; END $$ LANGUAGE plpgsql;
            CREATE TRIGGER poison BEFORE INSERT ON jobs_journal FOR EACH ROW WHEN (NEW.persistence_id = 'job-poison') EXECUTE FUNCTION poison();
            """,
            connection
        );
        await command.ExecuteNonQueryAsync();
    }
}
