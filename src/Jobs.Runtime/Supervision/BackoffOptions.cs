using Jobs.Runtime.Actors;

namespace Jobs.Runtime.Supervision;

/// <summary>Settings of a <see cref="BackoffSupervisor"/>: delays grow min * 2^n up to max, with random jitter.</summary>
public sealed record BackoffOptions
{
    /// <summary>Creates options for a child.</summary>
    /// <param name="childProps">How to create the child.</param>
    /// <param name="childName">The child's name.</param>
    /// <param name="minBackoff">The first delay.</param>
    /// <param name="maxBackoff">The largest delay.</param>
    /// <param name="randomFactor">Jitter: each delay is multiplied by 1 + random(0, factor).</param>
    public BackoffOptions(Props childProps, string childName, TimeSpan minBackoff, TimeSpan maxBackoff, double randomFactor)
    {
        ArgumentNullException.ThrowIfNull(childProps);
        ArgumentException.ThrowIfNullOrEmpty(childName);
        if (minBackoff <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(minBackoff), minBackoff, "minBackoff must be positive");
        }

        if (maxBackoff < minBackoff)
        {
            throw new ArgumentOutOfRangeException(nameof(maxBackoff), maxBackoff, "maxBackoff must be >= minBackoff");
        }

        if (randomFactor is < 0 or > 1 || double.IsNaN(randomFactor))
        {
            throw new ArgumentOutOfRangeException(nameof(randomFactor), randomFactor, "randomFactor must be between 0 and 1");
        }

        ChildProps = childProps;
        ChildName = childName;
        MinBackoff = minBackoff;
        MaxBackoff = maxBackoff;
        RandomFactor = randomFactor;
    }

    /// <summary>How to create the child.</summary>
    public Props ChildProps { get; }

    /// <summary>The child's name.</summary>
    public string ChildName { get; }

    /// <summary>The first delay.</summary>
    public TimeSpan MinBackoff { get; }

    /// <summary>The largest delay.</summary>
    public TimeSpan MaxBackoff { get; }

    /// <summary>Jitter factor between 0 and 1.</summary>
    public double RandomFactor { get; }

    /// <summary>When the child is recreated. Default: on stop.</summary>
    public BackoffMode Mode { get; init; } = BackoffMode.OnStop;

    /// <summary>After the child has run this long the delay starts again at the minimum; null uses <see cref="MinBackoff"/>. Default: null.</summary>
    public TimeSpan? ResetAfter { get; init; }

    /// <summary>
    /// Sent back to the sender of a message that arrives while the child is stopped (backing off), instead of dropping
    /// the message to dead letters; a <see cref="StatusFailure"/> fails the sender's Ask at once. Default: null (dead letters).
    /// </summary>
    public object? ReplyWhileStopped { get; init; }

    /// <summary>Recreations allowed before the supervisor gives up and stops; -1 for unlimited. Default: -1.</summary>
    public int MaxRetries { get; init; } = -1;

    /// <summary>The delay before recreation number <paramref name="restartCount"/> (0-based), with <paramref name="random"/> in [0, 1).</summary>
    public TimeSpan DelayFor(int restartCount, double random)
    {
        var exponential = MinBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(restartCount, 62));
        var capped = Math.Min(MaxBackoff.TotalMilliseconds, exponential);
        var jittered = capped * (1 + (random * RandomFactor));
        return TimeSpan.FromMilliseconds(Math.Min(jittered, TimeSpan.MaxValue.TotalMilliseconds / 2));
    }
}
