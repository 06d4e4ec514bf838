using Akka.Actor;
using Akka.Dispatch;
using Jobs.Actors.Hosting;
using Microsoft.Extensions.Logging;

namespace Jobs.Actors.Support;

/// <summary>
/// An actor of the job system: Akka's <see cref="ActorBase"/> with timers on the node's clock
/// (<see cref="ClockTimers"/>) and the host's logger.
/// </summary>
internal abstract class JobsActor : ActorBase
{
    private ClockTimers? _timers;
    private ILogger? _log;

    /// <summary>The node's shared parts; every job actor is made with them.</summary>
    protected abstract JobsRuntime Runtime { get; }

    /// <summary>This actor's timers on the node's clock.</summary>
    protected ClockTimers Timers => _timers ??= new ClockTimers(Self, Runtime.Clock);

    /// <summary>The host's logger for this actor's type.</summary>
    protected ILogger Log => _log ??= Runtime.Loggers.CreateLogger(GetType());

    /// <summary>Runs <paramref name="work"/> on this actor's turn: no other message is handled until it completes.</summary>
    protected static void RunTask(Func<Task> work) => ActorTaskScheduler.RunTask(work);

    /// <inheritdoc />
    protected override bool AroundReceive(Receive receive, object message)
    {
        if (message is ClockTimers.Tick tick)
        {
            return _timers?.Accept(tick) is not { } inner || base.AroundReceive(receive, inner);
        }

        return base.AroundReceive(receive, message);
    }

    /// <inheritdoc />
    protected override void PostStop()
    {
        _timers?.CancelAll();
        base.PostStop();
    }
}
