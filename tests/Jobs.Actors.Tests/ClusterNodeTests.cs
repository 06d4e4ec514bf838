using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using Jobs.Actors.Sharding;
using Jobs.Actors.Support;
using Jobs.Client;
using Jobs.Hocon;
using Microsoft.Extensions.Time.Testing;

namespace Jobs.Actors.Tests;

/// <summary>
/// A node is a one-node Akka cluster: jobs are entities of Akka.Cluster.Sharding in the shard their index row
/// records, the scheduler is a cluster singleton, and a node whose jobs live in its own process (SQLite, memory)
/// admits no other member. Real Akka nodes on loopback.
/// </summary>
public sealed class ClusterNodeTests : Akka.TestKit.Xunit2.TestKit
{
    [Fact]
    public async Task Node_IsAOneNodeCluster_JobsAreShardedEntitiesInTheirIndexShard_SchedulerIsASingleton()
    {
        await using var node = await TestNode.StartAsync(Backend.Sqlite, manualClock: false);
        var system = node.Node.System!;
        var cluster = Cluster.Get(system);
        Assert.Equal([MemberStatus.Up], cluster.State.Members.Select(m => m.Status));

        var id = (
            await node.Client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoPayload("later")) with { Delay = TimeSpan.FromMinutes(10) })
        ).JobId;
        var region = ClusterSharding.Get(system).ShardRegion("job");
        var state = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(5));
        var shard = Assert.Single(state.Shards, s => s.EntityIds.Contains(id));
        Assert.Equal(
            JobShards.ShardOf(id, node.Node.Runtime!.Settings.NumberOfShards).ToString(System.Globalization.CultureInfo.InvariantCulture),
            shard.ShardId
        );
        Assert.Contains("recurring", ClusterSharding.Get(system).ShardTypeNames);

        var singleton = await system.ActorSelection("/user/scheduler/scheduler").Ask<ActorIdentity>(new Identify(1), TimeSpan.FromSeconds(5));
        Assert.NotNull(singleton.Subject);

        await node.Client.CancelAsync(id);
        var health = await node.Node.CheckHealthAsync(TimeSpan.FromSeconds(5));
        Assert.True(health.Ready, string.Join(", ", health.Checks));
    }

    /// <summary>A bare actor system (no job node) that joins <paramref name="node"/>'s cluster as a member.</summary>
    internal static ActorSystem JoinForeignMember(ActorSystem node) =>
        ActorSystem.Create(
            node.Name,
            ConfigurationFactory.ParseString(
                $$"""
                akka.actor.provider = cluster
                akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
                akka.cluster.seed-nodes = ["{{Cluster.Get(node).SelfAddress}}"]
                akka.cluster.sharding.distributed-data.durable.keys = []
                akka.cluster.distributed-data.durable.keys = []
                akka.loglevel = ERROR
                """
            )
        );

    [Fact]
    public async Task SqliteNode_DownsAnotherMemberThatJoinsIt()
    {
        await using var node = await TestNode.StartAsync(Backend.Sqlite, manualClock: false);
        var cluster = Cluster.Get(node.Node.System!);
        var foreign = JoinForeignMember(node.Node.System!);
        try
        {
            var removed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Cluster.Get(foreign).RegisterOnMemberRemoved(() => removed.TrySetResult());
            await removed.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await AwaitAssertAsync(() => Assert.Equal([cluster.SelfAddress], cluster.State.Members.Select(m => m.Address)), TimeSpan.FromSeconds(10));

            // The node itself goes on working.
            var id = (await node.Client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoPayload("still here")))).JobId;
            await node.WaitForStatusAsync(id, JobStatus.Succeeded);
        }
        finally
        {
            await foreign.Terminate();
        }
    }

    [Fact]
    public async Task SqliteNode_WithSeedNodes_RefusesToStart_NamingTheBackend()
    {
        var error = await Assert.ThrowsAsync<ConfigException>(() =>
            TestNode.StartAsync(Backend.Sqlite, manualClock: false, extraConfig: "akka.cluster.seed-nodes = [\"akka.tcp://jobs@127.0.0.1:1\"]")
        );
        Assert.Contains("backend = postgresql", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClockTimers_FollowTheirClock_AndDropTicksOfReplacedOrCancelledTimers()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var owner = CreateTestProbe();
        var timers = new ClockTimers(owner.Ref, clock);
        timers.StartSingleTimer("a", "first", TimeSpan.FromMinutes(1));
        await owner.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
        clock.Advance(TimeSpan.FromMinutes(1));
        var first = await owner.ExpectMsgAsync<ClockTimers.Tick>();
        timers.StartSingleTimer("a", "second", TimeSpan.FromMinutes(1)); // replaces "a" before the first tick is read
        Assert.Null(timers.Accept(first));

        clock.Advance(TimeSpan.FromMinutes(1));
        var second = await owner.ExpectMsgAsync<ClockTimers.Tick>();
        Assert.Equal("second", timers.Accept(second));
        Assert.False(timers.IsTimerActive("a"));

        timers.StartPeriodicTimer("p", "tick", TimeSpan.FromSeconds(1));
        clock.Advance(TimeSpan.FromSeconds(1));
        var periodic = await owner.ExpectMsgAsync<ClockTimers.Tick>();
        timers.Cancel("p");
        Assert.Null(timers.Accept(periodic));
        clock.Advance(TimeSpan.FromSeconds(5));
        await owner.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
    }
}
