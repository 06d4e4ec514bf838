namespace Jobs.Runtime.Routing;

/// <summary>Wraps a message with a hash key; the routee receives the inner message.</summary>
/// <param name="Message">The message delivered to the routee.</param>
/// <param name="HashKey">The key that picks the routee.</param>
public sealed record ConsistentHashableEnvelope(object Message, object HashKey);
