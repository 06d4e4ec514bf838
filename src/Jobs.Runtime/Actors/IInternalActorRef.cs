namespace Jobs.Runtime.Actors;

/// <summary>The runtime's side of an actor reference: it also carries system messages.</summary>
internal interface IInternalActorRef : IActorRef
{
    /// <summary>Delivers a lifecycle or supervision signal.</summary>
    void SendSystemMessage(SystemMessage message);

    /// <summary>The system the reference belongs to.</summary>
    ActorSystem System { get; }

    /// <summary>True once the actor has stopped for good.</summary>
    bool IsTerminated { get; }
}
