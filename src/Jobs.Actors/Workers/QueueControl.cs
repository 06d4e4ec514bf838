using Jobs.Actors.Hosting;
using Jobs.Actors.Protocol;
using Jobs.Client;
using Akka.Actor;
using Jobs.Actors.Support;
using Akka.Persistence;

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

/// <summary>A queue's durable pause state: recovered at start and handed to its pool, so a pause survives restarts.</summary>
internal sealed class QueueControl(JobsRuntime runtime, string queue, IActorRef pool) : JobsPersistentActor
{
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
            caller.Tell(new JobsFailed(new JobsException("storage-failure", $"storing the pause state of queue '{queue}' failed: {cause.Message}", cause)), Self);
        }
    }
}
