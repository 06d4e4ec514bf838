using Jobs.Runtime.Logging;
using Jobs.Runtime.Supervision;

namespace Jobs.Runtime.Actors;

internal sealed partial class ActorCell
{
    private void CreateActor()
    {
        try
        {
            _actor = NewActor();
            _actor.AroundPreStart();
        }
        catch (Exception ex)
        {
            HandleInvokeFailure(ex is ActorInitializationException ? ex : new ActorInitializationException(Path, ex));
        }
    }

    /// <summary>A handler (or lifecycle hook) threw: suspend and ask the parent what to do.</summary>
    private void HandleInvokeFailure(Exception error)
    {
        if (_state != StateAlive)
        {
            _system.Log.FailureWhileStopping(error, Path.ToString());
            return;
        }

        _suspended = true;
        if (_current.Message is { } failedMessage)
        {
            Extras.FailedMessage = failedMessage;
        }

        if (_parent is null)
        {
            _system.Log.RootFailure(error, Path.ToString());
            BeginTerminate();
            return;
        }

        _parent.SendSystemMessage(new Failed(this, error));
    }

    private void HandleChildFailure(ActorCell child, Exception cause)
    {
        var extras = Extras;
        lock (extras.ChildrenLock)
        {
            if (extras.Children is null || !extras.Children.TryGetValue(child.Path.Name, out var registered) || !ReferenceEquals(registered, child)
                || extras.StoppingChildren?.Contains(child) == true)
            {
                return; // a failure from a child that is already gone or going
            }
        }

        var strategy = _actor?.SupervisorStrategyInternal ?? _props.SupervisorStrategy ?? SupervisorStrategy.Default;
        var directive = strategy.Decider(cause);
        _system.Log.ChildFailed(cause, child.Path.ToString(), directive.ToString());
        var targets = strategy.AppliesToAllChildren ? SnapshotChildren() : [child];
        switch (directive)
        {
            case Directive.Resume:
                child.SendSystemMessage(new Resume());
                break;
            case Directive.Restart:
                ChildRestartStats stats;
                lock (extras.ChildrenLock)
                {
                    extras.ChildStats ??= [];
                    if (!extras.ChildStats.TryGetValue(child, out stats!))
                    {
                        extras.ChildStats[child] = stats = new ChildRestartStats();
                    }
                }

                if (strategy.RequestRestartPermission(stats, _system.TimeProvider.GetTimestamp() * TimeSpan.TicksPerSecond / _system.TimeProvider.TimestampFrequency))
                {
                    foreach (var target in targets)
                    {
                        target.SendSystemMessage(new Recreate(cause));
                    }
                }
                else
                {
                    foreach (var target in targets)
                    {
                        Stop(target);
                    }
                }

                break;
            case Directive.Stop:
                foreach (var target in targets)
                {
                    Stop(target);
                }

                break;
            case Directive.Escalate:
                HandleInvokeFailure(cause);
                break;
        }
    }

    private void BeginRecreate(Exception cause)
    {
        if (_actor is null)
        {
            // Failed during construction and the supervisor chose restart: just try again.
            FinishRecreate(cause);
            return;
        }

        var extras = Extras;
        var failedMessage = extras.FailedMessage;
        extras.FailedMessage = null;
        try
        {
            _actor.AroundPreRestart(cause, failedMessage);
        }
        catch (Exception ex)
        {
            _system.Log.PreRestartFailed(ex, Path.ToString());
        }

        ClearTimersAndTimeout();
        UnstashAllInternal();
        if (HasStoppingChildren())
        {
            extras.PendingRestartCause = cause; // finish once the children PreRestart stopped are gone
            return;
        }

        FinishRecreate(cause);
    }

    private void FinishRecreate(Exception cause)
    {
        try
        {
            _actor = NewActor();
            _suspended = false;
            _actor.AroundPostRestart(cause);
        }
        catch (Exception ex)
        {
            _suspended = false;
            HandleInvokeFailure(new ActorInitializationException(Path, ex));
        }
    }

    private void BeginTerminate()
    {
        if (_state != StateAlive)
        {
            return;
        }

        _state = StateTerminating;
        ClearTimersAndTimeout();
        StopAllChildren();
        if (!HasStoppingChildren())
        {
            FinishTerminate();
        }
    }

    private void FinishTerminate()
    {
        try
        {
            _actor?.AroundPostStop();
        }
        catch (Exception ex)
        {
            _system.Log.PostStopFailed(ex, Path.ToString());
        }

        _state = StateTerminated;
        var extras = _extras;
        if (extras?.Stash is { } stash)
        {
            foreach (var envelope in stash)
            {
                OnDropped(envelope);
            }

            stash.Clear();
        }

        DrainToDeadLetters();
        _parent?.SendSystemMessage(new ChildTerminated(this));
        NotifyWatchersAndUnwatch();
        _actor = null;
        _behavior = null;
        if (extras is not null)
        {
            lock (extras.ChildrenLock)
            {
                extras.Terminated?.TrySetResult();
            }
        }
    }

    private void ClearTimersAndTimeout()
    {
        if (_extras is not { } extras)
        {
            return;
        }

        extras.Timers?.CancelAll();
        extras.ReceiveTimeout = null;
        extras.ReceiveTimeoutGeneration++;
        extras.ReceiveTimeoutTimer?.Dispose();
        extras.ReceiveTimeoutTimer = null;
    }
}
