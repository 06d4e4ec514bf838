namespace Jobs.Runtime.Routing;

/// <summary>Sent to any router, delivers <see cref="Message"/> to every routee.</summary>
/// <param name="Message">The message each routee receives.</param>
public sealed record Broadcast(object Message);
