using Akka.Actor;
using Jobs.Actors.Serialization;

namespace Jobs.Actors.Protocol;

/// <summary>To the scheduler: a job on <see cref="Queue"/> became due at <see cref="DueAt"/> (re-arm if earlier than the next wake).</summary>
internal sealed record JobDue(string Queue, DateTimeOffset DueAt, string? JobId = null) : IWireMessage;

/// <summary>To the scheduler: a slot on <see cref="Queue"/> became free (given back by <see cref="ReleasedJobId"/>, when a job held it).</summary>
internal sealed record CapacityAvailable(string Queue, string? ReleasedJobId = null) : IWireMessage;

/// <summary>The scheduler's own wake-up.</summary>
internal sealed class SchedulerTick : INoSerializationVerificationNeeded
{
    public static readonly SchedulerTick Instance = new();
}

/// <summary>
/// Asks an actor of the job system to answer from its mailbox (<see cref="Pong"/>): a health check that reaches the
/// actor itself, also through a proxy or router (an Identify would be answered by the proxy).
/// </summary>
internal sealed class Ping : IWireMessage
{
    public static readonly Ping Instance = new();
}

/// <summary>The answer to <see cref="Ping"/>.</summary>
internal sealed class Pong : IWireMessage
{
    public static readonly Pong Instance = new();
}
