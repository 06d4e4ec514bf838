using Akka.Cluster;
using Jobs.Client;
using Jobs.Testing;

namespace Jobs.Actors.Tests;

/// <summary>
/// Three job nodes, each its own Akka actor system on loopback, joined in one cluster on one PostgreSQL database:
/// jobs scheduled through any node run once, spread over the nodes, and a node that leaves or dies hands its jobs to
/// the others. Real nodes, real remoting, no mocks.
/// </summary>
public sealed class ThreeNodeClusterTests
{
    /// <summary>Starts <paramref name="count"/> nodes on one database; the first is the seed.</summary>
    internal static async Task<List<TestNode>> StartClusterAsync(int count, string? extraConfig = null, HandlerLog? log = null)
    {
        var database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("cluster");
        var seedPort = Ports.Free();
        var nodes = new List<TestNode>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var port = i == 0 ? seedPort : Ports.Free();
                nodes.Add(await TestNode.StartAsync(Backend.Postgres, manualClock: false, log: log, storageConfig: $"jobs.persistence {{ backend = postgresql, postgresql.connection-string = \"{database}\" }}", extraConfig: $$"""
                    jobs.node.name = node-{{i + 1}}
                    akka.remote.dot-netty.tcp.port = {{port}}
                    akka.cluster.seed-nodes = ["akka.tcp://jobs@127.0.0.1:{{seedPort}}"]
                    {{extraConfig ?? string.Empty}}
                    """));
            }

            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (nodes.Any(n => Cluster.Get(n.Node.System!).State.Members.Count(m => m.Status == MemberStatus.Up) < count))
            {
                Assert.True(DateTime.UtcNow < deadline, "the nodes did not all see each other Up");
                await Task.Delay(50);
            }

