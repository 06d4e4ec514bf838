using Jobs.Runtime.Actors;
using Jobs.TestKit;

namespace Jobs.Runtime.Tests.Actors;

public sealed class BehaviorTests : ActorTestKit
{
    [Fact]
    public async Task Stash_UnstashAll_ReplaysInOriginalOrderBeforeNewMessages()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Gate(TestActor.Ref)));
        for (var i = 1; i <= 5; i++)
        {
            actor.Tell(i, null);
        }

        actor.Tell("open", null);
        actor.Tell(6, null);
        var received = await TestActor.ReceiveNAsync(6);
        Assert.Equal([1, 2, 3, 4, 5, 6], received.Cast<int>());
    }

    [Fact]
    public async Task ReceiveActor_BecomeAndUnbecome_SwitchesHandlers()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Switch()));
        Assert.Equal("off", await actor.Ask<string>("state"));
        actor.Tell("toggle", null);
        Assert.Equal("on", await actor.Ask<string>("state"));
        actor.Tell("toggle", null);
        Assert.Equal("off", await actor.Ask<string>("state"));
    }

    [Fact]
    public async Task BecomeStacked_Unbecome_ReturnsToPrevious()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Stacked()));
        actor.Tell("push", null);
        Assert.Equal("pushed", await actor.Ask<string>("who"));
        actor.Tell("pop", null);
        Assert.Equal("base", await actor.Ask<string>("who"));
    }

    [Fact]
    public async Task AsyncHandler_HoldsMailbox_NoOtherMessageUntilDone()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var actor = Sys.ActorOf(Props.Create(() => new AsyncActor(gate.Task, TestActor.Ref)));
        actor.Tell("slow", null);
        actor.Tell("fast", null);
        await TestActor.ExpectMsgAsync<string>("slow-started");
        await TestActor.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(200));
        gate.SetResult();
        await TestActor.ExpectMsgAsync<string>("slow-done");
        await TestActor.ExpectMsgAsync<string>("fast");
    }

    [Fact]
    public async Task AsyncHandler_Faults_ActorRestartsAndContinues()
    {
        var actor = Sys.ActorOf(Props.Create(() => new AsyncActor(Task.CompletedTask, TestActor.Ref)));
        actor.Tell("throw-later", null);
        actor.Tell("fast", null);
        await TestActor.ExpectMsgAsync<string>("restarted");
        await TestActor.ExpectMsgAsync<string>("fast");
    }

    [Fact]
    public async Task ActorOf_DuplicateName_Throws()
    {
        Sys.ActorOf(Props.Create<EchoActor>(), "twin");
        var error = Assert.Throws<InvalidActorNameException>(() => Sys.ActorOf(Props.Create<EchoActor>(), "twin"));
        Assert.Contains("twin", error.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidActorNameException>(() => Sys.ActorOf(Props.Create<EchoActor>(), "a/b"));
        Assert.Throws<InvalidActorNameException>(() => Sys.ActorOf(Props.Create<EchoActor>(), "$x"));
        await Task.CompletedTask;
    }

    [Fact]
    public void NewActor_OutsideActorOf_Throws()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new EchoActor());
        Assert.Contains("ActorOf", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Children_StopParent_ChildrenStopFirst()
    {
        var parent = Sys.ActorOf(Props.Create(() => new Nest(TestActor.Ref, 2)), "n");
        await TestActor.ReceiveNAsync(3); // three started
        Sys.Stop(parent);
        var stops = await TestActor.ReceiveNAsync(3);
        Assert.Equal("stopped:/user/n", stops[2]);
    }

    private sealed class Gate(IActorRef probe) : ActorBase
    {
        private bool _open;

        protected override bool Receive(object message)
        {
            if (message is "open")
            {
                _open = true;
                UnstashAll();
            }
            else if (!_open)
            {
                Stash();
            }
            else
            {
                probe.Tell(message, Self);
            }

            return true;
        }
    }

    private sealed class Switch : ReceiveActor
    {
        public Switch() => Off();

        private void Off()
        {
            Receive<string>(_ => Sender.Tell("off", Self), m => m == "state");
            Receive<string>(_ => Become(On), m => m == "toggle");
        }

        private void On()
        {
            Receive<string>(_ => Sender.Tell("on", Self), m => m == "state");
            Receive<string>(_ => Become(Off), m => m == "toggle");
        }
    }

    private sealed class Stacked : ActorBase
    {
        protected override bool Receive(object message)
        {
            switch (message)
            {
                case "push":
                    Context.BecomeStacked(m =>
                    {
                        if (m is "pop")
                        {
                            Context.Unbecome();
                        }
                        else
                        {
                            Sender.Tell("pushed", Self);
                        }

                        return true;
                    });
                    return true;
                case "who":
                    Sender.Tell("base", Self);
                    return true;
                default:
                    return false;
            }
        }
    }

    private sealed class AsyncActor : ReceiveActor
    {
        private readonly IActorRef _probe;

        public AsyncActor(Task gate, IActorRef probe)
        {
            _probe = probe;
            ReceiveAsync<string>(
                async m =>
                {
                    probe.Tell("slow-started", Self);
                    await gate;
                    probe.Tell("slow-done", Self);
                },
                m => m == "slow");
            ReceiveAsync<string>(
                async _ =>
                {
                    await Task.Yield();
                    throw new InvalidOperationException("async failure");
                },
                m => m == "throw-later");
            Receive<string>(m => probe.Tell(m, Self));
        }

        protected override void PostRestart(Exception reason) => _probe.Tell("restarted", Self);
    }

    private sealed class Nest(IActorRef probe, int depth) : ActorBase
    {
        protected override void PreStart()
        {
            probe.Tell("started", Self);
            if (depth > 0)
            {
                Context.ActorOf(Props.Create(() => new Nest(probe, depth - 1)), "n");
            }
        }

        protected override void PostStop() => probe.Tell("stopped:" + string.Concat(Self.Path.Elements.Select(e => "/" + e)), Self);

        protected override bool Receive(object message) => false;
    }
}
