using Jobs.Runtime.Actors;
using Jobs.Runtime.Dispatch;
using Jobs.Runtime.Events;
using Jobs.TestKit;

namespace Jobs.Runtime.Tests.Dispatch;

public sealed class MailboxTests : ActorTestKit
{
    [Fact]
    public async Task PerPairOrder_ManyConcurrentSenders_Preserved()
    {
        const int senders = 8;
        const int perSender = 20_000;
        var checker = Sys.ActorOf(Props.Create(() => new OrderChecker()));
        await Task.WhenAll(Enumerable.Range(0, senders).Select(s => Task.Run(() =>
        {
            for (var i = 0; i < perSender; i++)
            {
                checker.Tell(new Numbered(s, i), null);
            }
        })));
        var result = await checker.Ask<(int Received, int Violations)>("result", TimeSpan.FromSeconds(30));
        Assert.Equal(senders * perSender, result.Received);
        Assert.Equal(0, result.Violations);
    }

    [Theory]
    [InlineData(OverflowPolicy.DropIncoming, new[] { 1, 2, 3 }, 4)]
    [InlineData(OverflowPolicy.DropOldest, new[] { 2, 3, 4 }, 1)]
    [InlineData(OverflowPolicy.DropNewest, new[] { 1, 2, 4 }, 3)]
    public async Task Bounded_Full_AppliesOverflowPolicy_DropsToDeadLetters(OverflowPolicy policy, int[] kept, int dropped)
    {
        var letters = CreateTestProbe();
        Sys.EventStream.Subscribe(letters.Ref, typeof(DeadLetter));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var actor = Sys.ActorOf(Props.Create(() => new GatedRecorder(gate.Task, TestActor.Ref)).WithMailbox(MailboxOptions.Bounded(3, policy)));
        actor.Tell("hold", null);
        await TestActor.ExpectMsgAsync<string>("holding");
        for (var i = 1; i <= 4; i++)
        {
            actor.Tell(i, null);
        }

        var letter = await letters.ExpectMsgAsync<DeadLetter>();
        Assert.Equal(dropped, letter.Message);
        gate.SetResult();
        var received = await TestActor.ReceiveNAsync(3);
        Assert.Equal(kept, received.Cast<int>());
    }

    [Fact]
    public void Bounded_ZeroCapacity_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MailboxOptions.Bounded(0));
    }

    [Fact]
    public async Task Throughput_One_StillProcessesEverything()
    {
        var checker = Sys.ActorOf(Props.Create(() => new OrderChecker()).WithThroughput(1));
        for (var i = 0; i < 1000; i++)
        {
            checker.Tell(new Numbered(0, i), null);
        }

        var result = await checker.Ask<(int Received, int Violations)>("result");
        Assert.Equal((1000, 0), result);
    }

    private sealed record Numbered(int Sender, int Sequence);

    private sealed class OrderChecker : ActorBase
    {
        private readonly Dictionary<int, int> _last = [];
        private int _received;
        private int _violations;

        protected override bool Receive(object message)
        {
            switch (message)
            {
                case Numbered n:
                    _received++;
                    if (_last.TryGetValue(n.Sender, out var last) && n.Sequence != last + 1)
                    {
                        _violations++;
                    }

                    _last[n.Sender] = n.Sequence;
                    return true;
                case "result":
                    Sender.Tell((_received, _violations), Self);
                    return true;
                default:
                    return false;
            }
        }
    }

    private sealed class GatedRecorder(Task gate, IActorRef probe) : ActorBase
    {
        protected override bool Receive(object message)
        {
            if (message is "hold")
            {
                probe.Tell("holding", Self);
                RunTask(gate);
            }
            else
            {
                probe.Tell(message, Self);
            }

            return true;
        }
    }
}
