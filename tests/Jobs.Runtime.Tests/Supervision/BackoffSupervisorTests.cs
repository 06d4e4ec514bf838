using Jobs.Runtime.Actors;
using Jobs.Runtime.Supervision;
using Jobs.Runtime.Tests.Actors;
using Jobs.TestKit;

namespace Jobs.Runtime.Tests.Supervision;

public sealed class BackoffSupervisorTests() : ActorTestKit(new ActorSystemSettings { TimeProvider = new ManualTimeProvider() })
{
    private ManualTimeProvider Clock => (ManualTimeProvider)Sys.TimeProvider;

    [Fact]
    public async Task OnStop_ChildStops_RecreatedAfterGrowingDelays()
    {
        var options = new BackoffOptions(Props.Create(() => new CountingActor(TestActor.Ref, "w")), "w", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3), 0)
        {
            ResetAfter = TimeSpan.FromMinutes(5),
        };
        var supervisor = Sys.ActorOf(BackoffSupervisor.Props(options));
        await TestActor.ExpectMsgAsync<string>("started:w");

        foreach (var expectedDelay in new[] { 1, 2, 3, 3 })
        {
            var child = (await supervisor.Ask<BackoffSupervisor.CurrentChild>(new BackoffSupervisor.GetCurrentChild())).Child!;
            child.Tell(PoisonPill.Instance, null);
            await TestActor.FishForMessageAsync<string>(m => m == "stopped:w");
            await AwaitAssertAsync(() => Assert.Null(supervisor.Ask<BackoffSupervisor.CurrentChild>(new BackoffSupervisor.GetCurrentChild()).Result.Child));
            Clock.Advance(TimeSpan.FromSeconds(expectedDelay) - TimeSpan.FromMilliseconds(1));
            await TestActor.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50));
            Clock.Advance(TimeSpan.FromMilliseconds(1));
            await TestActor.ExpectMsgAsync<string>("started:w");
        }

        Assert.Equal(4, (await supervisor.Ask<BackoffSupervisor.RestartCount>(new BackoffSupervisor.GetRestartCount())).Count);
    }

    [Fact]
    public async Task OnFailure_ChildStopsNormally_SupervisorStops()
    {
        var options = new BackoffOptions(Props.Create(() => new CountingActor(TestActor.Ref, "w")), "w", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3), 0.2)
        {
            Mode = BackoffMode.OnFailure,
        };
        var supervisor = Sys.ActorOf(BackoffSupervisor.Props(options));
        await TestActor.ExpectMsgAsync<string>("started:w");
        var watcher = CreateTestProbe();
        await watcher.WatchAsync(supervisor);
        var child = (await supervisor.Ask<BackoffSupervisor.CurrentChild>(new BackoffSupervisor.GetCurrentChild())).Child!;
        child.Tell(PoisonPill.Instance, null);
        await watcher.ExpectTerminatedAsync(supervisor);
    }

    [Fact]
    public async Task OnFailure_ChildFails_RecreatedAfterBackoff_AndMessagesForwarded()
    {
        var options = new BackoffOptions(Props.Create(() => new CountingActor(TestActor.Ref, "w")), "w", TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10), 0)
        {
            Mode = BackoffMode.OnFailure,
        };
        var supervisor = Sys.ActorOf(BackoffSupervisor.Props(options));
        await TestActor.ExpectMsgAsync<string>("started:w");
        supervisor.Tell("boom", null);
        await TestActor.ExpectMsgAsync<string>("stopped:w");
        Clock.Advance(TimeSpan.FromSeconds(2));
        await TestActor.ExpectMsgAsync<string>("started:w");
        supervisor.Tell("hello", null);
        await TestActor.ExpectMsgAsync<string>("hello");
    }

    [Fact]
    public async Task WhileBackingOff_MessagesAreAnsweredWithReplyWhileStopped_ThenForwardedAgain()
    {
        var options = new BackoffOptions(Props.Create(() => new CountingActor(TestActor.Ref, "w")), "w", TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10), 0)
        {
            ReplyWhileStopped = new StatusFailure(new InvalidOperationException("restarting")),
        };
        var supervisor = Sys.ActorOf(BackoffSupervisor.Props(options));
        await TestActor.ExpectMsgAsync<string>("started:w");
        var child = (await supervisor.Ask<BackoffSupervisor.CurrentChild>(new BackoffSupervisor.GetCurrentChild())).Child!;
        child.Tell(PoisonPill.Instance, null);
        await TestActor.FishForMessageAsync<string>(m => m == "stopped:w");
        await AwaitAssertAsync(() => Assert.Null(supervisor.Ask<BackoffSupervisor.CurrentChild>(new BackoffSupervisor.GetCurrentChild()).Result.Child));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => supervisor.Ask<string>("hello", TimeSpan.FromSeconds(30)).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("restarting", error.Message); // answered at once (the clock is manual: a timeout could not fire)

        Clock.Advance(TimeSpan.FromSeconds(2));
        await TestActor.ExpectMsgAsync<string>("started:w");
        supervisor.Tell("again", null);
        await TestActor.ExpectMsgAsync<string>("again");
    }

    [Fact]
    public void DelayFor_GrowsExponentially_CappedAndJittered()
    {
        var options = new BackoffOptions(Props.Create<EchoActor>(), "x", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), 0.5);
        Assert.Equal(TimeSpan.FromSeconds(1), options.DelayFor(0, 0));
        Assert.Equal(TimeSpan.FromSeconds(8), options.DelayFor(3, 0));
        Assert.Equal(TimeSpan.FromSeconds(30), options.DelayFor(10, 0));
        Assert.Equal(TimeSpan.FromSeconds(45), options.DelayFor(10, 1));
        Assert.Equal(TimeSpan.FromSeconds(30), options.DelayFor(int.MaxValue, 0));
    }

    [Fact]
    public void Options_InvalidValues_NameTheParameter()
    {
        var props = Props.Create<EchoActor>();
        Assert.Contains("maxBackoff", Assert.Throws<ArgumentOutOfRangeException>(() => new BackoffOptions(props, "x", TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1), 0)).Message, StringComparison.Ordinal);
        Assert.Contains("randomFactor", Assert.Throws<ArgumentOutOfRangeException>(() => new BackoffOptions(props, "x", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), 2)).Message, StringComparison.Ordinal);
    }
}
