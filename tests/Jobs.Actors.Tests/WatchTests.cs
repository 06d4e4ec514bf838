using Jobs.Client;

namespace Jobs.Actors.Tests;

/// <summary>Watch in process: one job's transitions from its current state to the end, filters, and lagging watchers.</summary>
public sealed class WatchTests
{
    [Fact]
    public async Task WatchOneJob_StartsWithCurrentState_EndsAfterTheFinalTransition()
    {
        await using var node = await TestNode.StartAsync(Backend.Memory);
        var id = (await node.Client.ScheduleAsync(ScheduleRequest.Create("fail", new FailPayload(1)) with { Delay = TimeSpan.FromMinutes(1) })).JobId;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var seen = new List<JobTransition>();
        var watching = Task.Run(async () =>
        {
            await foreach (var t in node.Client.WatchAsync(new WatchQuery { JobId = id }, timeout.Token))
            {
                lock (seen)
                {
                    seen.Add(t);
                }
            }
        });
        await WaitAsync(() =>
        {
            lock (seen)
            {
                return seen.Count == 1;
            }
        });
        node.Clock!.Advance(TimeSpan.FromMinutes(1));
        await WaitAsync(() =>
        {
            lock (seen)
            {
                return seen.Any(t => t.Change == "attempt-ended");
            }
        });
        node.Clock.Advance(TimeSpan.FromSeconds(1));
        await watching.WaitAsync(TimeSpan.FromSeconds(20)); // ends by itself after Succeeded

        Assert.Equal(
            [
                ("current", JobStatus.Scheduled, (AttemptOutcome?)null),
                ("started", JobStatus.Running, null),
                ("attempt-ended", JobStatus.Scheduled, AttemptOutcome.Failed),
                ("started", JobStatus.Running, null),
                ("attempt-ended", JobStatus.Succeeded, AttemptOutcome.Succeeded),
            ],
            seen.Select(t => (t.Change, t.Status, t.Outcome))
        );
        Assert.Equal([0, 1, 1, 2, 2], seen.Select(t => t.Attempt));
    }

    [Fact]
    public async Task WatchWithFilters_SeesOnlyMatchingTransitions()
    {
        await using var node = await TestNode.StartAsync(Backend.Memory);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var enumerator = node
            .Client.WatchAsync(new WatchQuery { Kind = "echo", Status = JobStatus.Succeeded }, cancel.Token)
            .GetAsyncEnumerator(cancel.Token);
        var first = enumerator.MoveNextAsync().AsTask();
        await Task.Delay(100); // the subscription exists once the first MoveNext runs
        await node.Client.ScheduleAsync(ScheduleRequest.Create("fail", new FailPayload(0)));
        var echo = (await node.Client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoPayload("x")))).JobId;
        Assert.True(await first);
        Assert.Equal(echo, enumerator.Current.JobId);
        Assert.Equal(JobStatus.Succeeded, enumerator.Current.Status);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await enumerator.MoveNextAsync());
        await enumerator.DisposeAsync();
    }

    [Fact]
    public async Task WatchUnknownJob_IsNotFound()
    {
        await using var node = await TestNode.StartAsync(Backend.Memory);
        await Assert.ThrowsAsync<JobNotFoundException>(async () =>
        {
            await foreach (var _ in node.Client.WatchAsync(new WatchQuery { JobId = "nobody" })) { }
        });
    }

    [Fact]
    public async Task WatcherThatFallsBehind_IsEndedAsLagged_JobsUnaffected()
    {
        await using var node = await TestNode.StartAsync(Backend.Memory, extraConfig: "jobs.limits.watch-buffer = 3");
        var enumerator = node.Client.WatchAsync(new WatchQuery()).GetAsyncEnumerator();
        var first = enumerator.MoveNextAsync().AsTask();
        await Task.Delay(100);
        var results = await node.Client.ScheduleManyAsync([
            .. Enumerable.Range(0, 20).Select(i => ScheduleRequest.Create("echo", new EchoPayload($"{i}"))),
        ]);
        foreach (var r in results)
        {
            await node.WaitForStatusAsync(r.Result!.JobId, JobStatus.Succeeded);
        }

        Assert.True(await first);
        var error = await Assert.ThrowsAsync<JobsException>(async () =>
        {
            while (await enumerator.MoveNextAsync()) { }
        });
        Assert.Equal("watch-lagged", error.ErrorCode);
        await enumerator.DisposeAsync();
    }

    private static async Task WaitAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(20);
        }
    }
}
