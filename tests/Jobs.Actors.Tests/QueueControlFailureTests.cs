using Jobs.Client;
using Jobs.Testing;
using Npgsql;

namespace Jobs.Actors.Tests;

/// <summary>
/// A pause or resume whose write fails is reported to the caller as a storage failure (not a timeout), changes
/// nothing, and the queue's control comes back: once storage works again, pausing works and holds.
/// </summary>
public sealed class QueueControlFailureTests
{
    [Fact]
    public async Task FailedPause_IsReported_ChangesNothing_AndTheControlComesBack()
    {
        var connectionString = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("queuecontrol");
        await using var node = await TestNode.StartAsync(
            Backend.Postgres,
            manualClock: false,
            storageConfig: $"jobs.persistence {{ backend = postgresql, postgresql.connection-string = \"{connectionString}\" }}"
        );
        await ExecuteAsync(
            connectionString,
            """
            CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'poisoned'; END $$ LANGUAGE plpgsql;
            CREATE TRIGGER poison BEFORE INSERT ON jobs_journal FOR EACH ROW WHEN (NEW.persistence_id = 'queue-slow') EXECUTE FUNCTION poison();
            """
        );

        var started = DateTime.UtcNow;
        var error = await Assert.ThrowsAsync<JobsException>(() => node.Client.PauseQueueAsync("slow"));
        Assert.Equal("storage-failure", error.ErrorCode);
        Assert.Contains("slow", error.Message);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5), "the failure must be reported, not left to a timeout");
        Assert.False((await node.Client.ListQueuesAsync()).Single(q => q.Name == "slow").Paused);
        await node.Client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoPayload("x")) with { JobId = "runs", Queue = "slow" });
        await node.WaitForStatusAsync("runs", JobStatus.Succeeded);

        await ExecuteAsync(connectionString, "DROP TRIGGER poison ON jobs_journal");
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            try
            {
                await node.Client.PauseQueueAsync("slow"); // the restarted control (after its backoff) takes it
                break;
            }
            catch (JobsException ex) when (ex.ErrorCode == "storage-failure" && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }

        Assert.True((await node.Client.ListQueuesAsync()).Single(q => q.Name == "slow").Paused);
        await node.Client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoPayload("x")) with { JobId = "held", Queue = "slow" });
        await Task.Delay(500);
        Assert.Equal(0, node.Log.Runs("held"));
        await node.Client.ResumeQueueAsync("slow");
        await node.WaitForStatusAsync("held", JobStatus.Succeeded);
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
