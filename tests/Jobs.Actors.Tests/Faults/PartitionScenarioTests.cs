using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Akka.Actor;
using Akka.Cluster;
using Akka.Remote;
using Akka.Remote.Transport;
using Jobs.Client;
using Jobs.Testing.Faults;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Actors.Tests.Faults;

/// <summary>
/// Fault scenarios 3 and 4 (docs/reliability.md), on three real members in this process on loopback. Scenario 3: a
/// member cut off from the database (through an in-test TCP proxy) while it still reaches the other members.
/// Scenario 4: one member cut off from the other members while every member still reaches the database. Three real
/// members in this process on loopback; the cut is Akka's throttling transport
/// adapter set to blackhole both directions between the member and each of the others (what a network split does
/// to remoting: nothing arrives, nothing fails fast). The member cut off is the oldest: it holds the scheduler, the
/// shard coordinator and a third of the shards, and jobs keep being scheduled through the other two (commands for
/// entities on the cut-off member are forwarded to it and go unanswered until the cluster settles).
/// </summary>
[Collection(ClusterTests.Name)]
[Trait("suite", "faults")]
public sealed class PartitionScenarioTests
{
    /// <summary>The documented bound for a removed member's attempts to run again, counted from the cut (docs/reliability.md).</summary>
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(45);

    /// <summary>
    /// The bound for the attempts of a member that downs itself and does not come back: the recovery bound plus
    /// jobs.defaults.lost-retry-hold (10 s), which such attempts wait by design (their member never returns).
    /// </summary>
    private static readonly TimeSpan GoneForGoodBound = RecoveryBound + TimeSpan.FromSeconds(10);

