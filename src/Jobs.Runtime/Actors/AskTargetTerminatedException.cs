namespace Jobs.Runtime.Actors;

/// <summary>The asked actor stopped (or was already stopped) before it replied.</summary>
public sealed class AskTargetTerminatedException : Exception
{
    /// <summary>Creates the exception for the stopped target.</summary>
    public AskTargetTerminatedException(ActorPath target)
        : base($"Ask target {target} terminated before replying")
    {
        Target = target;
    }

    /// <summary>The asked actor.</summary>
    public ActorPath Target { get; }
}
