using System.Globalization;

namespace Jobs.Runtime.Actors;

internal sealed partial class ActorCell
{
    private static long s_nameCounter;

    public IReadOnlyCollection<IActorRef> Children
    {
        get
        {
            var extras = _extras;
            if (extras?.Children is null)
            {
                return [];
            }

            lock (extras.ChildrenLock)
            {
                return extras.Children.Values.Where(c => extras.StoppingChildren?.Contains(c) != true).ToArray();
            }
        }
    }

    /// <summary>A task completed when this actor has stopped for good.</summary>
    internal Task WhenTerminated
    {
        get
        {
            var extras = Extras;
            lock (extras.ChildrenLock)
            {
                extras.Terminated ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                if (_state == StateTerminated)
                {
                    extras.Terminated.TrySetResult();
                }

                return extras.Terminated.Task;
            }
        }
    }

    public IActorRef ActorOf(Props props, string? name = null) => _system.Spawn(this, props, name);

    public IActorRef? Child(string name)
    {
        var extras = _extras;
        if (extras?.Children is null)
        {
            return null;
        }

        lock (extras.ChildrenLock)
        {
            return extras.Children.TryGetValue(name, out var child) && extras.StoppingChildren?.Contains(child) != true ? child : null;
        }
    }

    /// <summary>Creates and registers a child cell (not yet started); names are reserved until ChildTerminated.</summary>
    internal ActorCell CreateChild(Props props, string? name, bool runtimeName = false)
    {
        if (name is null)
        {
            name = "$" + Interlocked.Increment(ref s_nameCounter).ToString("x", CultureInfo.InvariantCulture);
        }
        else if (!runtimeName)
        {
            ValidateName(name);
        }

        if (_state != StateAlive)
        {
            throw new InvalidOperationException($"Cannot create child '{name}': {Path} is stopping");
        }

        var path = new ActorPath(Path, name, _system.NextUid());
        var child = new ActorCell(_system, this, props, path);
        var extras = Extras;
        lock (extras.ChildrenLock)
        {
            extras.Children ??= [];
            if (!extras.Children.TryAdd(name, child))
            {
                throw new InvalidActorNameException($"Actor name '{name}' is not unique under {Path}");
            }
        }

        return child;
    }

    private static void ValidateName(string name)
    {
        if (name.Length == 0)
        {
            throw new InvalidActorNameException("Actor name must not be empty");
        }

        if (name[0] == '$')
        {
            throw new InvalidActorNameException($"Actor name '{name}' must not start with '$' (reserved for generated names)");
        }

        foreach (var c in name)
        {
            if (c is '/' or '#' or ' ' or '?' or '%' || char.IsControl(c))
            {
                throw new InvalidActorNameException($"Actor name '{name}' contains the illegal character '{c}'");
            }
        }
    }

    public void Stop(IActorRef actor)
    {
        if (actor is not ActorCell cell)
        {
            if (actor is IInternalActorRef other)
            {
                other.SendSystemMessage(new Terminate());
            }

            return;
        }

        if (ReferenceEquals(cell._parent, this))
        {
            var extras = Extras;
            lock (extras.ChildrenLock)
            {
                (extras.StoppingChildren ??= []).Add(cell);
            }
        }

        cell.SendSystemMessage(new Terminate());
    }

    private List<ActorCell> SnapshotChildren()
    {
        var extras = _extras;
        if (extras?.Children is null)
        {
            return [];
        }

        lock (extras.ChildrenLock)
        {
            return [.. extras.Children.Values];
        }
    }

    private bool HasStoppingChildren()
    {
        var extras = _extras;
        if (extras is null)
        {
            return false;
        }

        lock (extras.ChildrenLock)
        {
            return extras.StoppingChildren is { Count: > 0 };
        }
    }

    private void StopAllChildren()
    {
        foreach (var child in SnapshotChildren())
        {
            Stop(child);
        }
    }

    private void HandleChildTerminated(ActorCell child)
    {
        var extras = Extras;
        lock (extras.ChildrenLock)
        {
            if (extras.Children is { } children && children.TryGetValue(child.Path.Name, out var registered) && ReferenceEquals(registered, child))
            {
                children.Remove(child.Path.Name);
            }

            extras.StoppingChildren?.Remove(child);
            extras.ChildStats?.Remove(child);
        }

        if (HasStoppingChildren())
        {
            return;
        }

        if (_state == StateTerminating)
        {
            FinishTerminate();
        }
        else if (extras.PendingRestartCause is { } cause)
        {
            extras.PendingRestartCause = null;
            FinishRecreate(cause);
        }
    }
}
