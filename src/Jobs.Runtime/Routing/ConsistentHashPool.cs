namespace Jobs.Runtime.Routing;

/// <summary>
/// Routes messages with the same key to the same routee (while the routee set is unchanged), using a hash ring with
/// virtual nodes. The key comes from <see cref="IConsistentHashable"/>, <see cref="ConsistentHashableEnvelope"/> or
/// <see cref="HashMapping"/>; a message without a key goes to dead letters.
/// </summary>
/// <param name="NrOfInstances">How many routees.</param>
public sealed record ConsistentHashPool(int NrOfInstances) : Pool(NrOfInstances)
{
    /// <summary>Maps a message to its key (null: no key). Default: none.</summary>
    public Func<object, object?>? HashMapping { get; init; }

    /// <summary>Ring positions per routee; more spreads keys more evenly. Default: 10.</summary>
    public int VirtualNodesFactor { get; init; } = 10;

    internal override RoutingLogic CreateLogic() => new ConsistentHashLogic(HashMapping, VirtualNodesFactor);
}
