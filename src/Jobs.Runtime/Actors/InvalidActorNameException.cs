namespace Jobs.Runtime.Actors;

/// <summary>Raised by ActorOf when the requested name is malformed or already taken by a living sibling.</summary>
public sealed class InvalidActorNameException : Exception
{
    /// <summary>Creates the exception with a message naming the problem.</summary>
    public InvalidActorNameException(string message)
        : base(message)
    {
    }
}
