using Akka.Actor;
using Akka.Cluster;
using Akka.TestKit;
using Jobs.Actors.Entities;
using Jobs.Actors.Protocol;
using Jobs.Actors.Workers;
using Jobs.Client;

namespace Jobs.Actors.Tests;

/// <summary>
/// A queue's pool, talked to directly: it keeps the scheduler's wake order even when the woken entities ask for their
/// slots (and store their starts) in another order, and a pool that fails gives its admitted jobs back.
/// </summary>
public sealed class WorkerPoolTests : Akka.TestKit.Xunit2.TestKit
{
    private async Task<(TestNode Node, IActorRef Pool, TestProbe Entity)> StartAsync(bool manualClock = false, string extraConfig = "")
    {
        var node = await TestNode.StartAsync(Backend.Memory, manualClock, extraConfig: "jobs.queues.probe.workers = 1\n" + extraConfig);
        var pool = node.Node.Runtime!.Pools["probe"];
        return (node, pool, CreateTestProbe(node.Node.System!));
    }

    /// <summary>All due at the same moment: the backlog order among them is by job id, as the scheduler woke them.</summary>
    private static readonly DateTimeOffset Due = DateTimeOffset.UtcNow.AddMinutes(-1);

    private static async Task AdmitAndStartAsync(TestNode node, IActorRef pool, TestProbe entity, string jobId)
    {
        pool.Tell(new RequestAdmission(jobId, "echo", 0, Due), entity.Ref);
        await entity.ExpectMsgAsync<Admitted>(a => a.JobId == jobId);
        pool.Tell(new Execute(jobId, 1, node.Node.Runtime!.Incarnation, "echo", """{"text":"x"}""", Due, TimeSpan.FromSeconds(30)), entity.Ref);
    }

    /// <summary>Wakes <paramref name="first"/> and "late" together, starts only "late", and checks that it is held.</summary>
    private static async Task StartLateBehindAsync(TestNode node, IActorRef pool, TestProbe entity, string first)
    {
        pool.Tell(new ExpectWoken([first, "late"]));
        await AdmitAndStartAsync(node, pool, entity, "late");
        await Task.Delay(150); // well inside the rank wait
        Assert.Equal(0, node.Log.Runs("late")); // ready, but the other was woken first
    }

    [Fact]
    public async Task CappedKind_IsAdmittedOnlyWhileTheMembersCountHasRoom_SharedWithTheOtherQueuesPools()
    {
        var (node, pool, entity) = await StartAsync(extraConfig: "jobs.kind-limits { echo = 1 }");
        await using var _ = node;
        var otherPool = node.Node.Runtime!.Pools["slow"];

        pool.Tell(new RequestAdmission("first", "echo", 0, Due), entity.Ref);
        await entity.ExpectMsgAsync<Admitted>(a => a.JobId == "first");
        otherPool.Tell(new RequestAdmission("second", "echo", 0, Due), entity.Ref); // another queue, the same member's cap
        await entity.ExpectMsgAsync<AdmissionRejected>(r => r.JobId == "second");

        pool.Tell(new ReleaseSlot("first"));
        await AwaitAssertAsync(async () =>
        {
            otherPool.Tell(new RequestAdmission("third", "echo", 0, Due), entity.Ref);
            var answer = await entity.ExpectMsgAsync<object>();
            Assert.Equal(new Admitted("third", WorkerReserved: true, node.Node.Runtime!.Settings.NodeName, node.Node.Runtime!.Incarnation), answer);
        });
        otherPool.Tell(new ReleaseSlot("third")); // (a stopping node waits for the starts of reserved workers)
    }

