using Jobs.Runtime.Actors;
using Jobs.Runtime.Events;
using Jobs.TestKit;

namespace Jobs.Runtime.Tests.Actors;

public sealed class DeathWatchTests : ActorTestKit
{
    [Fact]
    public async Task Watch_ActorStops_TerminatedDelivered()
    {
        var echo = Sys.ActorOf(Props.Create<EchoActor>());
        await TestActor.WatchAsync(echo);
        echo.Tell(PoisonPill.Instance, null);
        var terminated = await TestActor.ExpectTerminatedAsync(echo);
        Assert.Equal(echo, terminated.Actor);
    }

    [Fact]
    public async Task Watch_AlreadyStopped_TerminatedDeliveredAtOnce()
    {
        var echo = Sys.ActorOf(Props.Create<EchoActor>());
        var first = CreateTestProbe();
        await first.WatchAsync(echo);
        Sys.Stop(echo);
        await first.ExpectTerminatedAsync(echo);
        await TestActor.WatchAsync(echo);
        await TestActor.ExpectTerminatedAsync(echo);
    }

    [Fact]
    public async Task Unwatch_BeforeStop_NoTerminated()
    {
        var echo = Sys.ActorOf(Props.Create<EchoActor>());
        var watcher = Sys.ActorOf(Props.Create(() => new WatchThenUnwatch(echo, TestActor.Ref)));
        await TestActor.ExpectMsgAsync<string>("unwatched");
        Sys.Stop(echo);
        await TestActor.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        Assert.NotNull(watcher);
    }

    [Fact]
    public async Task UnhandledTerminated_FailsWatcherWithDeathPact()
    {
        var echo = Sys.ActorOf(Props.Create<EchoActor>());
        var watcher = Sys.ActorOf(Props.Create(() => new IgnoringWatcher(echo)));
        await TestActor.WatchAsync(watcher);
        await watcher.Ask<string>("ready?");
        Sys.Stop(echo);
        await TestActor.ExpectTerminatedAsync(watcher); // DeathPactException -> default decider stops it
    }

    [Fact]
    public async Task MessageToStoppedActor_GoesToDeadLetters_Counted()
    {
        var listener = CreateTestProbe();
        Sys.EventStream.Subscribe(listener.Ref, typeof(DeadLetter));
        var echo = Sys.ActorOf(Props.Create<EchoActor>());
        await TestActor.WatchAsync(echo);
        Sys.Stop(echo);
        await TestActor.ExpectTerminatedAsync(echo);
        var before = Sys.DeadLetterCount;
        echo.Tell("lost", TestActor.Ref);
        var letter = await listener.FishForMessageAsync<DeadLetter>(d => Equals(d.Message, "lost"));
        Assert.Equal(echo, letter.Recipient);
        Assert.Equal(TestActor.Ref, letter.Sender);
        Assert.True(Sys.DeadLetterCount > before);
    }

    [Fact]
    public async Task Unhandled_PublishesUnhandledMessage()
    {
        var listener = CreateTestProbe();
        Sys.EventStream.Subscribe(listener.Ref, typeof(UnhandledMessage));
        var picky = Sys.ActorOf(Props.Create(() => new IgnoringWatcher(null)));
        picky.Tell(42, null);
        var unhandled = await listener.ExpectMsgAsync<UnhandledMessage>();
        Assert.Equal(42, unhandled.Message);
    }

    private sealed class WatchThenUnwatch(IActorRef target, IActorRef probe) : ActorBase
    {
        protected override void PreStart()
        {
            Context.Watch(target);
            Context.Unwatch(target);
            probe.Tell("unwatched", Self);
        }

        protected override bool Receive(object message)
        {
            probe.Tell(message, Self);
            return true;
        }
    }

    private sealed class IgnoringWatcher(IActorRef? target) : ActorBase
    {
        protected override void PreStart()
        {
            if (target is not null)
            {
                Context.Watch(target);
            }
        }

        protected override bool Receive(object message)
        {
            if (message is "ready?")
            {
                Sender.Tell("ready", Self);
                return true;
            }

            return false;
        }
    }
}
