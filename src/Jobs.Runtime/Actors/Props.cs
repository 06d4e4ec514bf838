using Jobs.Runtime.Dispatch;
using Jobs.Runtime.Routing;
using Jobs.Runtime.Supervision;

namespace Jobs.Runtime.Actors;

/// <summary>An immutable recipe for creating an actor: its factory, mailbox, dispatcher throughput and supervision.</summary>
public sealed record Props
{
    private Props(Func<ActorBase> factory, Type actorType)
    {
        Factory = factory;
        ActorType = actorType;
    }

    /// <summary>The CLR type of the actor the factory creates (diagnostics only).</summary>
    public Type ActorType { get; }

    /// <summary>The mailbox kind. Default: unbounded.</summary>
    public MailboxOptions Mailbox { get; init; } = MailboxOptions.Unbounded;

    /// <summary>Messages processed per turn on a thread before yielding; null uses the system's setting. Default: null.</summary>
    public int? Throughput { get; init; }

    /// <summary>How this actor supervises its children; null uses the actor's override or the default strategy. Default: null.</summary>
    public SupervisorStrategy? SupervisorStrategy { get; init; }

    /// <summary>Set when these props create a pool router instead of a plain actor.</summary>
    public Pool? Router { get; init; }

    internal Func<ActorBase> Factory { get; }

    /// <summary>Props for an actor with a parameterless constructor.</summary>
    public static Props Create<TActor>()
        where TActor : ActorBase, new() => new(static () => new TActor(), typeof(TActor));

    /// <summary>Props for an actor built by <paramref name="factory"/>, called once per incarnation (again on each restart).</summary>
    public static Props Create<TActor>(Func<TActor> factory)
        where TActor : ActorBase
    {
        ArgumentNullException.ThrowIfNull(factory);
        return new Props(factory, typeof(TActor));
    }

    /// <summary>A copy with another mailbox.</summary>
    public Props WithMailbox(MailboxOptions mailbox) => this with { Mailbox = mailbox };

    /// <summary>A copy with another throughput (messages per turn).</summary>
    public Props WithThroughput(int throughput) =>
        throughput > 0 ? this with { Throughput = throughput } : throw new ArgumentOutOfRangeException(nameof(throughput), throughput, "throughput must be positive");

    /// <summary>A copy whose children are supervised by <paramref name="strategy"/>.</summary>
    public Props WithSupervisorStrategy(SupervisorStrategy strategy) => this with { SupervisorStrategy = strategy };
}