            return nodes;
        }
        catch
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }

            throw;
        }
    }

    [Fact]
    public async Task JobsScheduledThroughAnyNode_RunOnce_SpreadOverTheNodes()
    {
        var nodes = await StartClusterAsync(3);
        try
        {
            var ids = new List<string>();
            for (var i = 0; i < 60; i++)
            {
                ids.Add((await nodes[i % 3].Client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoPayload($"c{i}")))).JobId);
            }

            var infos = new List<JobInfo>();
            foreach (var id in ids)
            {
                infos.Add(await nodes[(ids.IndexOf(id) + 1) % 3].WaitForStatusAsync(id, JobStatus.Succeeded, TimeSpan.FromSeconds(60)));
            }

            Assert.All(infos, i => Assert.Single(i.Attempts));
            var ranOn = infos.Select(i => i.Attempts[0].Node).Distinct().ToList();
            Assert.True(ranOn.Count >= 2, "every job ran on " + string.Join(", ", ranOn));
            Assert.Equal(60, nodes.Sum(n => n.Log.Events.Count(e => e.Event == "start")));

            // A batch is one write whichever members its jobs' entities live on; an id that exists is answered by
            // its entity (wherever it lives) and the rest are still stored.
            var batch = await nodes[1].Client.ScheduleManyAsync([.. Enumerable.Range(0, 40).Select(i => ScheduleRequest.Create("echo", new EchoPayload($"b{i}")))]);
            Assert.All(batch, r => Assert.False(r.Result!.AlreadyExisted));
            var mixed = await nodes[2].Client.ScheduleManyAsync([ScheduleRequest.Create("echo", new EchoPayload("again")) with { JobId = ids[0] }, ScheduleRequest.Create("echo", new EchoPayload("new"))]);
            Assert.True(mixed[0].Result!.AlreadyExisted);
            Assert.False(mixed[1].Result!.AlreadyExisted);
            foreach (var id in batch.Select(r => r.Result!.JobId).Append(mixed[1].Result!.JobId))
            {
                Assert.Single((await nodes[0].WaitForStatusAsync(id, JobStatus.Succeeded, TimeSpan.FromSeconds(60))).Attempts);
            }

            Assert.Equal(60 + 41, nodes.Sum(n => n.Log.Events.Count(e => e.Event == "start")));

            // Every node sees the same three members, one of them running the scheduler, and shards on the members.
            foreach (var node in nodes)
            {
                var members = await node.Node.GetMembersAsync(TimeSpan.FromSeconds(5));
                Assert.Equal(3, members.Count);
                Assert.All(members, m => Assert.Equal(("Up", true), (m.Status, m.Reachable)));
                Assert.Single(members, m => m.Self);
                Assert.Single(members, m => m.Scheduler);
                Assert.True(members.Sum(m => m.Shards ?? 0) > 0, "no shard hosted anywhere");
                Assert.All(members, m => Assert.Equal(0, m.Running));
            }

            Assert.Single(nodes.Select(n => n.Node.GetMembersAsync(TimeSpan.FromSeconds(5)).Result.Single(m => m.Scheduler).Address).Distinct());
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
    public async Task ANodeThatDies_ItsRunningAttemptsAreLost_AndRunAgainOnTheOthers()
    {
        // The third node dies without leaving (its actor system stops, no coordinated shutdown): the others find it
        // unreachable, the split-brain resolver downs it, and its shards and attempts move.
        var log = new HandlerLog();
        var nodes = await StartClusterAsync(3, "akka.coordinated-shutdown.run-by-actor-system-terminate = off", log);
        try
        {
            var ids = new List<string>();
            for (var i = 0; i < 6; i++)
            {
                ids.Add((await nodes[i % 2].Client.ScheduleAsync(ScheduleRequest.Create("wait", new WaitPayload($"g{i}")) with { Timeout = TimeSpan.FromMinutes(5) })).JobId);
            }

            var running = new Dictionary<string, JobInfo>();
            foreach (var id in ids)
            {
                running[id] = await nodes[0].WaitForStatusAsync(id, JobStatus.Running, TimeSpan.FromSeconds(30));
            }

            // The victim: the second or third node, whichever runs more of the six (the survivors' eight workers can
            // take every job again).
            var victimName = running.Values.Count(i => i.Attempts[^1].Node == "node-2") > running.Values.Count(i => i.Attempts[^1].Node == "node-3") ? "node-2" : "node-3";
            var victim = nodes[victimName == "node-2" ? 1 : 2];
            var survivor = nodes[victimName == "node-2" ? 2 : 1];
            var onVictim = running.Where(r => r.Value.Attempts[^1].Node == victimName).Select(r => r.Key).ToList();
            Assert.NotEmpty(onVictim);
            var killedAt = DateTime.UtcNow;
            await victim.Node.System!.Terminate();

            // Each of its attempts is lost and starts again on a survivor.
            foreach (var id in onVictim)
            {
                var deadline = DateTime.UtcNow.AddSeconds(60);
                while ((await nodes[0].Client.GetAsync(id)).Attempts is var attempts && (attempts.Count < 2 || attempts[^1].Node == victimName))
                {
                    Assert.True(DateTime.UtcNow < deadline, $"job {id} of the dead node did not start again within 60 s");
                    await Task.Delay(100);
                }
            }

            var recovery = DateTime.UtcNow - killedAt;
            Console.WriteLine($"a dead node's jobs ran again after {recovery.TotalSeconds:F1} s");
            foreach (var gate in Enumerable.Range(0, 6))
            {
                log.Gates.GetOrAdd($"g{gate}", _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            }

            foreach (var id in ids)
            {
                var info = await survivor.WaitForStatusAsync(id, JobStatus.Succeeded, TimeSpan.FromSeconds(30));
                if (onVictim.Contains(id))
                {
                    Assert.Equal([AttemptOutcome.Lost, AttemptOutcome.Succeeded], info.Attempts.Select(a => a.Outcome));
                    Assert.NotEqual(victimName, info.Attempts[1].Node);
                }
                else
                {
                    Assert.Equal([AttemptOutcome.Succeeded], info.Attempts.Select(a => a.Outcome)); // untouched by the death
                }
            }

            Assert.True(recovery < TimeSpan.FromSeconds(30), $"the dead node's jobs took {recovery.TotalSeconds:F1} s to run again");
        }
        finally
        {
            foreach (var gate in Enumerable.Range(0, 6))
            {
                log.Gates.GetOrAdd($"g{gate}", _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            }

            foreach (var node in nodes)
            {
                try
                {
                    await node.DisposeAsync();
                }
                catch (Exception ex) when (ex is not OutOfMemoryException && node.Node.System?.WhenTerminated.IsCompleted == true)
                {
                    // The killed node's system is gone already.
                }
            }
        }
    }

    [Fact]
    public async Task AQueuePausedThroughOneNode_IsPausedOnEveryNode_UntilResumedThroughAnother()
    {
        var nodes = await StartClusterAsync(3);
        try
        {
            await nodes[0].Client.PauseQueueAsync("default");
            foreach (var node in nodes)
            {
                var deadline = DateTime.UtcNow.AddSeconds(20);
                while (!(await node.Client.ListQueuesAsync()).Single(q => q.Name == "default").Paused)
                {
                    Assert.True(DateTime.UtcNow < deadline, $"{node.Node.NodeName} did not pause the queue");
                    await Task.Delay(50);
                }
            }

            var ids = new List<string>();
            foreach (var node in nodes)
            {
                ids.Add((await node.Client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoPayload("paused")))).JobId);
            }

            await Task.Delay(1500); // a scheduler pass and every pool had their chance: nothing may start
            foreach (var id in ids)
            {
                Assert.Equal(JobStatus.Queued, (await nodes[1].Client.GetAsync(id)).Status);
            }

            await nodes[1].Client.ResumeQueueAsync("default");
            foreach (var id in ids)
            {
                await nodes[2].WaitForStatusAsync(id, JobStatus.Succeeded, TimeSpan.FromSeconds(30));
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
}
