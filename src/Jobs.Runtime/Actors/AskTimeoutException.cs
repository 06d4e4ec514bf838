namespace Jobs.Runtime.Actors;

/// <summary>An ask got no reply within its timeout.</summary>
public sealed class AskTimeoutException : TimeoutException
{
    /// <summary>Creates the exception for a target and timeout.</summary>
    public AskTimeoutException(ActorPath target, TimeSpan timeout, Type messageType)
        : base($"Ask to {target} with {messageType.Name} timed out after {timeout}")
    {
        Target = target;
        Timeout = timeout;
    }

    /// <summary>The asked actor.</summary>
    public ActorPath Target { get; }

    /// <summary>The timeout that passed.</summary>
    public TimeSpan Timeout { get; }
}
