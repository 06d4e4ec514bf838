using Jobs.Client;
using Jobs.Testing;
using Npgsql;

namespace Jobs.Actors.Tests;

/// <summary>
/// A job scheduled alone, due now, with a free slot in its queue: the schedule and the attempt's start are one write
/// (one transaction, seen through PostgreSQL's xmin). Without a free slot the schedule is stored alone and the job
/// waits as any due job does; a failed write is reported to the caller and leaves nothing behind.
/// </summary>
public sealed class ScheduleAndStartTests
{
    private static ScheduleRequest Echo(string id) => ScheduleRequest.Create("echo", new EchoPayload(id)) with { JobId = id };

    private static async Task<(string ConnectionString, TestNode Node)> StartAsync()
    {
        var connectionString = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("startwith");
        var node = await TestNode.StartAsync(
            Backend.Postgres,
            manualClock: false,
            storageConfig: $"jobs.persistence {{ backend = postgresql, postgresql.connection-string = \"{connectionString}\" }}"
        );
        return (connectionString, node);
    }

    /// <summary>The transaction id of each stored event of the job, in sequence order.</summary>
    private static async Task<List<(long SequenceNr, string Manifest, uint Transaction)>> EventsAsync(string connectionString, string jobId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT sequence_nr, manifest, xmin::text::bigint FROM jobs_journal WHERE persistence_id = @p ORDER BY sequence_nr",
            connection
        );
        command.Parameters.AddWithValue("p", "job-" + jobId);
        var rows = new List<(long, string, uint)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetInt64(0), reader.GetString(1), (uint)reader.GetInt64(2)));
        }

        return rows;
    }

    [Fact]
    public async Task WithAFreeSlot_ScheduleAndStartAreOneTransaction()
    {
        var (connectionString, node) = await StartAsync();
        await using var _ = node;
        var result = await node.Client.ScheduleAsync(Echo("together"));
        Assert.False(result.AlreadyExisted);
        var info = await node.WaitForStatusAsync("together", JobStatus.Succeeded);
        Assert.Equal(1, info.AttemptCount);
        Assert.Equal(1, node.Log.Runs("together"));

        var events = await EventsAsync(connectionString, "together");
        Assert.Equal(3, events.Count); // scheduled, started, ended
        Assert.Equal(events[0].Transaction, events[1].Transaction);
        Assert.NotEqual(events[1].Transaction, events[2].Transaction);
    }

    [Fact]
    public async Task WithoutAFreeSlot_TheScheduleIsStoredAlone_AndRunsWhenTheQueueResumes()
    {
        var (connectionString, node) = await StartAsync();
        await using var _ = node;
        await node.Client.PauseQueueAsync("default");
        await node.Client.ScheduleAsync(Echo("alone"));
        Assert.Equal(JobStatus.Queued, (await node.Client.GetAsync("alone")).Status);
        Assert.Single(await EventsAsync(connectionString, "alone"));

        await node.Client.ResumeQueueAsync("default");
        await node.WaitForStatusAsync("alone", JobStatus.Succeeded);
        var events = await EventsAsync(connectionString, "alone");
        Assert.Equal(3, events.Count);
        Assert.NotEqual(events[0].Transaction, events[1].Transaction);
        Assert.Equal(1, node.Log.Runs("alone"));
    }

    [Fact]
    public async Task AFailedWriteOfScheduleAndStart_IsReportedToTheCaller_AndStoresNothing()
    {
        var (connectionString, node) = await StartAsync();
        await using var _ = node;
        await using (var connection = new NpgsqlConnection(connectionString))
        {
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

        // The queue "slow" has one worker: the next job there runs only if the failed start gave that worker back.
        var error = await Assert.ThrowsAsync<JobsException>(() => node.Client.ScheduleAsync(Echo("poison") with { Queue = "slow" }));
        Assert.Equal("storage-failure", error.ErrorCode);
        Assert.Empty(await EventsAsync(connectionString, "poison"));
        await Assert.ThrowsAsync<JobNotFoundException>(() => node.Client.GetAsync("poison"));
        Assert.Equal(0, node.Log.Runs("poison"));

        // The queue's slot was given back at once (not by the pool's 30 s sweep of reservations never started).
        await node.Client.ScheduleAsync(Echo("after") with { Queue = "slow" });
        await node.WaitForStatusAsync("after", JobStatus.Succeeded, TimeSpan.FromSeconds(10));
    }
}
