using Jobs.Runtime.Actors;
using Jobs.Runtime.Supervision;

namespace Jobs.Runtime.Routing;

/// <summary>
/// A pool router: creates <see cref="NrOfInstances"/> routees as its children, supervises them and routes each
/// message to one (or all) of them. Routing happens on the sender's thread; the router itself is not a hop.
/// </summary>
public abstract record Pool
{
    /// <summary>Creates a pool of <paramref name="nrOfInstances"/> routees.</summary>
    protected Pool(int nrOfInstances)
    {
        if (nrOfInstances <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(nrOfInstances), nrOfInstances, "a pool needs at least one routee");
        }

        NrOfInstances = nrOfInstances;
    }

    /// <summary>How many routees the pool creates.</summary>
    public int NrOfInstances { get; }

    /// <summary>How the pool supervises its routees. Default: restart a failing routee (its mailbox is kept).</summary>
    public SupervisorStrategy SupervisorStrategy { get; init; } = SupervisorStrategy.Default;

    /// <summary>Props that create this pool with routees made from <paramref name="routeeProps"/>.</summary>
    public Props Props(Props routeeProps)
    {
        ArgumentNullException.ThrowIfNull(routeeProps);
        return routeeProps with { Router = this };
    }

    internal abstract RoutingLogic CreateLogic();
}
