using System.Collections.Concurrent;
using Akka.Actor;
using Jobs.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Actors.Tests;

/// <summary>
/// Members that run different kinds and queues, on one PostgreSQL: a job is accepted by any member when some member
/// runs its kind and queue, and runs only on a member that does; a watch on one member sees the transitions of jobs
/// whose entities live on the others; a kind's concurrency cap holds for the whole cluster. Real Akka nodes on loopback.
/// </summary>
[Collection(ClusterTests.Name)]
public sealed class CapabilityRoutingTests
{
    [Fact]
    public async Task AKindOnlyOneMemberRuns_IsAcceptedByAnother_RunsOnlyWhereItIsRegistered_AndWatchesSpanTheCluster()
    {
        // node-1 runs echo/fail/wait on "default"; node-2 also runs "special" and the queue "reports".
        var nodes = await ThreeNodeClusterTests.StartClusterAsync(
            2,
            configOf: i => i == 1 ? "jobs.queues.reports.workers = 2" : string.Empty,
            jobsOf: i => i == 1 ? b => b.AddHandler<EchoHandler, EchoPayload>("special") : null
        );
        try
        {
            var (plain, capable) = (nodes[0], nodes[1]);
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (!plain.Node.Runtime!.Directory.TryGetKind("special", out _) || !plain.Node.Runtime.Directory.RemoteQueues.Contains("reports"))
            {
                Assert.True(DateTime.UtcNow < deadline, "node-1 never learned what node-2 runs");
                await Task.Delay(50);
            }

            // A kind nobody runs is refused, naming every kind the cluster runs.
            var unknown = await Assert.ThrowsAsync<JobValidationException>(() =>
                plain.Client.ScheduleAsync(ScheduleRequest.Create("nope", new EchoPayload("x")))
            );
            Assert.Equal("kind", unknown.Field);
            Assert.Contains("special", unknown.Message, StringComparison.Ordinal);

            // A watch on node-1 for the kind: node-2's entities send their transitions to it.
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            var seen = new ConcurrentDictionary<string, byte>();
            var watching = Task.Run(async () =>
            {
                await foreach (var t in plain.Client.WatchAsync(new WatchQuery { Kind = "special", Status = JobStatus.Succeeded }, cancel.Token))
                {
                    seen[t.JobId] = 0;
                }
            });
            while (!capable.Node.Runtime!.Directory.HasRemoteWatchers)
            {
                Assert.True(DateTime.UtcNow < deadline.AddSeconds(10), "node-2 never learned about node-1's watch");
                await Task.Delay(50);
            }

            // Scheduled one by one through node-1 (which would start a job of its own kinds at once), and in a batch.
            var ids = new List<string>();
            for (var i = 0; i < 20; i++)
            {
                ids.Add((await plain.Client.ScheduleAsync(ScheduleRequest.Create("special", new EchoPayload($"s{i}")))).JobId);
            }

            ids.AddRange(
                (
                    await plain.Client.ScheduleManyAsync([
                        .. Enumerable.Range(0, 20).Select(i => ScheduleRequest.Create("special", new EchoPayload($"b{i}"))),
                    ])
                ).Select(r => r.Result!.JobId)
            );
            var reports = new List<string>();
            for (var i = 0; i < 10; i++)
            {
                reports.Add(
                    (await plain.Client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoPayload($"r{i}")) with { Queue = "reports" })).JobId
                );
            }

            foreach (var id in ids.Concat(reports))
            {
                var info = await plain.WaitForStatusAsync(id, JobStatus.Succeeded, TimeSpan.FromSeconds(60));
                var attempt = Assert.Single(info.Attempts);
                Assert.Equal("node-2", attempt.Node);
            }

            Assert.DoesNotContain(plain.Log.Events, e => ids.Contains(e.JobId) || reports.Contains(e.JobId));
            Assert.Equal(50, capable.Log.Events.Count(e => e.Event == "start" && (ids.Contains(e.JobId) || reports.Contains(e.JobId))));

