using Jobs.Runtime.Dispatch;

namespace Jobs.Runtime.Actors;

internal sealed partial class ActorCell
{
    public TimeSpan? ReceiveTimeout => _extras?.ReceiveTimeout;

    public void Become(Receive behavior)
    {
        ArgumentNullException.ThrowIfNull(behavior);
        _extras?.BehaviorStack?.Clear();
        _behavior = behavior;
    }

    public void BecomeStacked(Receive behavior)
    {
        ArgumentNullException.ThrowIfNull(behavior);
        (Extras.BehaviorStack ??= new Stack<Receive>()).Push(_behavior!);
        _behavior = behavior;
    }

    public void Unbecome()
    {
        if (_extras?.BehaviorStack is { Count: > 0 } stack)
        {
            _behavior = stack.Pop();
        }
    }

    public void SetReceiveTimeout(TimeSpan? timeout)
    {
        if (timeout is { } t && t <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "receive timeout must be positive (or null to turn it off)");
        }

        var extras = Extras;
        extras.ReceiveTimeout = timeout;
        extras.ReceiveTimeoutGeneration++;
        if (timeout is null)
        {
            extras.ReceiveTimeoutTimer?.Dispose();
            extras.ReceiveTimeoutTimer = null;
            return;
        }

        RearmReceiveTimeout();
    }

    private void RearmReceiveTimeout()
    {
        var extras = _extras!;
        var generation = ++extras.ReceiveTimeoutGeneration;
        extras.ReceiveTimeoutTimer?.Dispose();
        extras.ReceiveTimeoutTimer = _system.TimeProvider.CreateTimer(
            static state =>
            {
                var (cell, gen) = ((ActorCell, int))state!;
                cell.Tell(new ReceiveTimeoutTick(gen), null);
            },
            (this, generation),
            extras.ReceiveTimeout!.Value,
            Timeout.InfiniteTimeSpan);
    }

    /// <summary>Puts the current message aside; <see cref="UnstashAllInternal"/> returns stashed messages before newer ones.</summary>
    internal void StashCurrent()
    {
        if (_current.Message is null)
        {
            throw new InvalidOperationException("Stash can only be called while processing a message");
        }

        var stash = Extras.Stash ??= new LinkedList<Envelope>();
        if (stash.Count > 0 && ReferenceEquals(stash.Last!.Value.Message, _current.Message))
        {
            throw new InvalidOperationException($"The message {_current.Message.GetType().Name} was already stashed");
        }

        stash.AddLast(_current);
    }

    internal void UnstashAllInternal()
    {
        if (_extras?.Stash is not { Count: > 0 } stash)
        {
            return;
        }

        // Stashed messages go before anything still queued (and before anything unstashed earlier).
        var prepended = _extras.Prepended;
        var merged = new Queue<Envelope>(stash.Count + (prepended?.Count ?? 0));
        foreach (var envelope in stash)
        {
            merged.Enqueue(envelope);
        }

        if (prepended is not null)
        {
            while (prepended.Count > 0)
            {
                merged.Enqueue(prepended.Dequeue());
            }
        }

        stash.Clear();
        _extras.Prepended = merged;
    }

    internal int StashCount => _extras?.Stash?.Count ?? 0;
}
