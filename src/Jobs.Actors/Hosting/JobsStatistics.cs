namespace Jobs.Actors.Hosting;

/// <summary>This node's job counters since it started. Thread-safe.</summary>
public sealed class JobsStatistics
{
    private long _scheduled;
    private long _started;
    private long _succeeded;
    private long _failed;
    private long _retried;
    private long _timedOut;
    private long _recovered;
    private long _cancelled;

    private readonly JobsMetrics? _metrics;

    /// <summary>The node's instruments, fed with these counters.</summary>
    internal JobsMetrics? Metrics => _metrics;

    internal JobsStatistics(DateTimeOffset startedAt, JobsMetrics? metrics = null)
    {
        _metrics = metrics;
        StartedAt = startedAt;
        LastSeen = startedAt;
    }

    /// <summary>When the node started.</summary>
    public DateTimeOffset StartedAt { get; }

    /// <summary>The last time the node recorded any job activity.</summary>
    public DateTimeOffset LastSeen { get; private set; }

    /// <summary>Jobs scheduled through this node.</summary>
    public long Scheduled => Interlocked.Read(ref _scheduled);

    /// <summary>Attempts started on this node.</summary>
    public long Started => Interlocked.Read(ref _started);

    /// <summary>Jobs that succeeded here.</summary>
    public long Succeeded => Interlocked.Read(ref _succeeded);

    /// <summary>Jobs that failed for good here.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Attempts that ended with a retry planned.</summary>
    public long Retried => Interlocked.Read(ref _retried);

    /// <summary>Attempts that timed out.</summary>
    public long TimedOut => Interlocked.Read(ref _timedOut);

    /// <summary>Attempts found lost (their node died) and recovered.</summary>
    public long Recovered => Interlocked.Read(ref _recovered);

    /// <summary>Jobs cancelled.</summary>
    public long Cancelled => Interlocked.Read(ref _cancelled);

    internal void OnScheduled(DateTimeOffset at) => Touch(ref _scheduled, at);

    internal void OnStarted(DateTimeOffset at) => Touch(ref _started, at, _metrics?.Started);

    internal void OnSucceeded(DateTimeOffset at) => Touch(ref _succeeded, at, _metrics?.Succeeded);

    internal void OnFailed(DateTimeOffset at) => Touch(ref _failed, at, _metrics?.Failed);

    internal void OnRetried(DateTimeOffset at) => Touch(ref _retried, at, _metrics?.Retried);

    internal void OnTimedOut(DateTimeOffset at) => Touch(ref _timedOut, at, _metrics?.TimedOut);

    internal void OnRecovered(DateTimeOffset at) => Touch(ref _recovered, at, _metrics?.Recovered);

    internal void OnCancelled(DateTimeOffset at) => Touch(ref _cancelled, at, _metrics?.Cancelled);

    private void Touch(ref long counter, DateTimeOffset at, System.Diagnostics.Metrics.Counter<long>? meter = null)
    {
        Interlocked.Increment(ref counter);
        meter?.Add(1);
        LastSeen = at;
    }
}
