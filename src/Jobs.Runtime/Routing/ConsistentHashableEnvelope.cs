namespace Jobs.Runtime.Routing;

/// <summary>Wraps a message with a hash key; the routee receives the inner message.</summary>
/// <param name="Message">The message delivered to the routee.</param>
/// <param name="HashKey">The key that picks the routee.</param>
public sealed record ConsistentHashableEnvelope(object Message, object HashKey)
{
    /// <summary>The stable hash routers use for a key (the same in every process), for callers that shard by it.</summary>
    public static uint StableHash(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return ConsistentHashLogic.Fnv1a(key);
    }
}