    [Fact]
    public async Task LaterWokenAttempt_WaitsForAnEarlierWokenOne()
    {
        var (node, pool, entity) = await StartAsync();
        await using var _ = node;
        await StartLateBehindAsync(node, pool, entity, "early");

        await AdmitAndStartAsync(node, pool, entity, "early");
        await WaitForRunsAsync(node, "early", "late");
        Assert.Equal(["early", "late"], node.Log.Events.Where(e => e.Event == "start").Select(e => e.JobId));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // the rank wait is real time: a node's clock that stands still (a test's) must not hold it forever (a CI hang)
    public async Task EarlierWokenJobThatNeverComes_HoldsOthersOnlyForTheRankWait(bool manualClock)
    {
        var (node, pool, entity) = await StartAsync(manualClock);
        await using var _ = node;
        pool.Tell(new ExpectWoken(["gone", "late"]));
        var started = DateTimeOffset.UtcNow;

        await AdmitAndStartAsync(node, pool, entity, "late");
        await WaitForRunsAsync(node, "late");
        Assert.InRange(DateTimeOffset.UtcNow - started, WorkerPool.RankWait - TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10));

        // The pool still runs attempts afterwards (nothing left waiting on the job that never came).
        await AdmitAndStartAsync(node, pool, entity, "next");
        await WaitForRunsAsync(node, "next");
    }

    [Fact]
    public async Task DeclinedWake_StopsHoldingTheAttemptsWokenAfterIt()
    {
        var (node, pool, entity) = await StartAsync();
        await using var _ = node;
        await StartLateBehindAsync(node, pool, entity, "declines");

        var declined = DateTimeOffset.UtcNow;
        pool.Tell(new WakeDeclined("declines"));
        await WaitForRunsAsync(node, "late");
        Assert.True(DateTimeOffset.UtcNow - declined < WorkerPool.RankWait / 2, "the attempt kept waiting for a job that said it would not come");
    }

