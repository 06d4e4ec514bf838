using Jobs.Runtime.Actors;
using Jobs.Runtime.Supervision;
using Jobs.Runtime.Tests.Actors;
using Jobs.TestKit;

namespace Jobs.Runtime.Tests.Supervision;

public sealed class SupervisionTests : ActorTestKit
{
    private IActorRef Supervisor(SupervisorStrategy strategy, TestProbe probe)
    {
        var parent = Sys.ActorOf(Props.Create(() => new Parent(probe.Ref)).WithSupervisorStrategy(strategy));
        probe.ExpectMsgAsync<string>("parent-started").GetAwaiter().GetResult();
        return parent;
    }

    private async Task<IActorRef> ChildOf(IActorRef parent, string name)
    {
        var child = await parent.Ask<IActorRef>(new Spawn(name), TimeSpan.FromSeconds(3));
        await TestActor.ExpectMsgAsync<string>($"started:{name}");
        return child;
    }

    [Fact]
    public async Task Restart_DropsFailingMessage_KeepsMailbox_ResetsState()
    {
        var parent = Supervisor(new OneForOneStrategy(_ => Directive.Restart), TestActor);
        var child = await ChildOf(parent, "c");
        child.Tell("a", null);
        child.Tell("boom", null);
        child.Tell("b", null);
        await TestActor.ExpectMsgAsync<string>("a");
        await TestActor.ExpectMsgAsync<string>("prerestart:c:boom:boom");
        await TestActor.ExpectMsgAsync<string>("stopped:c");
        await TestActor.ExpectMsgAsync<string>("started:c");
        await TestActor.ExpectMsgAsync<string>("b"); // queued behind the failing message, not lost
        Assert.Equal(1, await child.Ask<int>("get")); // fresh instance: only "b" counted
    }

    [Fact]
    public async Task Resume_KeepsState_DropsFailingMessage()
    {
        var parent = Supervisor(new OneForOneStrategy(_ => Directive.Resume), TestActor);
        var child = await ChildOf(parent, "c");
        child.Tell("a", null);
        child.Tell("boom", null);
        child.Tell("b", null);
        await TestActor.ExpectMsgAsync<string>("a");
        await TestActor.ExpectMsgAsync<string>("b");
        Assert.Equal(2, await child.Ask<int>("get"));
    }

    [Fact]
    public async Task Stop_StopsChild()
    {
        var parent = Supervisor(new OneForOneStrategy(_ => Directive.Stop), TestActor);
        var child = await ChildOf(parent, "c");
        var watcher = CreateTestProbe();
        await watcher.WatchAsync(child);
        child.Tell("boom", null);
        await TestActor.ExpectMsgAsync<string>("stopped:c");
        await watcher.ExpectTerminatedAsync(child);
    }

    [Fact]
    public async Task Escalate_FailsParent_GrandparentDecides()
    {
        // The top-level parent escalates; /user restarts it, and its default PreRestart stops the child.
        var parent = Supervisor(new OneForOneStrategy(_ => Directive.Escalate), TestActor);
        var child = await ChildOf(parent, "c");
        child.Tell("boom", null);
        await TestActor.ExpectMsgAsync<string>("parent-prerestart:boom");
        await TestActor.ExpectMsgAsync<string>("stopped:c");
        await TestActor.ExpectMsgAsync<string>("parent-started");
    }

    [Fact]
    public async Task MaxRetriesWithinWindow_Exceeded_StopsChild()
    {
        var parent = Supervisor(new OneForOneStrategy(2, TimeSpan.FromMinutes(1), _ => Directive.Restart), TestActor);
        var child = await ChildOf(parent, "c");
        var watcher = CreateTestProbe();
        await watcher.WatchAsync(child);
        for (var i = 0; i < 2; i++)
        {
            child.Tell("boom", null);
            await TestActor.FishForMessageAsync<string>(m => m == "started:c");
        }

        child.Tell("boom", null); // third failure within the window: no more restarts
        await watcher.ExpectTerminatedAsync(child);
    }

    [Fact]
    public async Task MaxRetriesWithinWindow_WindowPassed_CountStartsAgain()
    {
        var clock = new ManualTimeProvider();
        await using var kit = new Kit(new ActorSystemSettings { TimeProvider = clock });
        var probe = kit.CreateTestProbe();
        var parent = kit.Sys.ActorOf(Props.Create(() => new Parent(probe.Ref)).WithSupervisorStrategy(new OneForOneStrategy(1, TimeSpan.FromSeconds(10), _ => Directive.Restart)));
        await probe.ExpectMsgAsync<string>("parent-started");
        var child = await parent.Ask<IActorRef>(new Spawn("c"));
        await probe.ExpectMsgAsync<string>("started:c");
        for (var i = 0; i < 3; i++)
        {
            child.Tell("boom", null);
            await probe.FishForMessageAsync<string>(m => m == "started:c");
            clock.Advance(TimeSpan.FromSeconds(11)); // each failure falls in a new window
        }

        Assert.Equal(0, await child.Ask<int>("get"));
    }

    [Fact]
    public async Task AllForOne_OneFails_AllRestart()
    {
        var parent = Supervisor(new AllForOneStrategy(_ => Directive.Restart), TestActor);
        var a = await ChildOf(parent, "a");
        await ChildOf(parent, "b");
        a.Tell("boom", null);
        var seen = new HashSet<string>();
        while (!(seen.Contains("prerestart:a:boom:boom") && seen.Contains("prerestart:b:boom:")))
        {
            seen.Add(await TestActor.ExpectMsgAsync<string>());
        }
    }

    [Fact]
    public async Task DefaultDecider_InitializationFailure_Stops()
    {
        var watcher = CreateTestProbe();
        var broken = Sys.ActorOf(Props.Create(() => new BrokenOnStart()));
        await watcher.WatchAsync(broken);
        await watcher.ExpectTerminatedAsync(broken);
    }

    [Fact]
    public async Task Kill_DefaultDecider_Stops()
    {
        var parent = Supervisor(SupervisorStrategy.Default, TestActor);
        var child = await ChildOf(parent, "c");
        await TestActor.WatchAsync(child);
        child.Tell(Kill.Instance, null);
        await TestActor.ExpectMsgAsync<string>("stopped:c");
        await TestActor.ExpectTerminatedAsync(child);
    }

    [Fact]
    public void Strategy_InvalidArguments_NameTheProblem()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new OneForOneStrategy(-2));
        Assert.Contains("maxRetries", error.Message, StringComparison.Ordinal);
    }

    private sealed record Spawn(string Name);

    private sealed class Parent(IActorRef probe) : ActorBase
    {
        protected override void PreStart() => probe.Tell("parent-started", Self);

        protected override void PreRestart(Exception reason, object? message)
        {
            probe.Tell($"parent-prerestart:{reason.Message}", Self);
            base.PreRestart(reason, message);
        }

        protected override bool Receive(object message)
        {
            if (message is Spawn spawn)
            {
                Sender.Tell(Context.ActorOf(Props.Create(() => new CountingActor(probe, spawn.Name)), spawn.Name), Self);
                return true;
            }

            return false;
        }
    }

    private sealed class BrokenOnStart : ActorBase
    {
        protected override void PreStart() => throw new InvalidOperationException("cannot start");

        protected override bool Receive(object message) => true;
    }

    private sealed class Kit(ActorSystemSettings settings) : ActorTestKit(settings);
}
