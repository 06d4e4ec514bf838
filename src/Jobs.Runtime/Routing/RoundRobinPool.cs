namespace Jobs.Runtime.Routing;

/// <summary>Routes messages to routees in turn.</summary>
/// <param name="NrOfInstances">How many routees.</param>
public sealed record RoundRobinPool(int NrOfInstances) : Pool(NrOfInstances)
{
    internal override RoutingLogic CreateLogic() => new RoundRobinLogic();
}
