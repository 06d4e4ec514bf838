using Jobs.Runtime.Actors;

namespace Jobs.Runtime.Tests.Actors;

/// <summary>Replies with every message it receives, to the sender.</summary>
public sealed class EchoActor : ActorBase
{
    protected override bool Receive(object message)
    {
        Sender.Tell(message, Self);
        return true;
    }
}

/// <summary>Counts messages; "get" replies with the count, "boom" throws, anything else is counted and forwarded to the probe.</summary>
public sealed class CountingActor(IActorRef probe, string? name = null) : ActorBase
{
    private int _count;

    protected override void PreStart() => probe.Tell($"started:{name}", Self);

    protected override void PostStop() => probe.Tell($"stopped:{name}", Self);

    protected override void PreRestart(Exception reason, object? message)
    {
        probe.Tell($"prerestart:{name}:{reason.Message}:{message}", Self);
        base.PreRestart(reason, message);
    }

    protected override bool Receive(object message)
    {
        switch (message)
        {
            case "get":
                Sender.Tell(_count, Self);
                return true;
            case "boom":
                throw new InvalidOperationException("boom");
            case "fatal":
                throw new ArgumentException("fatal");
            default:
                _count++;
                probe.Tell(message, Self);
                return true;
        }
    }
}
