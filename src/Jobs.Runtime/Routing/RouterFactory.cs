using System.Globalization;
using System.Runtime.CompilerServices;
using Jobs.Runtime.Actors;

namespace Jobs.Runtime.Routing;

/// <summary>Builds a pool: the router cell, its routees (created at once, so the returned reference routes immediately).</summary>
internal static class RouterFactory
{
    public static IActorRef Create(ActorCell parent, Props props, Pool pool, string? name)
    {
        var routeeProps = props with { Router = null };
        var logic = pool.CreateLogic();
        RouterActorRef? routerRef = null;
        var routerProps = Props.Create(() => new RouterActor(routerRef!)) with { SupervisorStrategy = pool.SupervisorStrategy };
        var routerCell = parent.CreateChild(routerProps, name);
        routerRef = new RouterActorRef(routerCell, logic);
        routerCell.SetExternalRef(routerRef);
        var routees = new ActorCell[pool.NrOfInstances];
        for (var i = 0; i < routees.Length; i++)
        {
            routees[i] = routerCell.CreateChild(routeeProps, "$r" + i.ToString(CultureInfo.InvariantCulture), runtimeName: true);
        }

        routerRef.SetRoutees(routees);
        routerCell.Start();
        foreach (var routee in routees)
        {
            routee.Start();
        }

        return routerRef;
    }
}

/// <summary>The reference users hold for a pool: routes on the caller's thread, lifecycle goes to the router cell.</summary>
internal sealed class RouterActorRef(ActorCell routerCell, RoutingLogic logic) : IInternalActorRef
{
    private ActorCell[] _routees = [];

    public ActorPath Path => routerCell.Path;

    public ActorSystem System => routerCell.System;

    public bool IsTerminated => routerCell.IsTerminated;

    internal ActorCell[] Routees => Volatile.Read(ref _routees);

    public void Tell(object message, IActorRef? sender)
    {
        ArgumentNullException.ThrowIfNull(message);
        switch (message)
        {
            case PoisonPill or Kill or RouterActor.RemoveRoutee:
                routerCell.Tell(message, sender);
                return;
            case Broadcast broadcast:
                foreach (var routee in Routees)
                {
                    routee.Tell(broadcast.Message, sender);
                }

                return;
        }

        if (routerCell.IsTerminated || !logic.Route(message, sender, Routees))
        {
            System.DeadLetters.Tell(new Events.DeadLetter(message, sender, this), sender);
        }
    }

    public void SendSystemMessage(SystemMessage message) => routerCell.SendSystemMessage(message);

    public bool Equals(IActorRef? other) => ReferenceEquals(this, other) || ReferenceEquals(other, routerCell);

    public override bool Equals(object? obj) => obj is IActorRef other && Equals(other);

    public override int GetHashCode() => RuntimeHelpers.GetHashCode(routerCell);

    public override string ToString() => Path.ToString();

    internal void SetRoutees(ActorCell[] routees)
    {
        logic.OnRouteesChanged(routees);
        Volatile.Write(ref _routees, routees);
    }
}

/// <summary>The router's own actor: supervises routees and drops the ones that stop; stops when none are left.</summary>
internal sealed class RouterActor(RouterActorRef router) : ActorBase
{
    protected override void PreStart()
    {
        foreach (var routee in router.Routees)
        {
            Context.Watch(routee);
        }
    }

    // Routees are children: the default PreRestart would stop them; a router never restarts its routees that way.
    protected override void PreRestart(Exception reason, object? message)
    {
    }

    protected override bool Receive(object message)
    {
        switch (message)
        {
            case Terminated terminated:
                var remaining = router.Routees.Where(r => !r.Equals(terminated.Actor)).ToArray();
                router.SetRoutees(remaining);
                if (remaining.Length == 0)
                {
                    Context.Stop(Self);
                }

                return true;
            case RemoveRoutee remove:
                Context.Stop(remove.Routee);
                return true;
            default:
                return false;
        }
    }

    /// <summary>Stops one routee (tests and resizing).</summary>
    internal sealed record RemoveRoutee(IActorRef Routee);
}
