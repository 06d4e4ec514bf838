namespace Jobs.Runtime.Actors;

/// <summary>The asked actor replied with a message of another type than the caller expected.</summary>
public sealed class AskReplyTypeException : InvalidCastException
{
    /// <summary>Creates the exception naming both types.</summary>
    public AskReplyTypeException(ActorPath target, Type expected, object reply)
        : base($"Ask to {target} expected a {expected.Name} reply but got {reply.GetType().Name}")
    {
        Reply = reply;
    }

    /// <summary>The reply that arrived.</summary>
    public object Reply { get; }
}
