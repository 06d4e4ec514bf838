namespace Jobs.Actors.Handlers;

/// <summary>Defaults for the jobs of one kind; null values fall back to the node's defaults (jobs.defaults).</summary>
public sealed record JobKindOptions
{
    /// <summary>The queue jobs of this kind run on when the request names none. Default: null (the default queue).</summary>
    public string? Queue { get; init; }

    /// <summary>
    /// Most jobs of this kind running at once in the whole cluster (jobs.kind-limits overrides it). Default: null (only
    /// the queue's workers limit it).
    /// </summary>
    public int? MaxConcurrency { get; init; }

    /// <summary>Attempts before the job fails; -1 unlimited. Default: null (jobs.defaults.max-attempts).</summary>
    public int? MaxAttempts { get; init; }

    /// <summary>Run timeout per attempt. Default: null (jobs.defaults.timeout).</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Retries allowed after timeouts and lost attempts. Default: null (jobs.defaults.max-timeout-retries).</summary>
    public int? MaxTimeoutRetries { get; init; }

    /// <summary>Backoff before the first retry. Default: null (jobs.defaults.backoff.min).</summary>
    public TimeSpan? BackoffMin { get; init; }

    /// <summary>The largest backoff. Default: null (jobs.defaults.backoff.max).</summary>
    public TimeSpan? BackoffMax { get; init; }

    /// <summary>Growth factor per failure. Default: null (jobs.defaults.backoff.factor).</summary>
    public double? BackoffFactor { get; init; }

    /// <summary>Random jitter 0..1 added to each backoff. Default: null (jobs.defaults.backoff.jitter).</summary>
    public double? BackoffJitter { get; init; }
}
