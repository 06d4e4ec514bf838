using Akka.Actor;
using Akka.Persistence;
using Jobs.Actors.Hosting;
using Jobs.Actors.Protocol;
using Jobs.Actors.Support;
using Jobs.Client;

namespace Jobs.Actors.Workers;

/// <summary>A queue was paused.</summary>
internal sealed record QueuePaused(DateTimeOffset At) : Serialization.IPersistedEvent;

/// <summary>A queue was resumed.</summary>
internal sealed record QueueResumed(DateTimeOffset At) : Serialization.IPersistedEvent;

/// <summary>Pause or resume (Paused = true/false); replies JobAck after the change is durable.</summary>
internal sealed record SetQueuePaused(bool Paused) : INoSerializationVerificationNeeded;

/// <summary>Replies whether the queue is paused (answered after recovery, so a node can wait for it at start).</summary>
internal sealed class GetQueuePaused : INoSerializationVerificationNeeded
{
    public static readonly GetQueuePaused Instance = new();
}

/// <summary>To a pool: admit nothing while paused.</summary>
internal sealed record PoolPaused(bool Paused) : INoSerializationVerificationNeeded;

/// <summary>A pool that restarted asks its queue's control for the pause state (answered with <see cref="PoolPaused"/>).</summary>
internal sealed class GetPoolPaused : INoSerializationVerificationNeeded
{
    public static readonly GetPoolPaused Instance = new();
}

/// <summary>
/// From the queue control of the member that stored a pause or resume, to the same queue's control on every other
/// member: read the state again (it stops; its supervisor starts it, and the fresh one recovers the change and hands
/// it to its pool).
/// </summary>
internal sealed record QueuePauseChanged(string Queue) : Serialization.IWireMessage;

/// <summary>
/// A queue's durable pause state: recovered at start and handed to its pool, so a pause survives restarts. Every
/// member has one per queue over the same stream; the one that stores a change tells the others to read it again,
/// so a pause reaches every member's pool (two members storing at once: the later write conflicts, that control
/// stops and recovers, and its caller gets a storage-failure to retry).
/// </summary>
internal sealed class QueueControl(JobsRuntime runtime, string queue, IActorRef pool) : JobsPersistentActor
{
    /// <summary>The name of <paramref name="queue"/>'s control (its supervisor) under /user on every member.</summary>
    public static string NameOf(string queue) => "queue-" + queue;

    /// <inheritdoc />
    protected override JobsRuntime Runtime => runtime;

    private bool _paused;

    public override string PersistenceId => "queue-" + queue;

    protected override bool Recover(object message)
    {
        switch (message)
        {
            case QueuePaused:
                _paused = true;
                return true;
            case QueueResumed:
                _paused = false;
                return true;
            case RecoveryCompleted:
                pool.Tell(new PoolPaused(_paused), Self);
                return true;
            default:
                return true;
        }
    }

    protected override bool Command(object message)
    {
        if (message is GetQueuePaused)
        {
            Sender.Tell(_paused, Self);
            return true;
        }

        if (message is GetPoolPaused)
        {
            Sender.Tell(new PoolPaused(_paused), Self);
            return true;
        }

        if (message is QueuePauseChanged)
        {
            Context.Stop(Self); // its supervisor starts a fresh one, which recovers the change
            return true;
        }

        if (message is not SetQueuePaused set)
        {
            return false;
        }

        if (set.Paused == _paused)
        {
            Sender.Tell(JobAck.Instance, Self);
            return true;
        }

        var now = runtime.Clock.GetUtcNow();
        object @event = set.Paused ? new QueuePaused(now) : new QueueResumed(now);
        PersistIndexed(@event, _ =>
        {
            _paused = set.Paused;
            pool.Tell(new PoolPaused(_paused), Self);
            var cluster = Akka.Cluster.Cluster.Get(Context.System);
            foreach (var member in cluster.State.Members.Where(m => !m.Address.Equals(cluster.SelfAddress)))
            {
                Context
                    .ActorSelection(new RootActorPath(member.Address) / "user" / NameOf(queue))
                    .Tell(new QueuePauseChanged(queue), ActorRefs.NoSender);
            }

            Sender.Tell(JobAck.Instance, Self);
        });
        return true;
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        base.OnPersistFailure(cause, @event, sequenceNr);
        if (Sender is { } caller && !caller.Equals(Context.System.DeadLetters))
        {
            // The caller must not think the queue changed: the write failed. This actor stops; its supervisor restarts it.
            caller.Tell(
                new JobsFailed(new JobsException("storage-failure", $"storing the pause state of queue '{queue}' failed: {cause.Message}", cause)),
                Self
            );
        }
    }
}