    /// <summary>How long a member cut off from the database may go on starting work: a probe's interval and timeout, and a margin.</summary>
    private static readonly TimeSpan StopStartingBound = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Scenario4_AMemberCutOffFromTheOthers_DownsItself_TheyTakeItsShardsAndScheduler_NothingRunsTwiceUnlessInFlight()
    {
        var history = new History();
        var database = string.Empty;
        var nodes = await ThreeNodeClusterTests.StartClusterAsync(
            3,
            connectionOf: (_, db) => database = db,
            extraConfig: "akka.remote.dot-netty.tcp.applied-adapters = [trttl]",
            scheme: "akka.trttl.tcp",
            services: s => s.AddSingleton(history),
            jobsOf: _ => b => b.AddHandler<RecordedWorkHandler, RecordedWork>("recorded")
        );
        var calls = new ConcurrentBag<Task>();
        using var stop = new CancellationTokenSource();
        try
        {
            var (isolated, majority) = (nodes[0], nodes.Skip(1).ToList());
            var isolatedAddress = Cluster.Get(isolated.Node.System!).SelfAddress;
            Assert.Equal(isolatedAddress, Cluster.Get(majority[0].Node.System!).State.Members.OrderBy(m => m, Member.AgeOrdering).First().Address);
            var singletonBefore = await FaultSuite.SingletonLeaseAsync(database);

            var producer = Produce(history, majority, "s4-", calls, stop.Token);
            await Task.Delay(TimeSpan.FromSeconds(3));
            await ScheduleLongUntilTwoRunOnAsync(history, majority, "s4-long-", "node-1", calls);
            var transport = ((RemoteActorRefProvider)((ExtendedActorSystem)isolated.Node.System!).Provider).Transport;
            foreach (var other in majority)
            {
                Assert.True(
                    await transport.ManagementCommand(
                        new SetThrottle(Cluster.Get(other.Node.System!).SelfAddress, ThrottleTransportAdapter.Direction.Both, Blackhole.Instance)
                    )
                );
            }

            history.Add(HistoryKind.Fault, string.Empty, "node-1", detail: "partitioned from the other members");
            var cut = Stopwatch.StartNew();

            // The minority (one of three) downs itself: its actor system stops. The majority removes it.
            var (downedAfter, removedAfter) = await DownedAndRemovedAsync(history, isolated, "node-1", majority[0], cut);
            await Task.Delay(TimeSpan.FromSeconds(3)); // scheduling goes on once the shards have moved
            await stop.CancelAsync();
            await producer;
            await Task.WhenAll(calls);
            var check = await SettleAndCheckAsync(history, majority[0]);
            FaultSuite.Report(
                "4 a member partitioned from the others",
                check,
                $"it downed itself {downedAfter.TotalSeconds:F1} s after the cut; removed by the others after {removedAfter.TotalSeconds:F1} s"
            );
            Assert.True(
                check.Valid,
                check
                    + Environment.NewLine
                    + string.Join(
                        Environment.NewLine,
                        history
                            .Events.Where(e => e.Kind is HistoryKind.Fault or HistoryKind.FaultEnded || check.Unexplained.Contains(e.JobId))
                            .OrderBy(e => e.At)
                            .Select(e => $"{e.At:HH:mm:ss.fff} {e.Kind} {e.JobId} {e.Node} {e.Attempt} {e.Detail}")
                    )
            );
            Assert.True(
                check.WorstRecovery <= GoneForGoodBound,
                $"the cut-off member's attempts took {check.WorstRecovery.TotalSeconds:F1} s to run again"
            );
            Assert.True(check.Acknowledged > 150, $"only {check.Acknowledged} jobs were acknowledged");
            Assert.True(check.InFlightAtFaults > 0, "nothing was running on the cut-off member at the cut: the test proves little");
            Assert.Contains(check.Duplicated, id => id.StartsWith("s4-long-", StringComparison.Ordinal)); // run again elsewhere

            // The scheduler's lease went from the cut-off member to one of the others, at a higher epoch.
            var singletonAfter = await FaultSuite.SingletonLeaseAsync(database);
            Assert.StartsWith(isolatedAddress.HostPort() + "#", singletonBefore.Owner, StringComparison.Ordinal);
            Assert.DoesNotContain(isolatedAddress.HostPort() + "#", singletonAfter.Owner, StringComparison.Ordinal);
            Assert.True(singletonAfter.Epoch > singletonBefore.Epoch);

            // The two that stayed together are one cluster of two, both Up.
            Assert.All(majority, n => Assert.Equal(2, Cluster.Get(n.Node.System!).State.Members.Count(m => m.Status == MemberStatus.Up)));
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Scenario3_AMemberCutOffFromTheDatabase_StopsStartingWork_DownsItself_AndTheOthersRunItsJobs_WithNoLateWriteAccepted()
    {
        var history = new History();
        var admin = new Npgsql.NpgsqlConnectionStringBuilder((await Jobs.Testing.PostgresServer.SharedAsync()).AdminConnectionString);
        await using var proxy = new Jobs.Testing.TcpProxy(admin.Host!, admin.Port);
        var nodes = await ThreeNodeClusterTests.StartClusterAsync(
            3,
            connectionOf: (i, db) =>
                i == 2
                    ? new Npgsql.NpgsqlConnectionStringBuilder(db)
                    {
                        Host = "127.0.0.1",
                        Port = proxy.Port,
                        Timeout = 3,
                    }.ToString()
                    : db,
            services: s => s.AddSingleton(history),
            jobsOf: _ => b => b.AddHandler<RecordedWorkHandler, RecordedWork>("recorded")
        );
        var calls = new ConcurrentBag<Task>();
        using var stop = new CancellationTokenSource();
        try
        {
            // node-3 is not the oldest: it holds shards (and their leases), not the scheduler.
            var (cutOff, others) = (nodes[2], nodes.Take(2).ToList());
            var producer = Produce(history, others, "s3-", calls, stop.Token);
            await Task.Delay(TimeSpan.FromSeconds(3));
            await ScheduleLongUntilTwoRunOnAsync(history, others, "s3-long-", "node-3", calls);

            // The job shards node-3 hosts at the cut: only their entities write for node-3 (a job that ran in node-3's
            // pool may live on another member, which stores its end).
            var hosted = await cutOff
                .Node.System!.ActorSelection("/system/sharding/job")
                .Ask<Akka.Cluster.Sharding.CurrentShardRegionState>(Akka.Cluster.Sharding.GetShardRegionState.Instance, TimeSpan.FromSeconds(10));
            var hostedShards = hosted.Shards.Select(sh => sh.ShardId).ToHashSet(StringComparer.Ordinal);
            var extractor = new Jobs.Actors.Sharding.JobsMessageExtractor(cutOff.Node.Runtime!.Settings.NumberOfShards);
            proxy.Cut();
            var cutAt = DateTimeOffset.UtcNow;
            history.Add(HistoryKind.Fault, string.Empty, "node-3", detail: "cut off from the database");
            var cut = Stopwatch.StartNew();

            // It downs itself (another member still reaches the database); the others remove it and take its shards.
            var (downedAfter, removedAfter) = await DownedAndRemovedAsync(history, cutOff, "node-3", others[0], cut);

            // Its connections work again (the database is reachable once more): nothing it held may land now.
            proxy.Restore();
            await Task.Delay(TimeSpan.FromSeconds(3));
            await stop.CancelAsync();
            await producer;
            await Task.WhenAll(calls);

            var infos = new List<JobInfo>();
            var check = await SettleAndCheckAsync(history, others[0], infos.Add);
            FaultSuite.Report(
                "3 a member cut off from the database",
                check,
                $"it downed itself {downedAfter.TotalSeconds:F1} s after the cut; removed by the others after {removedAfter.TotalSeconds:F1} s"
            );
            Assert.True(check.Valid, check.ToString());
            Assert.True(
                check.WorstRecovery <= GoneForGoodBound,
                $"the cut-off member's attempts took {check.WorstRecovery.TotalSeconds:F1} s to run again"
            );
            Assert.True(check.InFlightAtFaults > 0, "nothing was running on the cut-off member at the cut: the test proves little");
            Assert.Contains(check.Duplicated, id => id.StartsWith("s3-long-", StringComparison.Ordinal)); // run again elsewhere

            // It stopped starting work well within its leases' 10 s: once a probe of the database failed (probes every
            // 2 s, each given 2 s), its pools admit and start nothing, though the entities elsewhere that would store
            // the starts reach the database. (Before, it ran work until it downed itself, 12 s after the cut.)
            var startsAfter = history
                .Events.Where(e => e.Kind == HistoryKind.Started && e.Node == "node-3" && e.At > cutAt + StopStartingBound)
                .Select(e => $"{e.JobId} at +{(e.At - cutAt).TotalSeconds:F1} s")
                .ToList();
            Assert.True(startsAfter.Count == 0, "the cut-off member started handlers after the cut: " + string.Join(", ", startsAfter));

            // No write of the cut-off member was accepted after the cut. Its shards' leases (10 s, renewed every 2 s)
            // stay its own for at least 8 s after the cut, so an end stored in the first 7 s for a job of those shards
            // could only be its write. (Later ends of those jobs are their new owners' writes; a job run in node-3's
            // pool whose entity lives elsewhere has its end stored there, at any time.)
            var late = infos
                .Where(j => hostedShards.Contains(extractor.ShardId(j.Id)))
                .SelectMany(j =>
                    j.Attempts.Where(a => a.Outcome != AttemptOutcome.Lost && a.EndedAt > cutAt && a.EndedAt < cutAt + TimeSpan.FromSeconds(7))
                        .Select(a => $"{j.Id} #{a.Number} {a.Outcome} at {a.EndedAt:HH:mm:ss.fff} (ran on {a.Node})")
                )
                .ToList();
            Assert.True(
                late.Count == 0,
                "ends stored for the cut-off member's shards while it held their leases, after the cut: " + string.Join(", ", late)
            );
            Assert.NotEmpty(hostedShards);
            Assert.All(
                infos.Where(j =>
                    j.Id.StartsWith("s3-long-", StringComparison.Ordinal) && j.Attempts[0].Node == "node-3" && j.Attempts[0].StartedAt < cutAt
                ),
                j => Assert.Equal(AttemptOutcome.Lost, j.Attempts[0].Outcome)
            );

            // The two that stay are one cluster of two, both Up.
            Assert.All(others, n => Assert.Equal(2, Cluster.Get(n.Node.System!).State.Members.Count(m => m.Status == MemberStatus.Up)));
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Waits until <paramref name="member"/> (<paramref name="name"/>), cut off at <paramref name="cut"/>, downed itself
    /// (its actor system stopped) and <paramref name="observer"/> no longer lists it; the fault lasted until then (the
    /// member ran on, cut off). Returns both times from the cut.
    /// </summary>
    private static async Task<(TimeSpan Downed, TimeSpan Removed)> DownedAndRemovedAsync(
        History history,
        TestNode member,
        string name,
        TestNode observer,
        Stopwatch cut
    )
    {
        var address = Cluster.Get(member.Node.System!).SelfAddress;
        Assert.True(
            await member
                .Node.System!.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(60))
                .ContinueWith(t => t.IsCompletedSuccessfully, TaskScheduler.Default),
            $"{name}, cut off, did not down itself"
        );
        var downed = cut.Elapsed;
        while (Cluster.Get(observer.Node.System!).State.Members.Any(m => m.Address.Equals(address)))
        {
            Assert.True(cut.Elapsed < TimeSpan.FromSeconds(60), $"the others did not remove {name}, cut off");
            await Task.Delay(100);
        }

        history.Add(HistoryKind.FaultEnded, string.Empty, name, detail: "removed by the others");
        return (downed, cut.Elapsed);
    }

    /// <summary>
    /// Jobs of 50-250 ms, one every 40 ms, through <paramref name="through"/> in turn: about half of what their workers
    /// can run (a backlog would hold the retried attempts back and hide the recovery time).
    /// </summary>
    private static Task Produce(History history, List<TestNode> through, string prefix, ConcurrentBag<Task> calls, CancellationToken stop) =>
        Task.Run(
            async () =>
            {
                // Short: a job of 50-250 ms every 40 ms. Full: two jobs of 10-50 ms every 5 ms (a timer wait here lasts about
                // 10 ms: ~5,000 jobs over the scenario).
                var (every, perWait, shortest, step) = FaultSuite.Full ? (5, 2, 10, 10) : (40, 1, 50, 50);
                for (var n = 0; !stop.IsCancellationRequested; n++)
                {
                    calls.Add(
                        ScheduleAsync(
                            history,
                            through[n % through.Count],
                            prefix + n.ToString(CultureInfo.InvariantCulture),
                            shortest + (n % 5 * step)
                        )
                    );
                    if (n % perWait == perWait - 1)
                    {
                        await Task.Delay(every, CancellationToken.None);
                    }
                }
            },
            CancellationToken.None
        );

    /// <summary>
    /// Schedules jobs of 14 s until two of them run on <paramref name="node"/> (where a job runs depends on which
    /// member its shard landed on; a CI run once had none of nine land there): those are still running at the fault,
    /// so they must run again on the others.
    /// </summary>
    private static async Task ScheduleLongUntilTwoRunOnAsync(
        History history,
        List<TestNode> through,
        string prefix,
        string node,
        ConcurrentBag<Task> calls
    )
    {
        bool TwoRun() =>
            history.Events.Count(e => e.Kind == HistoryKind.Started && e.Node == node && e.JobId.StartsWith(prefix, StringComparison.Ordinal)) >= 2;
        for (var i = 0; i < 30 && !TwoRun(); i++)
        {
            calls.Add(ScheduleAsync(history, through[i % through.Count], prefix + i.ToString(CultureInfo.InvariantCulture), 14_000));
            await Task.Delay(150);
        }

        var waited = Stopwatch.StartNew();
        while (!TwoRun() && waited.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(50);
        }

        Assert.True(TwoRun(), $"fewer than two of thirty long jobs started on {node}, the member the fault is for");
        await Task.Delay(TimeSpan.FromMilliseconds(300));
    }

    /// <summary>
    /// Settles every call left without an answer (its entity was on the member the fault hit) by scheduling the same
    /// id again through <paramref name="through"/> (it either existed already or is stored now, once), records the
    /// final states and checks the history.
    /// </summary>
    private static async Task<QueueCheck> SettleAndCheckAsync(History history, TestNode through, Action<JobInfo>? recorded = null)
    {
        foreach (var id in history.Events.Where(e => e.Kind == HistoryKind.Unknown).Select(e => e.JobId).Distinct().ToList())
        {
            Assert.True(await ScheduleAsync(history, through, id, 100), $"{id} could not be scheduled again after the fault");
        }

        await history.RecordFinalStatesAsync(through.Client, TimeSpan.FromMinutes(2), recorded);
        return TotalQueueChecker.Check(history);
    }

    private static Task<bool> ScheduleAsync(History history, TestNode through, string id, int ms) =>
        FaultSuite.ScheduleAsync(history, through.Client, ScheduleRequest.Create("recorded", new RecordedWork(ms)) with { JobId = id });
}

/// <summary>The payload of scenario 4's jobs: how long the handler works.</summary>
public sealed record RecordedWork(int Ms);

/// <summary>Records its start and end, with its member, in the scenario's history.</summary>
public sealed class RecordedWorkHandler(History history) : Handlers.IJobHandler<RecordedWork>
{
    /// <inheritdoc />
    public async Task<Handlers.JobOutcome> HandleAsync(RecordedWork payload, Handlers.JobContext context)
    {
        history.Add(HistoryKind.Started, context.JobId, context.Node, context.Attempt);
        await Task.Delay(payload.Ms, context.CancellationToken);
        history.Add(HistoryKind.Finished, context.JobId, context.Node, context.Attempt);
        return Handlers.JobOutcome.Success();
    }
}
