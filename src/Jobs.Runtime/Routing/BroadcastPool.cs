namespace Jobs.Runtime.Routing;

/// <summary>Sends every message to every routee.</summary>
/// <param name="NrOfInstances">How many routees.</param>
public sealed record BroadcastPool(int NrOfInstances) : Pool(NrOfInstances)
{
    internal override RoutingLogic CreateLogic() => new BroadcastLogic();
}
