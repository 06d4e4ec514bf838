namespace Jobs.Runtime.Actors;

/// <summary>Raised inside an actor that received <see cref="Kill"/>.</summary>
public sealed class ActorKilledException : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    public ActorKilledException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a default message.</summary>
    public ActorKilledException()
        : base("Kill received")
    {
    }

    /// <summary>Creates the exception with a message and an inner error.</summary>
    public ActorKilledException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
