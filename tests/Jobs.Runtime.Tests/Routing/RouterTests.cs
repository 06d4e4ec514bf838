using System.Collections.Concurrent;
using Jobs.Runtime.Actors;
using Jobs.Runtime.Routing;
using Jobs.Runtime.Supervision;
using Jobs.TestKit;

namespace Jobs.Runtime.Tests.Routing;

public sealed class RouterTests : ActorTestKit
{
    [Fact]
    public async Task RoundRobin_DistributesEvenly()
    {
        var router = Sys.ActorOf(new RoundRobinPool(4).Props(Props.Create<WhoAmI>()));
        var counts = new Dictionary<string, int>();
        for (var i = 0; i < 40; i++)
        {
            var who = await router.Ask<string>("who");
            counts[who] = counts.GetValueOrDefault(who) + 1;
        }

        Assert.Equal(4, counts.Count);
        Assert.All(counts.Values, c => Assert.Equal(10, c));
    }

    [Fact]
    public async Task SmallestMailbox_AvoidsBusyRoutee()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var router = Sys.ActorOf(new SmallestMailboxPool(3).Props(Props.Create(() => new Blocking(gate.Task))));
        var first = await router.Ask<string>("block-and-name"); // one routee now waits on the gate
        for (var i = 0; i < 5; i++)
        {
            router.Tell("queued", null); // pile up on the idle ones, never the blocked one
        }

        var names = new HashSet<string>();
        for (var i = 0; i < 20; i++)
        {
            names.Add(await router.Ask<string>("name"));
        }

        Assert.DoesNotContain(first, names);
        gate.SetResult();
    }

    [Fact]
    public async Task ConsistentHash_SameKey_SameRoutee()
    {
        var router = Sys.ActorOf(new ConsistentHashPool(5) { HashMapping = m => m is Keyed k ? k.Key : null }.Props(Props.Create<WhoAmI>()));
        var owners = new Dictionary<string, string>();
        for (var round = 0; round < 3; round++)
        {
            for (var k = 0; k < 50; k++)
            {
                var key = "key-" + k;
                var who = await router.Ask<string>(new Keyed(key));
                if (owners.TryGetValue(key, out var previous))
                {
                    Assert.Equal(previous, who);
                }

                owners[key] = who;
            }
        }

        Assert.True(owners.Values.Distinct().Count() >= 3, "keys should spread over several routees");
    }

    [Fact]
    public async Task Broadcast_ReachesEveryRoutee()
    {
        var router = Sys.ActorOf(new RoundRobinPool(3).Props(Props.Create(() => new Reporter(TestActor.Ref))));
        router.Tell(new Broadcast("hello"), null);
        var replies = await TestActor.ReceiveNAsync(3);
        Assert.Equal(3, replies.Cast<string>().Distinct().Count());

        var broadcaster = Sys.ActorOf(new BroadcastPool(2).Props(Props.Create(() => new Reporter(TestActor.Ref))));
        broadcaster.Tell("all", null);
        Assert.Equal(2, (await TestActor.ReceiveNAsync(2)).Count);
    }

    [Fact]
    public async Task FailingRoutee_IsRestartedByPool_StaysInRotation()
    {
        var router = Sys.ActorOf(new RoundRobinPool(2).Props(Props.Create<WhoAmI>()));
        var names = new[] { await router.Ask<string>("who"), await router.Ask<string>("who") };
        router.Tell("boom", null); // goes to routee 0, which is restarted
        var after = new HashSet<string>();
        for (var i = 0; i < 4; i++)
        {
            after.Add(await router.Ask<string>("who"));
        }

        Assert.Equal(names.ToHashSet(), after);
    }

    [Fact]
    public async Task StoppedRoutees_Removed_RouterStopsWhenNoneLeft()
    {
        var router = Sys.ActorOf(new RoundRobinPool(2) { SupervisorStrategy = SupervisorStrategy.StoppingStrategy }.Props(Props.Create<WhoAmI>()));
        await TestActor.WatchAsync(router);
        router.Tell(new Broadcast("boom"), null);
        await TestActor.ExpectTerminatedAsync(router);
    }

    [Fact]
    public async Task ConcurrentSenders_RoundRobin_NoMessageLost()
    {
        var counter = new ConcurrentDictionary<string, int>();
        var router = Sys.ActorOf(new RoundRobinPool(4).Props(Props.Create(() => new Tally(counter))));
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                router.Tell("x", null);
            }
        })));
        await AwaitConditionAsync(() => counter.Values.Sum() == 40_000, TimeSpan.FromSeconds(10));
        Assert.All(counter.Values, v => Assert.Equal(10_000, v));
    }

    private sealed record Keyed(string Key);

    private sealed class WhoAmI : ActorBase
    {
        protected override bool Receive(object message)
        {
            if (message is "boom")
            {
                throw new InvalidOperationException("boom");
            }

            Sender.Tell(Self.Path.Name, Self);
            return true;
        }
    }

    private sealed class Blocking(Task gate) : ActorBase
    {
        protected override bool Receive(object message)
        {
            if (message is "block-and-name")
            {
                Sender.Tell(Self.Path.Name, Self);
                RunTask(gate);
            }
            else if (message is "name")
            {
                Sender.Tell(Self.Path.Name, Self);
            }

            return true;
        }
    }

    private sealed class Reporter(IActorRef probe) : ActorBase
    {
        protected override bool Receive(object message)
        {
            probe.Tell(Self.Path.Name, Self);
            return true;
        }
    }

    private sealed class Tally(ConcurrentDictionary<string, int> counter) : ActorBase
    {
        private int _seen;

        protected override bool Receive(object message)
        {
            counter[Self.Path.Name] = ++_seen;
            return true;
        }
    }
}
