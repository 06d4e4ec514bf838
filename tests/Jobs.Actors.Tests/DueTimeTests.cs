using Jobs.Client;
using Jobs.TestKit;

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
        var clock = new ManualTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var node = await TestNode.StartAsync(backend, clock: clock, extraConfig: "jobs.scheduler.max-sleep = 1h");
        var delay = TimeSpan.FromTicks(20_004_000); // 2000.4 ms
        var id = (await node.Client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoPayload("late?")) with { Delay = delay })).JobId;

        // Another job due on the whole millisecond makes the scheduler read the index in that millisecond, where both
        // are due at its precision: both run then (before, the first was declined by its entity for 0.4 ms and then
        // waited for the scheduler's longest sleep, here an hour of the test's clock, which never comes).
        var neighbour = (await node.Client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoPayload("on time")) with { Delay = TimeSpan.FromMilliseconds(2000) })).JobId;
        clock.Advance(TimeSpan.FromMilliseconds(1999));
        await Task.Delay(200);
        Assert.Equal(JobStatus.Scheduled, (await node.Client.GetAsync(id)).Status); // not due: nothing starts early
        clock.Advance(TimeSpan.FromMilliseconds(1));
        await node.WaitForStatusAsync(neighbour, JobStatus.Succeeded, TimeSpan.FromSeconds(10));
        var info = await node.WaitForStatusAsync(id, JobStatus.Succeeded, TimeSpan.FromSeconds(10));
        Assert.Equal((info.CreatedAt + delay).ToUnixTimeMilliseconds(), info.Attempts[0].StartedAt.ToUnixTimeMilliseconds());
    }
}
