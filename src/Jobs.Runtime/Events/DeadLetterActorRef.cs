using Jobs.Runtime.Logging;
using Jobs.Runtime.Actors;

namespace Jobs.Runtime.Events;

/// <summary>The sink for undeliverable messages: counts, logs (up to a limit) and publishes them.</summary>
internal sealed class DeadLetterActorRef(ActorSystem system, ActorPath path) : IInternalActorRef
{
    private long _count;

    public ActorPath Path { get; } = path;

    public bool IsTerminated => false;

    public ActorSystem System => system;

    public long Count => Interlocked.Read(ref _count);

    public void Tell(object message, IActorRef? sender)
    {
        var letter = message as DeadLetter ?? new DeadLetter(message, sender, this);
        if (letter.Message is DeadLetter)
        {
            return;
        }

        if (letter.Message is Terminated)
        {
            // A watcher that stopped first (common while shutting down): expected, published but not logged.
            system.EventStream.Publish(letter);
            return;
        }

        var n = Interlocked.Increment(ref _count);
        if (n <= system.Settings.LogDeadLetters)
        {
            system.Log.DeadLetterReceived(letter.Message.GetType().Name, letter.Recipient.Path.ToString(), n,
                n == system.Settings.LogDeadLetters ? " (further dead letters are counted, not logged)" : string.Empty);
        }

        system.EventStream.Publish(letter);
    }

    public void SendSystemMessage(SystemMessage message)
    {
        if (message is Watch watch)
        {
            watch.Watcher.SendSystemMessage(new DeathWatchNotification(watch.Watchee));
        }
    }

    public bool Equals(IActorRef? other) => ReferenceEquals(this, other);

    public override string ToString() => Path.ToString();
}
