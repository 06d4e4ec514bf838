using Jobs.Runtime.Actors;
using Jobs.TestKit;

namespace Jobs.Runtime.Tests.Timers;

public sealed class TimerTests() : ActorTestKit(new ActorSystemSettings { TimeProvider = new ManualTimeProvider() })
{
    private ManualTimeProvider Clock => (ManualTimeProvider)Sys.TimeProvider;

    private async Task<IActorRef> TimerActor()
    {
        var actor = Sys.ActorOf(Props.Create(() => new TimerActorImpl(TestActor.Ref)));
        await actor.Ask<string>("ping");
        return actor;
    }

    [Fact]
    public async Task SingleTimer_FiresOnceAtDueTime()
    {
        var actor = await TimerActor();
        actor.Tell(new Start("t", "tick", TimeSpan.FromSeconds(5), null), null);
        await actor.Ask<string>("ping");
        Clock.Advance(TimeSpan.FromSeconds(4));
        await TestActor.ExpectNoMsgAsync();
        Clock.Advance(TimeSpan.FromSeconds(1));
        await TestActor.ExpectMsgAsync<string>("tick");
        Clock.Advance(TimeSpan.FromSeconds(60));
        await TestActor.ExpectNoMsgAsync();
        Assert.False(await actor.Ask<bool>(new IsActive("t")));
    }

    [Fact]
    public async Task PeriodicTimer_FiresEveryInterval_UntilCancelled()
    {
        var actor = await TimerActor();
        actor.Tell(new Start("p", "tick", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)), null);
        await actor.Ask<string>("ping");
        Clock.Advance(TimeSpan.FromSeconds(1));
        await TestActor.ExpectMsgAsync<string>("tick");
        Clock.Advance(TimeSpan.FromSeconds(2));
        await TestActor.ExpectMsgAsync<string>("tick");
        Clock.Advance(TimeSpan.FromSeconds(2));
        await TestActor.ExpectMsgAsync<string>("tick");
        actor.Tell(new CancelTimer("p"), null);
        await actor.Ask<string>("ping");
        Clock.Advance(TimeSpan.FromSeconds(10));
        await TestActor.ExpectNoMsgAsync();
    }

    [Fact]
    public async Task StartingSameKey_ReplacesTimer_OldMessageNeverDelivered()
    {
        var actor = await TimerActor();
        actor.Tell(new Start("t", "old", TimeSpan.FromSeconds(1), null), null);
        actor.Tell(new Start("t", "new", TimeSpan.FromSeconds(3), null), null);
        await actor.Ask<string>("ping");
        Clock.Advance(TimeSpan.FromSeconds(5));
        await TestActor.ExpectMsgAsync<string>("new");
        await TestActor.ExpectNoMsgAsync();
    }

    [Fact]
    public async Task CancelAfterFiredButBeforeProcessed_MessageDropped()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var actor = await TimerActor();
        actor.Tell(new Start("t", "tick", TimeSpan.FromSeconds(1), null), null);
        actor.Tell(new Block(gate.Task, "t"), null); // the actor is busy when the timer fires
        await TestActor.ExpectMsgAsync<string>("blocked");
        Clock.Advance(TimeSpan.FromSeconds(1)); // the tick is now queued; the actor cancels the timer before reading it
        gate.SetResult();
        await actor.Ask<string>("ping");
        await TestActor.ExpectNoMsgAsync();
    }

    [Fact]
    public async Task ReceiveTimeout_FiresAfterIdle_ResetByMessages()
    {
        var actor = Sys.ActorOf(Props.Create(() => new IdleActor(TestActor.Ref)));
        await actor.Ask<string>("ping");
        Clock.Advance(TimeSpan.FromSeconds(9));
        actor.Tell("activity", null);
        await actor.Ask<string>("ping");
        Clock.Advance(TimeSpan.FromSeconds(9));
        await TestActor.ExpectNoMsgAsync();
        Clock.Advance(TimeSpan.FromSeconds(1));
        await TestActor.ExpectMsgAsync<ReceiveTimeout>();
    }

    [Fact]
    public async Task Timers_StopWithActor()
    {
        var actor = await TimerActor();
        actor.Tell(new Start("p", "tick", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)), null);
        await actor.Ask<string>("ping");
        await TestActor.WatchAsync(actor);
        Sys.Stop(actor);
        await TestActor.ExpectTerminatedAsync(actor);
        await AwaitConditionAsync(() => Clock.ActiveTimerCount == 0, message: "the actor's periodic timer was not disposed");
    }

    private sealed record Start(string Key, string Message, TimeSpan Delay, TimeSpan? Interval);

    private sealed record CancelTimer(string Key);

    private sealed record IsActive(string Key);

    private sealed record Block(Task Gate, string CancelKey);

    private sealed class TimerActorImpl : ReceiveActor
    {
        public TimerActorImpl(IActorRef probe)
        {
            Receive<string>(_ => Sender.Tell("pong", Self), m => m == "ping");
            Receive<Start>(s =>
            {
                if (s.Interval is { } interval)
                {
                    Timers.StartPeriodicTimer(s.Key, s.Message, s.Delay, interval);
                }
                else
                {
                    Timers.StartSingleTimer(s.Key, s.Message, s.Delay);
                }
            });
            Receive<CancelTimer>(c => Timers.Cancel(c.Key));
            Receive<IsActive>(a => Sender.Tell(Timers.IsTimerActive(a.Key), Self));
            ReceiveAsync<Block>(async b =>
            {
                probe.Tell("blocked", Self);
                await b.Gate;
                Timers.Cancel(b.CancelKey);
            });
            Receive<string>(m => probe.Tell(m, Self));
        }
    }

    private sealed class IdleActor(IActorRef probe) : ActorBase
    {
        protected override void PreStart() => Context.SetReceiveTimeout(TimeSpan.FromSeconds(10));

        protected override bool Receive(object message)
        {
            switch (message)
            {
                case "ping":
                    Sender.Tell("pong", Self);
                    return true;
                case ReceiveTimeout:
                    probe.Tell(message, Self);
                    return true;
                default:
                    return true;
            }
        }
    }
}
