using Jobs.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Jobs.Actors.Tests;

/// <summary>
/// Delayed jobs start on time whatever their due time's precision (issue 16, bug 3: jobs due at a fraction of a
/// millisecond were woken by the index, declined by their entity, and then waited for the scheduler's longest sleep).
/// </summary>
public sealed class DueTimeTests
{
    [Theory]
    [InlineData(Backend.Memory)]
    [InlineData(Backend.Sqlite)]
    public async Task JobDueAtAFractionOfAMillisecond_StartsWhenDue_NotAfterTheSchedulersLongestSleep(Backend backend)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var node = await TestNode.StartAsync(backend, clock: clock, extraConfig: "jobs.scheduler.max-sleep = 1h");
        var delay = TimeSpan.FromTicks(20_004_000); // 2000.4 ms
        var id = (await node.Client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoPayload("late?")) with { Delay = delay })).JobId;

        // Another job due on the whole millisecond makes the scheduler read the index in that millisecond, where both
        // are due at its precision: both run then (before, the first was declined by its entity for 0.4 ms and then
        // waited for the scheduler's longest sleep, here an hour of the test's clock, which never comes).
        var neighbour = (
            await node.Client.ScheduleAsync(
                ScheduleRequest.Create("echo", new EchoPayload("on time")) with
                {
                    Delay = TimeSpan.FromMilliseconds(2000),
                }
            )
        ).JobId;
        clock.Advance(TimeSpan.FromMilliseconds(1999));
        await Task.Delay(200);
        Assert.Equal(JobStatus.Scheduled, (await node.Client.GetAsync(id)).Status); // not due: nothing starts early
        clock.Advance(TimeSpan.FromMilliseconds(1));
        await node.WaitForStatusAsync(neighbour, JobStatus.Succeeded, TimeSpan.FromSeconds(10));
        var info = await node.WaitForStatusAsync(id, JobStatus.Succeeded, TimeSpan.FromSeconds(10));
        Assert.Equal((info.CreatedAt + delay).ToUnixTimeMilliseconds(), info.Attempts[0].StartedAt.ToUnixTimeMilliseconds());
    }

    [Theory]
    [InlineData("database", true)]
    [InlineData("local", false)]
    public async Task ANodeWhoseClockIs30sAhead_StartsAJobDueAtAnAbsoluteTime_ByTheDatabasesClock(string source, bool onTime)
    {
        // The database (PostgreSQL on this machine) has the true time; the node's own clock runs 30 s ahead.
        var skewed = new SkewedClock(TimeSpan.FromSeconds(30));
        await using var node = await TestNode.StartAsync(
            Backend.Postgres,
            manualClock: false,
            extraConfig: $"jobs.scheduler.clock = {source}",
            services: s => s.AddSingleton<TimeProvider>(skewed)
        );
        var runAt = DateTimeOffset.UtcNow.AddSeconds(4); // as a client with a correct clock asks
        var id = (await node.Client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoPayload("at 4 s")) with { RunAt = runAt })).JobId;
        var info = await node.WaitForStatusAsync(id, JobStatus.Succeeded, TimeSpan.FromSeconds(20));
        var succeededBy = DateTimeOffset.UtcNow;
        if (onTime)
        {
            // Not before its time, and recorded in the database's time (not 30 s ahead).
            Assert.True(succeededBy >= runAt, "the job ran before it was due");
            Assert.InRange(info.Attempts[0].StartedAt, runAt.AddMilliseconds(-50), runAt.AddSeconds(3));
            Assert.InRange(info.CreatedAt, runAt.AddSeconds(-6), runAt);
        }
        else
        {
            // The node's own clock says the job was due 26 s ago: it ran at once, early (what the database clock prevents).
            Assert.True(succeededBy < runAt, "with the node's own clock the job should have run early");
            Assert.True(info.Attempts[0].StartedAt > runAt.AddSeconds(20));
        }
    }

    /// <summary>The system clock shifted by a fixed amount (a machine whose clock is off).</summary>
    private sealed class SkewedClock(TimeSpan skew) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + skew;
    }
}
