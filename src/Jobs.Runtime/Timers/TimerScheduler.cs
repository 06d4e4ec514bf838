using Jobs.Runtime.Actors;

namespace Jobs.Runtime.Timers;

/// <summary>Timers of one actor on the system's <see cref="TimeProvider"/>; used only from the actor's own turn.</summary>
internal sealed class TimerScheduler(IActorRef self, TimeProvider timeProvider) : ITimerScheduler
{
    private readonly Dictionary<object, Entry> _timers = [];
    private int _generation;

    public IReadOnlyCollection<object> ActiveTimers => _timers.Keys.ToArray();

    public void StartSingleTimer(object key, object message, TimeSpan delay) =>
        Start(key, message, Positive(delay, nameof(delay), allowZero: true), Timeout.InfiniteTimeSpan, single: true);

    public void StartPeriodicTimer(object key, object message, TimeSpan initialDelay, TimeSpan interval) =>
        Start(key, message, Positive(initialDelay, nameof(initialDelay), allowZero: true), Positive(interval, nameof(interval), allowZero: false), single: false);

    public void StartPeriodicTimer(object key, object message, TimeSpan interval) =>
        StartPeriodicTimer(key, message, interval, interval);

    public bool IsTimerActive(object key) => _timers.ContainsKey(key);

    public void Cancel(object key)
    {
        if (_timers.Remove(key, out var entry))
        {
            entry.Timer.Dispose();
        }
    }

    public void CancelAll()
    {
        foreach (var entry in _timers.Values)
        {
            entry.Timer.Dispose();
        }

        _timers.Clear();
    }

    /// <summary>True when a delivered timer message is still current (not cancelled or replaced).</summary>
    internal bool Accept(TimerMessage message)
    {
        if (!_timers.TryGetValue(message.Key, out var entry) || entry.Generation != message.Generation)
        {
            return false;
        }

        if (message.Single)
        {
            _timers.Remove(message.Key);
            entry.Timer.Dispose();
        }

        return true;
    }

    private static TimeSpan Positive(TimeSpan value, string name, bool allowZero) =>
        value > TimeSpan.Zero || (allowZero && value == TimeSpan.Zero)
            ? value
            : throw new ArgumentOutOfRangeException(name, value, $"timer {name} must be {(allowZero ? "zero or more" : "positive")}");

    private void Start(object key, object message, TimeSpan due, TimeSpan period, bool single)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(message);
        Cancel(key);
        var tick = new TimerMessage(key, ++_generation, message, single);
        var timer = timeProvider.CreateTimer(static state => ((TimerMessage)state!).Target!.Tell(state, null), tick with { Target = self }, due, period);
        _timers[key] = new Entry(timer, tick.Generation);
    }

    private readonly record struct Entry(ITimer Timer, int Generation);

    /// <summary>What a timer enqueues; unwrapped by the cell if still current.</summary>
    internal sealed record TimerMessage(object Key, int Generation, object Message, bool Single)
    {
        public IActorRef? Target { get; init; }
    }
}
