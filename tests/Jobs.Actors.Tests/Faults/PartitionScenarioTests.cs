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
/// Fault scenario 4 (docs/reliability.md): one member cut off from the other members while every member still
/// reaches the database. Three real members in this process on loopback; the cut is Akka's throttling transport
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

    [Fact]
    public async Task Scenario4_AMemberPartitionedFromTheOthers_DownsItself_TheOthersTakeItsShardsAndTheScheduler_AndNothingRunsTwiceThatWasNotInFlight()
    {
        var history = new History();
        var database = string.Empty;
        var nodes = await ThreeNodeClusterTests.StartClusterAsync(
            3,
            connectionOf: (_, db) => database = db,
            extraConfig: "akka.remote.dot-netty.tcp.applied-adapters = [trttl]",
            scheme: "akka.trttl.tcp",
            services: s => s.AddSingleton(history),
            jobsOf: _ => b => b.AddHandler<RecordedWorkHandler, RecordedWork>("recorded"));
        var calls = new ConcurrentBag<Task>();
        using var stop = new CancellationTokenSource();
        try
        {
            var (isolated, majority) = (nodes[0], nodes.Skip(1).ToList());
            var isolatedAddress = Cluster.Get(isolated.Node.System!).SelfAddress;
            Assert.Equal(isolatedAddress, Cluster.Get(majority[0].Node.System!).State.Members.OrderBy(m => m, Member.AgeOrdering).First().Address);
            var singletonBefore = await FaultSuite.SingletonLeaseAsync(database);

            // Jobs of 50-250 ms, one every 40 ms, through the two members that stay together: about half of what
            // their workers can run (a backlog would hold the retried attempts back and hide the recovery time).
            var producer = Task.Run(async () =>
            {
                for (var n = 0; !stop.IsCancellationRequested; n++)
                {
                    var id = "s4-" + n.ToString(CultureInfo.InvariantCulture);
                    calls.Add(ScheduleAsync(history, majority[n % 2], id, 50 + (n % 5 * 50)));
                    await Task.Delay(40);
                }
            });

            // And long ones just before the cut, until two of them run on the member to be cut off (where a job
            // runs depends on which member its shard landed on): those are still running when it downs itself, so
            // they must run again on the others. A CI run once had none of nine land there.
            await Task.Delay(TimeSpan.FromSeconds(3));
            bool LongOnIsolated() => history.Events.Count(e => e.Kind == HistoryKind.Started && e.Node == "node-1" && e.JobId.StartsWith("s4-long-", StringComparison.Ordinal)) >= 2;
            for (var i = 0; i < 30 && !LongOnIsolated(); i++)
            {
                calls.Add(ScheduleAsync(history, majority[i % 2], "s4-long-" + i.ToString(CultureInfo.InvariantCulture), 14_000));
                await Task.Delay(150);
            }

            var waitedForLong = Stopwatch.StartNew();
            while (!LongOnIsolated() && waitedForLong.Elapsed < TimeSpan.FromSeconds(5))
            {
                await Task.Delay(50);
            }

            Assert.True(LongOnIsolated(), "fewer than two of thirty long jobs started on the member to be cut off");
            await Task.Delay(TimeSpan.FromMilliseconds(300));
            var transport = ((RemoteActorRefProvider)((ExtendedActorSystem)isolated.Node.System!).Provider).Transport;
            foreach (var other in majority)
            {
                Assert.True(await transport.ManagementCommand(new SetThrottle(Cluster.Get(other.Node.System!).SelfAddress, ThrottleTransportAdapter.Direction.Both, Blackhole.Instance)));
            }

            history.Add(HistoryKind.Fault, string.Empty, "node-1", detail: "partitioned from the other members");
            var cut = Stopwatch.StartNew();

            // The minority (one of three) downs itself: its actor system stops. The majority removes it.
            Assert.True(await isolated.Node.System!.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(60)).ContinueWith(t => t.IsCompletedSuccessfully, TaskScheduler.Default), "the member cut off from the others did not down itself");
            var downedAfter = cut.Elapsed;
            while (Cluster.Get(majority[0].Node.System!).State.Members.Any(m => m.Address.Equals(isolatedAddress)))
            {
                Assert.True(cut.Elapsed < TimeSpan.FromSeconds(60), "the majority did not remove the member cut off from it");
                await Task.Delay(100);
            }

            var removedAfter = cut.Elapsed;
            history.Add(HistoryKind.FaultEnded, string.Empty, "node-1", detail: "removed by the others"); // it ran on, cut off, until then
            await Task.Delay(TimeSpan.FromSeconds(5)); // scheduling goes on once the shards have moved
            await stop.CancelAsync();
            await producer;
            await Task.WhenAll(calls);

            // A call left without an answer (its entity was on the cut-off member) is settled by scheduling the same
            // id again: it either existed already or is stored now, once.
            foreach (var id in history.Events.Where(e => e.Kind == HistoryKind.Unknown).Select(e => e.JobId).Distinct().ToList())
            {
                Assert.True(await ScheduleAsync(history, majority[0], id, 100), $"{id} could not be scheduled again after the partition");
            }

            await history.RecordFinalStatesAsync(majority[0].Client, TimeSpan.FromMinutes(2));
            var check = TotalQueueChecker.Check(history);
            FaultSuite.Report("4 a member partitioned from the others", check, $"it downed itself {downedAfter.TotalSeconds:F1} s after the cut; removed by the others after {removedAfter.TotalSeconds:F1} s");
            Assert.True(check.Valid, check + Environment.NewLine + string.Join(Environment.NewLine, history.Events.Where(e => e.Kind is HistoryKind.Fault or HistoryKind.FaultEnded || check.Unexplained.Contains(e.JobId)).OrderBy(e => e.At).Select(e => $"{e.At:HH:mm:ss.fff} {e.Kind} {e.JobId} {e.Node} {e.Attempt} {e.Detail}")));
            Assert.True(check.WorstRecovery <= RecoveryBound, $"the cut-off member's attempts took {check.WorstRecovery.TotalSeconds:F1} s to run again");
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
