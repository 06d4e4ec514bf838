namespace Jobs.Runtime.Actors;

/// <summary>A handle to an actor: the only way to talk to it. Safe to share between threads.</summary>
public interface IActorRef : IEquatable<IActorRef>
{
    /// <summary>The actor's path in its system, unique among living actors.</summary>
    ActorPath Path { get; }

    /// <summary>Enqueues <paramref name="message"/> for the actor; never blocks (bounded mailboxes apply their overflow policy).</summary>
    void Tell(object message, IActorRef? sender);
}
