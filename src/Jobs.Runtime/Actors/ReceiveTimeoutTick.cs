namespace Jobs.Runtime.Actors;

/// <summary>The timer message behind <see cref="ReceiveTimeout"/>; the generation discards ticks from an older setting.</summary>
internal sealed record ReceiveTimeoutTick(int Generation) : INotInfluenceReceiveTimeout;
