namespace Jobs.Runtime.Actors;

internal sealed partial class ActorCell
{
    public IActorRef Watch(IActorRef actor)
    {
        if (actor is not IInternalActorRef target || ReferenceEquals(target, this))
        {
            return actor;
        }

        var extras = Extras;
        if ((extras.Watching ??= []).Add(target))
        {
            target.SendSystemMessage(new Watch(target, this));
        }

        return actor;
    }

    public IActorRef Unwatch(IActorRef actor)
    {
        if (actor is not IInternalActorRef target || _extras is not { } extras)
        {
            return actor;
        }

        if (extras.Watching?.Remove(target) == true)
        {
            target.SendSystemMessage(new Unwatch(target, this));
        }

        extras.TerminatedQueued?.Remove(actor);
        return actor;
    }

    /// <summary>Sets the reference users hold for this cell, when it is not the cell itself (a pool router's).</summary>
    internal void SetExternalRef(IInternalActorRef external) => Extras.ExternalRef = external;

    private bool IsMe(IInternalActorRef target) => ReferenceEquals(target, this) || ReferenceEquals(target, _extras?.ExternalRef);

    private void HandleWatch(Watch watch)
    {
        if (IsMe(watch.Watchee) && !ReferenceEquals(watch.Watcher, this))
        {
            (Extras.Watchers ??= []).Add(watch.Watcher);
        }
    }

    private void HandleUnwatch(Unwatch unwatch)
    {
        if (IsMe(unwatch.Watchee))
        {
            _extras?.Watchers?.Remove(unwatch.Watcher);
        }
    }

    private void HandleDeathWatchNotification(IActorRef actor)
    {
        var extras = _extras;
        if (extras?.Watching is { } watching && actor is IInternalActorRef target && watching.Remove(target))
        {
            (extras.TerminatedQueued ??= []).Add(actor);
            Tell(new Terminated(actor), actor);
        }
    }

    private void NotifyWatchersAndUnwatch()
    {
        if (_extras is not { } extras)
        {
            return;
        }

        if (extras.Watchers is { } watchers)
        {
            foreach (var watcher in watchers)
            {
                watcher.SendSystemMessage(new DeathWatchNotification(extras.ExternalRef ?? this));
            }

            watchers.Clear();
        }

        if (extras.Watching is { } watching)
        {
            foreach (var watchee in watching)
            {
                watchee.SendSystemMessage(new Unwatch(watchee, this));
            }

            watching.Clear();
        }
    }
}
