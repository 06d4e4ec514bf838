namespace Jobs.Runtime.Actors;

/// <summary>Stops the receiving actor when it is processed: messages enqueued before it are handled first.</summary>
public sealed class PoisonPill
{
    private PoisonPill()
    {
    }

    /// <summary>The single instance.</summary>
    public static PoisonPill Instance { get; } = new();
}
