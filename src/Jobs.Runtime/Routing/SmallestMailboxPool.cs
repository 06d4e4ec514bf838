namespace Jobs.Runtime.Routing;

/// <summary>Routes each message to an idle routee if there is one, else to the one with the fewest queued messages.</summary>
/// <param name="NrOfInstances">How many routees.</param>
public sealed record SmallestMailboxPool(int NrOfInstances) : Pool(NrOfInstances)
{
    internal override RoutingLogic CreateLogic() => new SmallestMailboxLogic();
}