            // The jobs' entities live on both members (their shards are spread), and the watch saw every one succeed.
            deadline = DateTime.UtcNow.AddSeconds(10);
            while (!ids.All(seen.ContainsKey))
            {
                Assert.True(DateTime.UtcNow < deadline, $"the watch on node-1 saw {ids.Count(seen.ContainsKey)} of {ids.Count} jobs succeed");
                await Task.Delay(50);
            }

            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watching);

            // Once node-1's watch ended, node-2 stops sending transitions.
            deadline = DateTime.UtcNow.AddSeconds(10);
            while (capable.Node.Runtime.Directory.HasRemoteWatchers)
            {
                Assert.True(DateTime.UtcNow < deadline, "node-2 still believes node-1 watches");
                await Task.Delay(50);
            }
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task AKindCap_HoldsAcrossTheWholeCluster_WhileBothMembersRunTheKind()
    {
        // Two members of 4 workers each and a cap of 3: each member alone would stay under it, both together not.
        var tracker = new ConcurrencyTracker { DelayMs = 150 };
        var nodes = await ThreeNodeClusterTests.StartClusterAsync(
            2,
            extraConfig: "jobs.kind-limits { count = 3 }",
            jobsOf: _ => b => b.AddHandler<CountHandler, CountPayload>("count"),
            services: s => s.AddSingleton(tracker)
        );
        try
        {
            var ids = new List<string>();
            for (var i = 0; i < 30; i++)
            {
                ids.Add((await nodes[i % 2].Client.ScheduleAsync(ScheduleRequest.Create("count", new CountPayload(i)))).JobId);
            }

            ids.AddRange(
                (
                    await nodes[1]
                        .Client.ScheduleManyAsync([.. Enumerable.Range(0, 60).Select(i => ScheduleRequest.Create("count", new CountPayload(i)))])
                ).Select(r => r.Result!.JobId)
            );
            var others = (
                await nodes[0]
                    .Client.ScheduleManyAsync([.. Enumerable.Range(0, 20).Select(i => ScheduleRequest.Create("echo", new EchoPayload($"o{i}")))])
            )
                .Select(r => r.Result!.JobId)
                .ToList();
            var ranOn = new HashSet<string>();
            foreach (var id in ids.Concat(others))
            {
                ranOn.Add(Assert.Single((await nodes[0].WaitForStatusAsync(id, JobStatus.Succeeded, TimeSpan.FromSeconds(90))).Attempts).Node);
            }

            Assert.Equal(2, ranOn.Count); // both members ran jobs
            Assert.InRange(tracker.Max, 1, 3);
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task AReportToAnEntityWhoseMemberDied_IsSentAgainOnceItIsRemoved_SoTheJobEnds()
    {
        // The job's entity lives on node-3; its attempt runs on node-2 (the only member that runs "special"). node-3
        // dies (no leave) while the attempt runs, and the attempt ends before node-3 is removed: its report goes to
        // the dead member. Once node-3 is removed, node-2's pool sends it again and the entity, at its shard's new
        // home, ends the job. Watched through the index only: reading the job would wake its entity (which asks the
        // pool), and nothing else would.
        var log = new HandlerLog();
        var nodes = await ThreeNodeClusterTests.StartClusterAsync(
            3,
            extraConfig: "akka.coordinated-shutdown.run-by-actor-system-terminate = off",
            log: log,
            jobsOf: i => i == 1 ? b => b.AddHandler<WaitHandler, WaitPayload>("special") : null
        );
        try
        {
            var warm = await nodes[0]
                .Client.ScheduleManyAsync([.. Enumerable.Range(0, 150).Select(i => ScheduleRequest.Create("echo", new EchoPayload($"w{i}")))]);
            foreach (var r in warm)
            {
                await nodes[0].WaitForStatusAsync(r.Result!.JobId, JobStatus.Succeeded, TimeSpan.FromSeconds(60));
            }

            // node-3 hosts shards (if they were all allocated before its region registered, rebalancing gives it some).
            var dying = Akka.Cluster.Cluster.Get(nodes[2].Node.System!).SelfAddress;
            var shards = new HashSet<string>();
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (shards.Count == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "node-3 never hosted a job shard");
                await Task.Delay(500);
                var stats = await Akka
                    .Cluster.Sharding.ClusterSharding.Get(nodes[0].Node.System!)
                    .ShardRegion(Entities.JobEntity.TypeName)
                    .Ask<Akka.Cluster.Sharding.ClusterShardingStats>(
                        new Akka.Cluster.Sharding.GetClusterShardingStats(TimeSpan.FromSeconds(5)),
                        TimeSpan.FromSeconds(10)
                    );
                shards = stats.Regions.TryGetValue(dying, out var region) ? [.. region.Stats.Keys] : [];
            }

            var id = Enumerable
                .Range(0, 10_000)
                .Select(i => $"lost-report-{i}")
                .First(c =>
                    shards.Contains(
                        Sharding
                            .JobShards.ShardOf(c, nodes[0].Node.Runtime!.Settings.NumberOfShards)
                            .ToString(System.Globalization.CultureInfo.InvariantCulture)
                    )
                );
            var gate = "report-" + Guid.NewGuid();
            await nodes[0].Client.ScheduleAsync(ScheduleRequest.Create("special", new WaitPayload(gate)) with { JobId = id });
            deadline = DateTime.UtcNow.AddSeconds(30);
            while (log.Runs(id) == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "the job never started on node-2");
                await Task.Delay(50);
            }

            await nodes[2].Node.System!.Terminate(); // dies without leaving: the others see it unreachable, then remove it
            log.Gates[gate].TrySetResult(); // the attempt ends: its report goes to the dead member
            deadline = DateTime.UtcNow.AddSeconds(90);
            while (!(await nodes[0].Client.CountAsync(new JobQuery { Kind = "special" })).TryGetValue(JobStatus.Succeeded, out var done) || done != 1)
            {
                Assert.True(DateTime.UtcNow < deadline, "the job never ended: its report was lost with the member its entity lived on");
                await Task.Delay(200);
            }

            var info = await nodes[0].Client.GetAsync(id);
            Assert.Equal(AttemptOutcome.Succeeded, Assert.Single(info.Attempts).Outcome); // the attempt that ran, not a retry
            Assert.Equal(1, log.Runs(id));
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }
}
