using Akka.Actor;

namespace Jobs.Actors.Support;

/// <summary>
/// Keyed single and periodic timers of one actor on the node's <see cref="TimeProvider"/> (not the actor system's
/// scheduler): job timers then follow a test's manual clock while the system's own timers (cluster, persistence)
/// stay on real time. Starting a timer under a key replaces the one before; a tick of a replaced or cancelled timer
/// that is already in the mailbox is dropped (each tick carries its generation). Used from the owning actor only.
/// </summary>
internal sealed class ClockTimers(IActorRef owner, TimeProvider clock)
{
    private readonly Dictionary<object, Entry> _timers = [];
    private int _generation;

    /// <summary>Sends <paramref name="message"/> to the owner once after <paramref name="delay"/> (zero or more).</summary>
    public void StartSingleTimer(object key, object message, TimeSpan delay) =>
        Start(key, message, delay < TimeSpan.Zero ? TimeSpan.Zero : delay, Timeout.InfiniteTimeSpan, single: true);

    /// <summary>Sends <paramref name="message"/> to the owner every <paramref name="interval"/> (positive).</summary>
    public void StartPeriodicTimer(object key, object message, TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        Start(key, message, interval, interval, single: false);
    }

    /// <summary>Whether a timer runs under <paramref name="key"/>.</summary>
    public bool IsTimerActive(object key) => _timers.ContainsKey(key);

    /// <summary>Stops the timer under <paramref name="key"/>; a tick already sent is dropped.</summary>
    public void Cancel(object key)
    {
        if (_timers.Remove(key, out var entry))
        {
            entry.Timer.Dispose();
        }
    }

    /// <summary>Stops every timer (the owner stops or restarts).</summary>
    public void CancelAll()
    {
        foreach (var entry in _timers.Values)
        {
            entry.Timer.Dispose();
        }

        _timers.Clear();
    }

    /// <summary>The message a tick carries if its timer is still current, else null (a single timer ends with it).</summary>
    public object? Accept(Tick tick)
    {
        if (!_timers.TryGetValue(tick.Key, out var entry) || entry.Generation != tick.Generation)
        {
            return null;
        }

        if (tick.Single)
        {
            _timers.Remove(tick.Key);
            entry.Timer.Dispose();
        }

        return tick.Message;
    }

    private void Start(object key, object message, TimeSpan due, TimeSpan period, bool single)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(message);
        Cancel(key);
        var tick = new Tick(key, ++_generation, message, single, owner);
        var timer = clock.CreateTimer(static state => ((Tick)state!).Owner.Tell(state, ActorRefs.NoSender), tick, due, period);
        _timers[key] = new Entry(timer, tick.Generation);
    }

    private readonly record struct Entry(ITimer Timer, int Generation);

    /// <summary>One tick of a timer, delivered to the owner's mailbox and opened by <see cref="Accept"/>.</summary>
    internal sealed record Tick(object Key, int Generation, object Message, bool Single, IActorRef Owner) : INoSerializationVerificationNeeded;
}
