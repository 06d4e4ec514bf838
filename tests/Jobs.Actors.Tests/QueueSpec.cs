using Jobs.Actors.Handlers;
using Jobs.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Actors.Tests;

public sealed record CountPayload(int N);

/// <summary>Tracks how many "count" handlers run at once.</summary>
public sealed class ConcurrencyTracker
{
    private int _running;
    private int _max;

    public int Max => Volatile.Read(ref _max);

    /// <summary>How long each handler runs.</summary>
    public int DelayMs { get; init; } = 15;

    public async Task RunAsync()
    {
        var now = Interlocked.Increment(ref _running);
        int seen;
        while ((seen = Volatile.Read(ref _max)) < now && Interlocked.CompareExchange(ref _max, now, seen) != seen) { }

        await Task.Delay(DelayMs);
        Interlocked.Decrement(ref _running);
    }
}

public sealed class CountHandler(ConcurrencyTracker tracker, HandlerLog log) : IJobHandler<CountPayload>
{
    public async Task<JobOutcome> HandleAsync(CountPayload payload, JobContext context)
    {
        log.Add(context.JobId, context.Attempt, "start");
        await tracker.RunAsync();
        return JobOutcome.Success();
    }
}

/// <summary>Queues: backlog order, pause and resume (durable), and per-kind caps, against every backend.</summary>
public abstract class QueueSpec(Backend backend)
{
    private readonly ConcurrencyTracker _tracker = new();

    private Task<TestNode> StartAsync(string? extra = null, string? storage = null, HandlerLog? log = null) =>
        TestNode.StartAsync(
            backend,
            manualClock: false,
            extraConfig: """
            jobs.queues.fifo { workers = 1, order = run-at-first }
            jobs.kind-limits { count = 2 }
            """ + (extra ?? string.Empty),
            storageConfig: storage,
            log: log,
            services: s => s.AddSingleton(_tracker),
            jobs: j => j.AddHandler<CountHandler, CountPayload>("count")
        );

    private static List<string> Starts(TestNode node) => [.. node.Log.Events.Where(e => e.Event == "start").Select(e => e.JobId)];

    [Fact]
    public async Task PausedQueue_HoldsDueJobs_ResumeRunsThemInPriorityOrder()
    {
        await using var node = await StartAsync();
        await node.Client.PauseQueueAsync("slow");
        var priorities = new[] { 3, -5, 10, 0, 7, 7, 1, 10, -1, 4 };
        for (var i = 0; i < priorities.Length; i++)
        {
            await node.Client.ScheduleAsync(
                ScheduleRequest.Create("echo", new EchoPayload("p")) with
                {
                    JobId = $"p{i:D2}",
                    Queue = "slow",
                    Priority = priorities[i],
                }
            );
        }

        await Task.Delay(300);
        Assert.Empty(Starts(node));
        var slow = (await node.Client.ListQueuesAsync()).Single(q => q.Name == "slow");
        Assert.True(slow.Paused);
        Assert.Equal(10, slow.Queued);
        Assert.Equal(QueueOrder.PriorityFirst, slow.Order);

        await node.Client.ResumeQueueAsync("slow");
        for (var i = 0; i < priorities.Length; i++)
        {
            await node.WaitForStatusAsync($"p{i:D2}", JobStatus.Succeeded);
        }

        var expected = priorities
            .Select((p, i) => (p, id: $"p{i:D2}"))
            .OrderByDescending(x => x.p)
            .ThenBy(x => x.id, StringComparer.Ordinal)
            .Select(x => x.id);
        Assert.Equal(expected, Starts(node));
    }

    [Fact]
    public async Task RunAtFirstQueue_RunsTheEarliestDueFirst()
    {
        await using var node = await StartAsync();
        await node.Client.PauseQueueAsync("fifo");
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < 6; i++)
        {
            // Earlier jobs get lower priorities: run-at-first must ignore that.
            await node.Client.ScheduleAsync(
                ScheduleRequest.Create("echo", new EchoPayload("f")) with
                {
                    JobId = $"f{i}",
                    Queue = "fifo",
                    Priority = i,
                    RunAt = now.AddSeconds(-60 + i),
                }
            );
        }

        await node.Client.ResumeQueueAsync("fifo");
        for (var i = 0; i < 6; i++)
        {
            await node.WaitForStatusAsync($"f{i}", JobStatus.Succeeded);
        }

        Assert.Equal(Enumerable.Range(0, 6).Select(i => $"f{i}"), Starts(node));
    }

    [Fact]
    public async Task KindCap_IsNeverExceeded_AndOtherKindsKeepRunning()
    {
        await using var node = await StartAsync();
        // Over three queues' pools, which share the member's count of the kind.
        string[] queues = ["default", "slow", "fifo"];
        var capped = Enumerable
            .Range(0, 40)
            .Select(i => ScheduleRequest.Create("count", new CountPayload(i)) with { JobId = "c" + i, Queue = queues[i % 3] })
            .ToList();
        var others = Enumerable.Range(0, 20).Select(i => ScheduleRequest.Create("echo", new EchoPayload("o")) with { JobId = "o" + i }).ToList();
        var results = await node.Client.ScheduleManyAsync([.. capped, .. others]);
        Assert.All(results, r => Assert.Null(r.Error));
        foreach (var id in others.Select(o => o.JobId!))
        {
            await node.WaitForStatusAsync(id, JobStatus.Succeeded);
        }

        foreach (var id in capped.Select(c => c.JobId!))
        {
            await node.WaitForStatusAsync(id, JobStatus.Succeeded);
        }

        Assert.InRange(_tracker.Max, 1, 2);
    }

    [Fact]
    public async Task BadQueueNames_AreRejected()
    {
        await using var node = await StartAsync();
        Assert.Equal("queue", (await Assert.ThrowsAsync<JobValidationException>(() => node.Client.PauseQueueAsync("nope"))).Field);
        Assert.Equal("queue", (await Assert.ThrowsAsync<JobValidationException>(() => node.Client.ResumeQueueAsync(""))).Field);
    }
}

public sealed class MemoryQueueSpec() : QueueSpec(Backend.Memory);

public sealed class SqliteQueueSpec() : QueueSpec(Backend.Sqlite)
{
    [Fact]
    public async Task Pause_SurvivesARestart()
    {
        var directory = Directory.CreateTempSubdirectory("jobs-queue-").FullName;
        var storage = await TestNode.StorageConfigAsync(Backend.Sqlite, directory);
        await using (var node = await TestNode.StartAsync(Backend.Sqlite, manualClock: false, storageConfig: storage))
        {
            await node.Client.PauseQueueAsync("slow");
            await node.Client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoPayload("x")) with { JobId = "held", Queue = "slow" });
        }

        await using (var node = await TestNode.StartAsync(Backend.Sqlite, manualClock: false, storageConfig: storage))
        {
            Assert.True((await node.Client.ListQueuesAsync()).Single(q => q.Name == "slow").Paused);
            await Task.Delay(300);
            Assert.Equal(JobStatus.Queued, (await node.Client.GetAsync("held")).Status);
            await node.Client.ResumeQueueAsync("slow");
            await node.WaitForStatusAsync("held", JobStatus.Succeeded);
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(directory, recursive: true);
    }
}

public sealed class PostgresQueueSpec() : QueueSpec(Backend.Postgres);
