namespace Jobs.Runtime.Actors;

/// <summary>Raised in a watcher that did not handle the <see cref="Terminated"/> of an actor it watched.</summary>
public sealed class DeathPactException : Exception
{
    /// <summary>Creates the exception for the actor that died.</summary>
    public DeathPactException(IActorRef deadActor)
        : base($"Watched actor {deadActor.Path} terminated and its Terminated message was not handled")
    {
        DeadActor = deadActor;
    }

    /// <summary>The watched actor that stopped.</summary>
    public IActorRef DeadActor { get; }
}
