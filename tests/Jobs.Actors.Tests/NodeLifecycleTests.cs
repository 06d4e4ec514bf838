using System.Collections.Concurrent;
using Akka.Actor;
using Jobs.Actors.Hosting;
using Jobs.Actors.Protocol;
using Jobs.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Jobs.Actors.Tests;

/// <summary>Graceful shutdown (drain, then interrupt at the deadline), restart on the same storage, observers and statistics.</summary>
public sealed class NodeLifecycleTests
{
    [Theory]
    [InlineData(Backend.Sqlite)]
    [InlineData(Backend.Postgres)]
    public async Task Shutdown_DeadlinePassed_RunningJobInterrupted_RunsAgainAfterRestart(Backend backend)
    {
        var directory = Directory.CreateTempSubdirectory("jobs-restart-").FullName;
        var storage = await TestNode.StorageConfigAsync(backend, directory);
        var log = new HandlerLog();
        var gate = "shutdown-" + Guid.NewGuid();
        string id;
        await using (var node = await TestNode.StartAsync(backend, manualClock: false, storageConfig: storage, log: log))
        {
            id = (await node.Client.ScheduleAsync(ScheduleRequest.Create("wait", new WaitPayload(gate)))).JobId;
            await node.WaitForStatusAsync(id, JobStatus.Running);
            using var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
            await node.StopAsync(deadline.Token);
            Assert.Equal(1, log.Runs(id));
        }

        // The gate opens now: the next attempt finishes.
        log.Gates.GetOrAdd(gate, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        await using (var node = await TestNode.StartAsync(backend, manualClock: false, storageConfig: storage, log: log))
        {
            var info = await node.WaitForStatusAsync(id, JobStatus.Succeeded);
            Assert.Equal([AttemptOutcome.Interrupted, AttemptOutcome.Succeeded], info.Attempts.Select(a => a.Outcome));
            Assert.Equal(1, info.AttemptCount); // an interruption does not count against max attempts
            Assert.Equal(2, log.Runs(id));
        }

        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task Prefetched_AttemptsWaitForAWorker_AndGoBackUncountedOnShutdown()
    {
        var directory = Directory.CreateTempSubdirectory("jobs-prefetch-").FullName;
        var storage = await TestNode.StorageConfigAsync(Backend.Sqlite, directory);
        var log = new HandlerLog();
        var gate = "prefetch-" + Guid.NewGuid();
        const string Config = "jobs.queues.default.workers = 1\njobs.scheduler.prefetch = 3";
        string blocker;
        string[] held;
        await using (var node = await TestNode.StartAsync(Backend.Sqlite, manualClock: false, extraConfig: Config, storageConfig: storage, log: log))
        {
            blocker = (await node.Client.ScheduleAsync(ScheduleRequest.Create("wait", new WaitPayload(gate)))).JobId;
            await node.WaitForStatusAsync(blocker, JobStatus.Running);
            held =
            [
                .. await Task.WhenAll(
                    Enumerable
                        .Range(0, 3)
                        .Select(async i => (await node.Client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoPayload("held " + i)))).JobId)
                ),
            ];
            var pool = node.Node.Runtime!.Pools["default"];
            var admittedBy = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (!held.All(((await pool.Ask<PoolStatus>(GetPoolStatus.Instance, TimeSpan.FromSeconds(5))).Admitted ?? []).Contains))
            {
                Assert.True(DateTime.UtcNow < admittedBy, "the pool did not take the jobs ahead of a free worker");
                await Task.Delay(20);
            }

            foreach (var id in held)
            {
                // Held ahead of a free worker, nothing stored: not Running, no attempt (issue 16, bugs 1 and 4).
                var info = await node.Client.GetAsync(id);
                Assert.Equal(JobStatus.Queued, info.Status);
                Assert.Empty(info.Attempts);
            }

            Assert.All(held, id => Assert.Equal(0, log.Runs(id))); // the only worker is busy: none of them ran
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var stopping = node.StopAsync(deadline.Token);
            await Task.Delay(200);
            log.Gates[gate].TrySetResult();
            await stopping;
            Assert.All(held, id => Assert.Equal(0, log.Runs(id))); // handed back, not run during the drain
        }

        await using (var node = await TestNode.StartAsync(Backend.Sqlite, manualClock: false, extraConfig: Config, storageConfig: storage, log: log))
        {
            foreach (var id in held)
            {
                var info = await node.WaitForStatusAsync(id, JobStatus.Succeeded);
                Assert.Equal([AttemptOutcome.Succeeded], info.Attempts.Select(a => a.Outcome)); // never started before: one attempt
                Assert.Equal(1, info.AttemptCount);
                Assert.Equal(1, log.Runs(id));
            }

            Assert.Equal(JobStatus.Succeeded, (await node.Client.GetAsync(blocker)).Status);
        }

        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task Shutdown_HandlerFinishesBeforeDeadline_JobSucceeds_NotInterrupted()
    {
        var directory = Directory.CreateTempSubdirectory("jobs-drain-").FullName;
        var storage = await TestNode.StorageConfigAsync(Backend.Sqlite, directory);
        var log = new HandlerLog();
        var gate = "drain-" + Guid.NewGuid();
        string id;
        await using (var node = await TestNode.StartAsync(Backend.Sqlite, manualClock: false, storageConfig: storage, log: log))
        {
            id = (await node.Client.ScheduleAsync(ScheduleRequest.Create("wait", new WaitPayload(gate)))).JobId;
            await node.WaitForStatusAsync(id, JobStatus.Running);
            var later = (
                await node.Client.ScheduleAsync(
                    ScheduleRequest.Create("echo", new EchoPayload("after stop")) with
                    {
                        Delay = TimeSpan.FromMilliseconds(200),
                    }
                )
            ).JobId;
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var stopping = node.StopAsync(deadline.Token);
            await Task.Delay(500);
            Assert.False(stopping.IsCompleted, "stop returned while a handler was still running");
            log.Gates[gate].TrySetResult();
            await stopping;
            Assert.Contains(log.Events, e => e.JobId == id && e.Event == "end");
            Assert.Equal(0, log.Runs(later)); // no admission once stopping began
        }

        await using (var node = await TestNode.StartAsync(Backend.Sqlite, manualClock: false, storageConfig: storage, log: log))
        {
            var info = await node.Client.GetAsync(id);
            Assert.Equal(JobStatus.Succeeded, info.Status);
            Assert.Equal(AttemptOutcome.Succeeded, Assert.Single(info.Attempts).Outcome);
        }

        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task Observer_SeesEveryEndedAttempt_StatisticsCount()
    {
        var observer = new RecordingObserver();
        await using var node = await TestNode.StartAsync(Backend.Memory, services: s => s.AddSingleton<IJobObserver>(observer));
        var ok = (await node.Client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoPayload("x")))).JobId;
        var failing = (await node.Client.ScheduleAsync(ScheduleRequest.Create("fail", new FailPayload(1)))).JobId;
        await node.WaitForStatusAsync(ok, JobStatus.Succeeded);
        await WaitAsync(() => observer.Seen.Any(s => s.Id == failing));
        node.Clock!.Advance(TimeSpan.FromSeconds(1));
        await node.WaitForStatusAsync(failing, JobStatus.Succeeded);
        await WaitAsync(() => observer.Seen.Count == 3);

        Assert.Contains((ok, AttemptOutcome.Succeeded, JobStatus.Succeeded), observer.Seen);
        Assert.Contains((failing, AttemptOutcome.Failed, JobStatus.Scheduled), observer.Seen);
        Assert.Contains((failing, AttemptOutcome.Succeeded, JobStatus.Succeeded), observer.Seen);
        var stats = node.Node.Statistics!;
        Assert.Equal(2, stats.Scheduled);
        Assert.Equal(3, stats.Started);
        Assert.Equal(2, stats.Succeeded);
        Assert.Equal(1, stats.Retried);
        Assert.Equal(0, stats.Failed);
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

    [Fact]
    public async Task ANodeTheClusterRemoves_StopsItsHost_WithTheRemovedExitCode()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton(new HandlerLog());
        builder.Services.AddJobs(jobs => jobs.UseConfigFile(null, "jobs.persistence.backend = memory").AddHandler<EchoHandler, EchoPayload>("echo"));
        using var host = builder.Build();
        await host.StartAsync();
        var stopping = host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        var system = host.Services.GetRequiredService<JobsNode>().System!;
        try
        {
            // what the split-brain resolver does to a lost member
            Akka.Cluster.Cluster.Get(system).Down(Akka.Cluster.Cluster.Get(system).SelfAddress);
            await Task.Delay(TimeSpan.FromSeconds(30), stopping).ContinueWith(_ => { }, TaskScheduler.Default);
            Assert.True(stopping.IsCancellationRequested, "the host did not stop after its node was removed");
            Assert.Equal(JobsNode.RemovedExitCode, Environment.ExitCode);
        }
        finally
        {
            Environment.ExitCode = 0; // this test process's own exit code stays its runner's
            await host.StopAsync();
        }
    }

    private sealed class RecordingObserver : IJobObserver
    {
        public ConcurrentQueue<(string Id, AttemptOutcome Outcome, JobStatus Status)> Seen { get; } = new();

        public Task OnAttemptEndedAsync(JobInfo job, AttemptOutcome outcome, CancellationToken cancellationToken)
        {
            Seen.Enqueue((job.Id, outcome, job.Status));
            return Task.CompletedTask;
        }
    }
}
