using Jobs.Runtime.Supervision;
using Jobs.Runtime.Timers;
using Microsoft.Extensions.Logging;

namespace Jobs.Runtime.Actors;

/// <summary>
/// The base of every actor. One message at a time: <see cref="Receive"/> is never called concurrently, so
/// fields need no locks. Created only by the runtime from <see cref="Props"/>.
/// </summary>
public abstract class ActorBase
{
    private readonly ActorCell _cell;
    private ILogger? _log;

    /// <summary>Binds the instance to the cell creating it; throws when constructed outside ActorOf.</summary>
    protected ActorBase()
    {
        _cell = ActorCell.Constructing
            ?? throw new InvalidOperationException($"{GetType().Name} must be created by ActorOf(Props), not with 'new'");
    }

    /// <summary>This actor's context: children, watches, behavior, receive timeout.</summary>
    protected IActorContext Context => _cell;

    /// <summary>This actor's reference.</summary>
    protected IActorRef Self => _cell;

    /// <summary>The sender of the message being processed (dead letters when there was none).</summary>
    protected IActorRef Sender => _cell.Sender;

    /// <summary>Named single and periodic timers, cancelled on restart and stop.</summary>
    protected ITimerScheduler Timers => _cell.Timers;

    /// <summary>A logger named after the actor's type.</summary>
    protected ILogger Log => _log ??= _cell.System.LoggerFactory.CreateLogger(GetType());

    internal Receive InitialBehavior => Receive;

    internal SupervisorStrategy? SupervisorStrategyInternal => SupervisorStrategy();

    /// <summary>Handles one message; returns false for messages this behavior does not handle.</summary>
    protected abstract bool Receive(object message);

    /// <summary>Called once before the first message. Default: nothing.</summary>
    protected virtual void PreStart()
    {
    }

    /// <summary>Called once after the actor stopped (children have stopped first). Default: nothing.</summary>
    protected virtual void PostStop()
    {
    }

    /// <summary>Called on the failed instance before a restart. Default: stop all children, then <see cref="PostStop"/>.</summary>
    /// <param name="reason">The error that caused the restart.</param>
    /// <param name="message">The message being processed when it failed, if any; it is not redelivered.</param>
    protected virtual void PreRestart(Exception reason, object? message)
    {
        foreach (var child in Context.Children)
        {
            Context.Stop(child);
        }

        PostStop();
    }

    /// <summary>Called on the fresh instance after a restart. Default: <see cref="PreStart"/>.</summary>
    protected virtual void PostRestart(Exception reason) => PreStart();

    /// <summary>Called for messages no behavior handled. Default: an unhandled <see cref="Terminated"/> fails the actor, anything else is published.</summary>
    protected virtual void Unhandled(object message) => _cell.Unhandled(message);

    /// <summary>How this actor supervises its children; null uses the props' strategy or the default.</summary>
    protected virtual SupervisorStrategy? SupervisorStrategy() => null;

    /// <summary>Keeps the current message for later; see <see cref="UnstashAll"/>.</summary>
    protected void Stash() => _cell.StashCurrent();

    /// <summary>Returns every stashed message to the front of the mailbox, in the order they were stashed.</summary>
    protected void UnstashAll() => _cell.UnstashAllInternal();

    /// <summary>Holds this actor's turn until <paramref name="task"/> completes: no other message is processed meanwhile; a fault fails the actor.</summary>
    protected void RunTask(Task task)
    {
        ArgumentNullException.ThrowIfNull(task);
        if (task.IsCompletedSuccessfully)
        {
            return;
        }

        if (task.IsCompleted)
        {
            task.GetAwaiter().GetResult(); // rethrow synchronously: the normal failure path
        }

        _cell.HoldTurnUntil(task);
    }

    internal virtual void AroundPreStart() => PreStart();

    internal void AroundPostStop() => PostStop();

    internal void AroundPreRestart(Exception reason, object? message) => PreRestart(reason, message);

    internal virtual void AroundPostRestart(Exception reason) => PostRestart(reason);

    internal void AroundUnhandled(object message) => Unhandled(message);
}
