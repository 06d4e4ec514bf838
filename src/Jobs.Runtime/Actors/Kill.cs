namespace Jobs.Runtime.Actors;

/// <summary>Makes the receiving actor fail with <see cref="ActorKilledException"/>, so its supervisor decides (by default: stop).</summary>
public sealed class Kill
{
    private Kill()
    {
    }

    /// <summary>The single instance.</summary>
    public static Kill Instance { get; } = new();
}
