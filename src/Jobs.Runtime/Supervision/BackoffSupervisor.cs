using Jobs.Runtime.Actors;
using Jobs.Runtime.Logging;

namespace Jobs.Runtime.Supervision;

/// <summary>
/// Supervises one child and recreates it after a growing delay when it stops or fails (Akka's BackoffSupervisor),
/// so a child that keeps failing (a lost database, say) does not spin. Messages are forwarded to the child while it
/// lives; while it is being backed off they go to dead letters, or are answered with <see cref="BackoffOptions.ReplyWhileStopped"/>.
/// </summary>
public sealed class BackoffSupervisor : ActorBase
{
    private readonly BackoffOptions _options;
    private IActorRef? _child;
    private bool _childFailed;
    private int _restartCount;

    private BackoffSupervisor(BackoffOptions options)
    {
        _options = options;
    }

    /// <summary>Props for a backoff supervisor with these options.</summary>
    public static Props Props(BackoffOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Actors.Props.Create(() => new BackoffSupervisor(options));
    }

    /// <inheritdoc />
    protected override void PreStart() => StartChild();

    /// <inheritdoc />
    protected override SupervisorStrategy? SupervisorStrategy() => new OneForOneStrategy(error =>
    {
        _childFailed = true;
        return _options.Mode == BackoffMode.OnFailure ? Directive.Stop : Supervision.SupervisorStrategy.DefaultDecider(error) switch
        {
            Directive.Restart => Directive.Stop, // the backoff replaces the immediate restart
            var other => other,
        };
    });

    /// <inheritdoc />
    protected override bool Receive(object message)
    {
        switch (message)
        {
            case Terminated terminated when terminated.Actor.Equals(_child):
                _child = null;
                Timers.Cancel(ResetKey.Instance);
                if (_options.Mode == BackoffMode.OnFailure && !_childFailed)
                {
                    Context.Stop(Self);
                    return true;
                }

                if (_options.MaxRetries >= 0 && _restartCount >= _options.MaxRetries)
                {
                    Context.Stop(Self);
                    return true;
                }

                var delay = _options.DelayFor(_restartCount, Random.Shared.NextDouble());
                _restartCount++;
                Context.System.Log.BackoffRestart(Self.Path.ToString(), delay);
                Timers.StartSingleTimer(StartChildKey.Instance, StartChildKey.Instance, delay);
                return true;
            case StartChildKey:
                StartChild();
                return true;
            case ResetKey:
                _restartCount = 0;
                return true;
            case GetRestartCount:
                Sender.Tell(new RestartCount(_restartCount), Self);
                return true;
            case GetCurrentChild:
                Sender.Tell(new CurrentChild(_child), Self);
                return true;
            default:
                if (_child is { } child)
                {
                    child.Tell(message, Sender);
                }
                else if (_options.ReplyWhileStopped is { } reply && Sender is { } sender && !sender.Equals(Context.System.DeadLetters))
                {
                    sender.Tell(reply, Self);
                }
                else
                {
                    Context.System.DeadLetters.Tell(new Events.DeadLetter(message, Sender, Self), Sender);
                }

                return true;
        }
    }

    private void StartChild()
    {
        _childFailed = false;
        _child = Context.Watch(Context.ActorOf(_options.ChildProps, _options.ChildName));
        Timers.StartSingleTimer(ResetKey.Instance, ResetKey.Instance, _options.ResetAfter ?? _options.MinBackoff);
    }

    /// <summary>Ask the supervisor how many times it has recreated the child since the last reset.</summary>
    public sealed record GetRestartCount;

    /// <summary>The reply to <see cref="GetRestartCount"/>.</summary>
    /// <param name="Count">Recreations since the last reset.</param>
    public sealed record RestartCount(int Count);

    /// <summary>Ask the supervisor for its current child.</summary>
    public sealed record GetCurrentChild;

    /// <summary>The reply to <see cref="GetCurrentChild"/>.</summary>
    /// <param name="Child">The living child, or null while backing off.</param>
    public sealed record CurrentChild(IActorRef? Child);

    private sealed class StartChildKey
    {
        public static readonly StartChildKey Instance = new();
    }

    private sealed class ResetKey
    {
        public static readonly ResetKey Instance = new();
    }
}
