using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Jobs.Runtime.Actors;

/// <summary>Immutable settings of an actor system (the <c>jobs.runtime</c> section of the configuration).</summary>
public sealed record ActorSystemSettings
{
    /// <summary>Messages an actor processes per turn before yielding its thread. Default: 30.</summary>
    public int Throughput { get; init; } = 30;

    /// <summary>Ask timeout used when a caller passes none. Default: 10 s.</summary>
    public TimeSpan DefaultAskTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The whole of coordinated shutdown must finish within this. Default: 30 s.</summary>
    public TimeSpan ShutdownDeadline { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Time allowed to each shutdown phase. Default: 10 s.</summary>
    public TimeSpan ShutdownPhaseTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How many dead letters are logged before logging is muted (they are still counted and published). Default: 10.</summary>
    public int LogDeadLetters { get; init; } = 10;

    /// <summary>The clock for timers, receive timeouts and asks. Default: the system clock.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Where the runtime logs. Default: no logging.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>Throws when a value is out of range, naming the setting.</summary>
    public ActorSystemSettings Validate()
    {
        if (Throughput <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Throughput), Throughput, "jobs.runtime.throughput must be positive");
        }

        if (DefaultAskTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(DefaultAskTimeout), DefaultAskTimeout, "jobs.runtime.ask-timeout must be positive");
        }

        if (ShutdownDeadline <= TimeSpan.Zero || ShutdownPhaseTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ShutdownDeadline), ShutdownDeadline, "jobs.runtime.shutdown deadlines must be positive");
        }

        if (LogDeadLetters < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(LogDeadLetters), LogDeadLetters, "jobs.runtime.log-dead-letters must be >= 0");
        }

        return this;
    }
}