    [Fact]
    public async Task WokenEntityWithNothingToRun_Declines_SoLaterAttemptsRunEvenUnderAManualClock()
    {
        // Under a manual clock the rank wait never expires on its own: only the entity's answer can free "late".
        var (node, pool, entity) = await StartAsync(manualClock: true);
        await using var _ = node;
        await node.Client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoPayload("x")) with { JobId = "done", Queue = "probe" });
        await node.WaitForStatusAsync("done", JobStatus.Succeeded);

        pool.Tell(new ExpectWoken(["done", "late"]));
        node.Node.Runtime!.Region.Tell(new WakeJob("done")); // finished: it has nothing to ask a slot for
        await AdmitAndStartAsync(node, pool, entity, "late");
        await WaitForRunsAsync(node, "late");
        Assert.Equal(1, node.Log.Runs("done"));
    }

    [Fact]
    public async Task AttemptsNotWokenTogether_RunWithoutWaiting()
    {
        var (node, pool, entity) = await StartAsync();
        await using var _ = node;
        var started = DateTimeOffset.UtcNow;

        await AdmitAndStartAsync(node, pool, entity, "alone");
        await WaitForRunsAsync(node, "alone");
        Assert.True(DateTimeOffset.UtcNow - started < WorkerPool.RankWait, "an attempt nobody was woken before must not wait");
    }

    [Fact]
    public async Task PoolThatFails_HandsItsJobsBack_AndTheyRunAgain()
    {
        var (node, pool, _) = await StartAsync();
        await using var __ = node;
        var client = node.Client;
        await client.ScheduleAsync(ScheduleRequest.Create("wait", new WaitPayload("g1")) with { JobId = "running", Queue = "probe" });
        await WaitForRunsAsync(node, "running");
        await client.ScheduleAsync(ScheduleRequest.Create("wait", new WaitPayload("g2")) with { JobId = "held", Queue = "probe" });
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!((await pool.Ask<PoolStatus>(GetPoolStatus.Instance, TimeSpan.FromSeconds(5))).Admitted ?? []).Contains("held"))
        {
            Assert.True(DateTime.UtcNow < deadline, "the held job was not admitted ahead of the busy worker");
            await Task.Delay(20);
        }

        Assert.Equal(JobStatus.Queued, (await client.GetAsync("held")).Status); // held in prefetch: not started

        pool.Tell(new ExpectWoken([null!])); // malformed: the pool throws and its supervisor restarts it

        // The running attempt is lost (its handler cancelled) and retried; the held one had not started: it runs later.
        deadline = DateTime.UtcNow.AddSeconds(15);
        while ((await client.GetAsync("running"))!.Attempts[0].Outcome != AttemptOutcome.Lost)
        {
            Assert.True(DateTime.UtcNow < deadline, "the running attempt was not given back when its pool failed");
            await Task.Delay(20);
        }

        // Its member is alive (only the pool restarted): the retry follows the backoff (1 s here), not the hold that
        // keeps a job from taking down member after member.
        var lost = (await client.GetAsync("running"))!;
        Assert.InRange(lost.DueAt - lost.Attempts[0].EndedAt!.Value, TimeSpan.Zero, TimeSpan.FromSeconds(2));

        node.Log.Gates.GetOrAdd("g1", _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        node.Log.Gates.GetOrAdd("g2", _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        var running = await node.WaitForStatusAsync("running", JobStatus.Succeeded);
        var held = await node.WaitForStatusAsync("held", JobStatus.Succeeded);
        Assert.Equal(AttemptOutcome.Lost, running.Attempts[0].Outcome);
        Assert.Equal([AttemptOutcome.Succeeded], held.Attempts.Select(a => a.Outcome));
        Assert.Equal(2, node.Log.Runs("running"));
        await Task.Delay(200);
        Assert.DoesNotContain(("running", 1, "end"), node.Log.Events); // the first handler was cancelled, not left running
        Assert.Contains(("running", 2, "end"), node.Log.Events);

        // Nothing stays admitted: every slot of the restarted pool is free again.
        var status = await pool.Ask<PoolStatus>(GetPoolStatus.Instance, TimeSpan.FromSeconds(5));
        Assert.Empty(status.Admitted ?? []);
        Assert.Equal(0, status.Busy);
    }

    [Fact]
    public async Task AWorkerOfferedByAPoolThatDoesNotHoldTheJob_GoesBackToThatPool_AndTheRunningAttemptKeepsItsSlot()
    {
        // A pool that still holds an attempt prepared by an earlier incarnation of a job's entity (its shard moved, its
        // member died) offers a worker for it: the entity gives that pool its worker back, and the pool that runs the
        // job's attempt keeps its slot (a release sent there instead would have freed a running attempt's slot).
        var (node, pool, stalePool) = await StartAsync();
        await using var _ = node;
        var gate = "stale-" + Guid.NewGuid();
        var id = (await node.Client.ScheduleAsync(ScheduleRequest.Create("wait", new WaitPayload(gate)) with { Queue = "probe" })).JobId;
        await WaitForRunsAsync(node, id);

        node.Node.Runtime!.Region.Tell(new BeginAttempt(id, (await node.Client.GetAsync(id)).Attempts.Count), stalePool.Ref);
        await stalePool.ExpectMsgAsync<ReleaseSlot>(r => r.JobId == id);
        Assert.Contains(id, (await pool.Ask<PoolStatus>(GetPoolStatus.Instance, TimeSpan.FromSeconds(5))).Admitted!);

        node.Log.Gates[gate].TrySetResult();
        var info = await node.WaitForStatusAsync(id, JobStatus.Succeeded);
        Assert.Single(info.Attempts);
    }

    [Fact]
    public async Task AnEntityThatMayHaveMissedAReport_GetsItFromThePool_OrHearsTheAttemptIsUnknown()
    {
        var (node, pool, entity) = await StartAsync();
        await using var _ = node;
        var incarnation = node.Node.Runtime!.Incarnation;
        var gate = "report-" + Guid.NewGuid();
        pool.Tell(new RequestAdmission("held", "wait", 0, Due), entity.Ref);
        await entity.ExpectMsgAsync<Admitted>(a => a.JobId == "held");
        pool.Tell(new Execute("held", 1, incarnation, "wait", $$"""{"gate":"{{gate}}"}""", Due, TimeSpan.FromSeconds(30)), entity.Ref);
        await WaitForRunsAsync(node, "held");

        // Still running: no answer (the report will come when it ends).
        pool.Tell(new QueryAttempt("held", 1, incarnation), entity.Ref);
        await entity.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300));

        node.Log.Gates[gate].TrySetResult();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await pool.Ask<PoolStatus>(GetPoolStatus.Instance, TimeSpan.FromSeconds(5))).Busy > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the attempt did not end");
            await Task.Delay(20);
        }

        pool.Tell(new QueryAttempt("held", 1, incarnation), entity.Ref);
        var report = await entity.ExpectMsgAsync<AttemptCompleted>();
        Assert.IsType<Entities.AttemptReport.Succeeded>(report.Report);
        Assert.Equal((1, incarnation), (report.Attempt, report.Incarnation));

        // An attempt the pool never ran, or of another incarnation: unknown, so its entity counts it lost.
        pool.Tell(new QueryAttempt("never", 1, incarnation), entity.Ref);
        await entity.ExpectMsgAsync<AttemptUnknown>(u => u.JobId == "never");
        pool.Tell(new QueryAttempt("held", 1, "another-process"), entity.Ref);
        await entity.ExpectMsgAsync<AttemptUnknown>(u => u.JobId == "held");
    }

    [Fact]
    public async Task AStartThatNeverReachesThePool_FreesItsWorker_AndWakesTheJobsEntityToLookAgain()
    {
        // An entity stored an attempt's start (a worker was reserved for it) and died with its member before it sent
        // the attempt: after the reservation timeout the pool frees the worker and wakes the job's entity, wherever it
        // lives now, which finds its attempt unknown here and retries it (else the job stayed Running for good).
        var (node, pool, entity) = await StartAsync(manualClock: true);
        await using var _ = node;
        var region = CreateTestProbe(node.Node.System!);
        node.Node.Runtime!.Region = region.Ref; // this test's node runs no job: the pool's messages to entities come here
        pool.Tell(new RequestAdmission("orphan", "echo", 0, Due), entity.Ref);
        await entity.ExpectMsgAsync<Admitted>(a => a.JobId == "orphan" && a.WorkerReserved);

        node.Clock!.Advance(TimeSpan.FromSeconds(31)); // past the reservation timeout; the pool sweeps every 5 s
        await region.FishForMessageAsync(m => m is WakeJob { JobId: "orphan" }, TimeSpan.FromSeconds(15));
        var status = await pool.Ask<PoolStatus>(GetPoolStatus.Instance, TimeSpan.FromSeconds(5));
        Assert.DoesNotContain("orphan", status.Admitted ?? []); // its slot and worker are free
        Assert.Equal(0, status.Busy);
    }

    [Fact]
    public async Task WhenAMemberIsRemoved_SlotsLongWaitingForTheirEntities_AreFreedAndTheirJobsWoken_WithoutTheReservationTimeout()
    {
        // An entity was admitted a slot (a worker kept for its start) and died with its member before it answered.
        // Once that member is removed, the pool need not hold the slot for the whole reservation timeout (30 s): it
        // frees it and wakes the job's entity at its shard's new home (2 s after the removal, on the node's clock).
        var (node, pool, entity) = await StartAsync(manualClock: true);
        await using var _ = node;
        var region = CreateTestProbe(node.Node.System!);
        node.Node.Runtime!.Region = region.Ref;
        pool.Tell(new RequestAdmission("orphan", "echo", 0, Due), entity.Ref);
        await entity.ExpectMsgAsync<Admitted>(a => a.JobId == "orphan" && a.WorkerReserved);
        node.Clock!.Advance(TimeSpan.FromSeconds(6)); // longer than a live entity takes, far shorter than the timeout

        // Another job admitted just before the removal: its entity may well be alive, and it keeps its slot.
        pool.Tell(new RequestAdmission("recent", "echo", 0, Due), entity.Ref);
        await entity.ExpectMsgAsync<Admitted>(a => a.JobId == "recent" && !a.WorkerReserved);

        // A member joins and is removed (this single node downs any member that joins it).
        var self = Cluster.Get(node.Node.System!).SelfAddress;
        var removed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var foreign = ClusterNodeTests.JoinForeignMember(node.Node.System!);
        try
        {
            Cluster.Get(foreign).RegisterOnMemberRemoved(() => removed.TrySetResult());
            await removed.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await AwaitAssertAsync(
                () => Assert.Equal([self], Cluster.Get(node.Node.System!).State.Members.Select(m => m.Address)),
                TimeSpan.FromSeconds(10)
            );
        }
        finally
        {
            await foreign.Terminate();
        }

        try
        {
            await region.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(300)); // not at once: the shards' new homes settle first
            node.Clock.Advance(TimeSpan.FromSeconds(3));
            await region.FishForMessageAsync(m => m is WakeJob { JobId: "orphan" }, TimeSpan.FromSeconds(10));
            var status = await pool.Ask<PoolStatus>(GetPoolStatus.Instance, TimeSpan.FromSeconds(5));
            Assert.Equal(["recent"], status.Admitted ?? []);
            Assert.Equal(0, status.Busy); // the worker kept for the orphan's start is free

            // Its entity, recovered elsewhere, asks about the attempt whose start it may have stored: it never ran
            // here, so it is interrupted (retried, not counted), not lost. An attempt the pool never saw is unknown.
            var asker = CreateTestProbe(node.Node.System!);
            var incarnation = node.Node.Runtime!.Incarnation;
            pool.Tell(new QueryAttempt("orphan", 1, incarnation), asker.Ref);
            var answer = await asker.ExpectMsgAsync<AttemptCompleted>(TimeSpan.FromSeconds(5));
            Assert.IsType<AttemptReport.Interrupted>(answer.Report);
            Assert.Equal((1, incarnation), (answer.Attempt, answer.Incarnation));
            pool.Tell(new QueryAttempt("never-here", 1, incarnation), asker.Ref);
            await asker.ExpectMsgAsync<AttemptUnknown>(TimeSpan.FromSeconds(5));
        }
        finally
        {
            node.Clock.Advance(TimeSpan.FromMinutes(1)); // a slot still held would hold the node's stop on this clock
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task WithShortHandlers_TheNextStartsAreStoredAheadOfAFreeWorker_UpToTheLimit_WithLongOnesNone(bool shortHandlers)
    {
        await using var node = await TestNode.StartAsync(
            Backend.Memory,
            manualClock: false,
            extraConfig: """
            jobs.queues.probe.workers = 1
            jobs.scheduler.start-ahead = 2
            jobs.scheduler.start-ahead-below = 100ms
            """
        );
        var client = node.Client;
        var pool = node.Node.Runtime!.Pools["probe"];
        void Open(string gate) =>
            node.Log.Gates.GetOrAdd(gate, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

        // The pool learns how long the queue's handlers take: a few that return at once, or one that takes 300 ms.
        if (shortHandlers)
        {
            for (var i = 0; i < 5; i++)
            {
                await client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoPayload("x")) with { JobId = $"short-{i}", Queue = "probe" });
                await node.WaitForStatusAsync($"short-{i}", JobStatus.Succeeded);
            }
        }
        else
        {
            await client.ScheduleAsync(ScheduleRequest.Create("wait", new WaitPayload("slow")) with { JobId = "slow", Queue = "probe" });
            await WaitForRunsAsync(node, "slow");
            await Task.Delay(300);
            Open("slow");
            await node.WaitForStatusAsync("slow", JobStatus.Succeeded);
        }

        // The one worker is busy; three more wait for it.
        await client.ScheduleAsync(ScheduleRequest.Create("wait", new WaitPayload("busy")) with { JobId = "busy", Queue = "probe" });
        await WaitForRunsAsync(node, "busy");
        foreach (var id in new[] { "held-1", "held-2", "held-3" })
        {
            await client.ScheduleAsync(ScheduleRequest.Create("wait", new WaitPayload(id)) with { JobId = id, Queue = "probe" });
        }

        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (((await pool.Ask<PoolStatus>(GetPoolStatus.Instance, TimeSpan.FromSeconds(5))).Admitted ?? []).Count < 4)
        {
            Assert.True(DateTime.UtcNow < deadline, "the waiting jobs were not admitted ahead of the busy worker");
            await Task.Delay(20);
        }

        // Short handlers: two (the limit) have their start stored already and show Running; the third is held in
        // memory only. Long handlers: none is started before the worker frees.
        var expectedStarted = shortHandlers ? 2 : 0;
        deadline = DateTime.UtcNow.AddSeconds(15);
        IReadOnlyList<JobInfo> held;
        while (
            (held = await Task.WhenAll(new[] { "held-1", "held-2", "held-3" }.Select(id => client.GetAsync(id)))).Count(j =>
                j.Status == JobStatus.Running
            ) < expectedStarted
        )
        {
            Assert.True(DateTime.UtcNow < deadline, "the next attempts' starts were not stored ahead of the free worker");
            await Task.Delay(20);
        }

        await Task.Delay(300);
        held = await Task.WhenAll(new[] { "held-1", "held-2", "held-3" }.Select(id => client.GetAsync(id)));
        Assert.Equal(expectedStarted, held.Count(j => j.Status == JobStatus.Running));
        Assert.Equal(3 - expectedStarted, held.Count(j => j.Status == JobStatus.Queued));
        Assert.All(held, j => Assert.Equal(0, node.Log.Runs(j.Id))); // stored as started, but no handler ran yet

        // Each runs once, in turn, with the one attempt it was started with.
        foreach (var gate in new[] { "busy", "held-1", "held-2", "held-3" })
        {
            Open(gate);
        }

        foreach (var id in new[] { "busy", "held-1", "held-2", "held-3" })
        {
            var done = await node.WaitForStatusAsync(id, JobStatus.Succeeded);
            Assert.Equal([AttemptOutcome.Succeeded], done.Attempts.Select(a => a.Outcome));
            Assert.Equal(1, node.Log.Runs(id));
        }
    }

    [Fact]
    public async Task AttemptsStartedAheadOfAFreeWorker_GoBackUncounted_WhenTheNodeStops()
    {
        var directory = Directory.CreateTempSubdirectory("jobs-ahead-").FullName;
        var storage = await TestNode.StorageConfigAsync(Backend.Sqlite, directory);
        const string Config = """
            jobs.queues.probe.workers = 1
            jobs.scheduler.start-ahead = 2
            jobs.scheduler.start-ahead-below = 100ms
            jobs.defaults.cancel-grace = 200ms
            """;
        await using (var node = await TestNode.StartAsync(Backend.Sqlite, manualClock: false, extraConfig: Config, storageConfig: storage))
        {
            for (var i = 0; i < 5; i++)
            {
                await node.Client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoPayload("x")) with { JobId = $"short-{i}", Queue = "probe" });
                await node.WaitForStatusAsync($"short-{i}", JobStatus.Succeeded);
            }

            await node.Client.ScheduleAsync(ScheduleRequest.Create("wait", new WaitPayload("busy")) with { JobId = "busy", Queue = "probe" });
            await WaitForRunsAsync(node, "busy");
            await node.Client.ScheduleAsync(ScheduleRequest.Create("wait", new WaitPayload("ahead")) with { JobId = "ahead", Queue = "probe" });
            await node.WaitForStatusAsync("ahead", JobStatus.Running); // started ahead, waiting for the worker
            Assert.Equal(0, node.Log.Runs("ahead"));
            using var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)); // the busy handler is interrupted then
            await node.StopAsync(deadline.Token);
        }

        // Stopped: the attempt that never reached a worker went back interrupted (not counted) and runs on the next start.
        await using var again = await TestNode.StartAsync(Backend.Sqlite, manualClock: false, extraConfig: Config, storageConfig: storage);
        foreach (var gate in new[] { "busy", "ahead" })
        {
            again.Log.Gates.GetOrAdd(gate, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }

        var done = await again.WaitForStatusAsync("ahead", JobStatus.Succeeded);
        Assert.Equal([AttemptOutcome.Interrupted, AttemptOutcome.Succeeded], done.Attempts.Select(a => a.Outcome));
        Assert.Equal(1, again.Log.Runs("ahead"));
        Directory.Delete(directory, recursive: true);
    }

    private static async Task WaitForRunsAsync(TestNode node, params string[] jobIds)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!jobIds.All(id => node.Log.Runs(id) == 1))
        {
            Assert.True(DateTime.UtcNow < deadline, $"not all of {string.Join(", ", jobIds)} ran once");
            await Task.Delay(10);
        }
    }
}
