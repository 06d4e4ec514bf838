namespace Jobs.Runtime.Actors;

/// <summary>An actor whose behavior is a list of typed handlers registered in its constructor, checked in order.</summary>
public abstract class ReceiveActor : ActorBase
{
    private List<Receive> _handlers = [];

    /// <summary>Handles messages of type <typeparamref name="T"/> (that match <paramref name="shouldHandle"/>, if given).</summary>
    protected void Receive<T>(Action<T> handler, Predicate<T>? shouldHandle = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _handlers.Add(message =>
        {
            if (message is T typed && (shouldHandle is null || shouldHandle(typed)))
            {
                handler(typed);
                return true;
            }

            return false;
        });
    }

    /// <summary>Handles messages of type <typeparamref name="T"/> asynchronously; the actor sees no other message until the task completes.</summary>
    protected void ReceiveAsync<T>(Func<T, Task> handler, Predicate<T>? shouldHandle = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _handlers.Add(message =>
        {
            if (message is T typed && (shouldHandle is null || shouldHandle(typed)))
            {
                RunTask(handler(typed));
                return true;
            }

            return false;
        });
    }

    /// <summary>Handles any message not handled by an earlier registration.</summary>
    protected void ReceiveAny(Action<object> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _handlers.Add(message =>
        {
            handler(message);
            return true;
        });
    }

    /// <summary>Replaces the handlers with the ones <paramref name="configure"/> registers.</summary>
    protected void Become(Action configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var previous = _handlers;
        _handlers = [];
        try
        {
            configure();
        }
        catch
        {
            _handlers = previous;
            throw;
        }

        var handlers = _handlers.ToArray();
        _handlers = previous;
        Context.Become(message => Dispatch(handlers, message));
    }

    /// <inheritdoc />
    protected sealed override bool Receive(object message)
    {
        foreach (var handler in _handlers)
        {
            if (handler(message))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Dispatch(Receive[] handlers, object message)
    {
        foreach (var handler in handlers)
        {
            if (handler(message))
            {
                return true;
            }
        }

        return false;
    }
}
