using Jobs.Runtime.Timers;

namespace Jobs.Runtime.Actors;

/// <summary>What an actor can do from inside a message handler: its identity, children, watches and behavior.</summary>
public interface IActorContext
{
    /// <summary>This actor.</summary>
    IActorRef Self { get; }

    /// <summary>The sender of the message being processed; dead letters when there was none.</summary>
    IActorRef Sender { get; }

    /// <summary>This actor's supervisor.</summary>
    IActorRef Parent { get; }

    /// <summary>The system this actor lives in.</summary>
    ActorSystem System { get; }

    /// <summary>The living children of this actor.</summary>
    IReadOnlyCollection<IActorRef> Children { get; }

    /// <summary>This actor's named timers (Akka's Timers).</summary>
    ITimerScheduler Timers { get; }

    /// <summary>The current receive timeout, or null when none is set.</summary>
    TimeSpan? ReceiveTimeout { get; }

    /// <summary>Creates a child supervised by this actor.</summary>
    /// <param name="props">The recipe for the child.</param>
    /// <param name="name">A name unique among living siblings; null generates one.</param>
    IActorRef ActorOf(Props props, string? name = null);

    /// <summary>The living child with this name, or null.</summary>
    IActorRef? Child(string name);

    /// <summary>Stops a child or this actor; messages already queued for it go to dead letters.</summary>
    void Stop(IActorRef actor);

    /// <summary>Delivers <see cref="Terminated"/> to this actor when <paramref name="actor"/> stops (at once if it already has).</summary>
    IActorRef Watch(IActorRef actor);

    /// <summary>Stops watching <paramref name="actor"/>; no <see cref="Terminated"/> for it is delivered afterwards.</summary>
    IActorRef Unwatch(IActorRef actor);

    /// <summary>Sends <see cref="Actors.ReceiveTimeout"/> after this much idle time; null turns it off.</summary>
    void SetReceiveTimeout(TimeSpan? timeout);

    /// <summary>Replaces the current behavior.</summary>
    void Become(Receive behavior);

    /// <summary>Pushes a behavior; <see cref="Unbecome"/> returns to the previous one.</summary>
    void BecomeStacked(Receive behavior);

    /// <summary>Pops the behavior pushed last by <see cref="BecomeStacked"/>.</summary>
    void Unbecome();
}
