using System.Diagnostics;
using Jobs.Client;
using Jobs.Testing;
using Npgsql;

namespace Jobs.Actors.Tests;

/// <summary>
/// The scheduler after its passes failed (its index unreadable for a moment): due jobs start soon after it is readable
/// again, not after the scheduler's longest sleep.
/// </summary>
public sealed class SchedulerRecoveryTests
{
    [Fact]
    public async Task PassesThatFailed_AreRetriedWithinSeconds_NotAfterTheLongestSleep()
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("jobs");
        await using var node = await TestNode.StartAsync(
            Backend.Postgres,
            manualClock: false,
            storageConfig: $"jobs.persistence {{ backend = postgresql, postgresql.connection-string = \"{database}\" }}",
            extraConfig: "jobs.scheduler.max-sleep = 1h"
        );
        var id = (
            await node.Client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoPayload("after")) with { Delay = TimeSpan.FromSeconds(2) })
        ).JobId;

        // The index cannot be read when the job falls due (the journal still can: the node does not count itself cut
        // off from the database, which would wake the scheduler when it is back): the pass that would wake it fails.
        await using var admin = new NpgsqlConnection(database);
        await admin.OpenAsync();
        await using (var away = new NpgsqlCommand("ALTER TABLE jobs_job_index RENAME TO jobs_job_index_away", admin))
        {
            await away.ExecuteNonQueryAsync();
        }

        await Task.Delay(TimeSpan.FromSeconds(3.5));
        await using (var back = new NpgsqlCommand("ALTER TABLE jobs_job_index_away RENAME TO jobs_job_index", admin))
        {
            await back.ExecuteNonQueryAsync();
        }

        var readable = Stopwatch.StartNew();
        var info = await node.WaitForStatusAsync(id, JobStatus.Succeeded, TimeSpan.FromSeconds(20));
        Assert.Single(info.Attempts);
        Assert.True(readable.Elapsed < TimeSpan.FromSeconds(15), $"the job succeeded {readable.Elapsed} after the index was back");
        Assert.Contains(node.LogLines, l => l.Contains("Scheduler pass failed", StringComparison.Ordinal)); // the fault was the one meant
    }

    [Fact]
    public void TheRetryAfterFailedPasses_StartsAtOneSecond_DoublesAndStopsAtTheLongestSleep()
    {
        var maxSleep = TimeSpan.FromSeconds(5);
        Assert.Equal([1, 2, 4, 5, 5], Enumerable.Range(1, 5).Select(n => Scheduling.Scheduler.RetryDelay(n, maxSleep).TotalSeconds).ToArray());
        Assert.Equal(TimeSpan.FromMilliseconds(200), Scheduling.Scheduler.RetryDelay(1, TimeSpan.FromMilliseconds(200)));
        Assert.Equal(TimeSpan.FromHours(1), Scheduling.Scheduler.RetryDelay(1000, TimeSpan.FromHours(1)));
    }
}
