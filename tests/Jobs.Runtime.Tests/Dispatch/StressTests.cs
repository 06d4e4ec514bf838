using Jobs.Runtime.Actors;
using Jobs.TestKit;

namespace Jobs.Runtime.Tests.Dispatch;

public sealed class StressTests : ActorTestKit
{
    [Fact]
    public async Task HundredThousandActors_ExchangeMessagesInARing_AllDelivered()
    {
        const int actors = 100_000;
        const int laps = 1;
        var done = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var refs = new IActorRef[actors];
        for (var i = 0; i < actors; i++)
        {
            refs[i] = Sys.ActorOf(Props.Create(() => new RingMember()));
        }

        for (var i = 0; i < actors; i++)
        {
            refs[i].Tell(new Next(refs[(i + 1) % actors]), null);
        }

        // 100 tokens travel the ring concurrently; each must pass every actor `laps` times.
        const int tokens = 100;
        var finished = 0;
        for (var t = 0; t < tokens; t++)
        {
            refs[t * (actors / tokens)].Tell(new Token(actors * laps, () =>
            {
                if (Interlocked.Increment(ref finished) == tokens)
                {
                    done.SetResult(finished);
                }
            }), null);
        }

        Assert.Equal(tokens, await done.Task.WaitAsync(TimeSpan.FromSeconds(60)));
        var hops = await Task.WhenAll(refs.Take(1000).Select(r => r.Ask<long>("hops")));
        Assert.All(hops, h => Assert.Equal(tokens * laps, h));
    }

    private sealed record Next(IActorRef Target);

    private sealed record Token(int Remaining, Action OnDone);

    private sealed class RingMember : ActorBase
    {
        private IActorRef? _next;
        private long _hops;

        protected override bool Receive(object message)
        {
            switch (message)
            {
                case Next next:
                    _next = next.Target;
                    return true;
                case Token token:
                    _hops++;
                    if (token.Remaining == 1)
                    {
                        token.OnDone();
                    }
                    else
                    {
                        _next!.Tell(token with { Remaining = token.Remaining - 1 }, Self);
                    }

                    return true;
                case "hops":
                    Sender.Tell(_hops, Self);
                    return true;
                default:
                    return false;
            }
        }
    }
}
