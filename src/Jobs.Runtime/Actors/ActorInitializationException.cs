namespace Jobs.Runtime.Actors;

/// <summary>Raised when an actor's constructor or PreStart throws; the default supervisor stops such an actor.</summary>
public sealed class ActorInitializationException : Exception
{
    /// <summary>Creates the exception for the actor that could not start.</summary>
    public ActorInitializationException(ActorPath path, Exception innerException)
        : base($"Actor {path} failed to initialize: {innerException.Message}", innerException)
    {
        ActorPath = path;
    }

    /// <summary>The path of the actor that failed to start.</summary>
    public ActorPath ActorPath { get; }
}
