using Jobs.Client;

namespace Jobs.Actors.Recurring;

/// <summary>A recurring schedule's definition as stored (validated; times in UTC).</summary>
internal sealed record RecurringDefinition(
    string Name,
    string Kind,
    string? Payload,
    string? Cron,
    long? EveryMs,
    string? Named,
    string TimeZone,
    DateTimeOffset? StartAt,
    DateTimeOffset? EndAt,
    int? Limit,
    OverlapPolicy Overlap,
    long CatchUpMs,
    int Priority,
    string? Queue,
    int? MaxAttempts,
    long? TimeoutMs,
    DateTimeOffset Anchor
);

/// <summary>The schedule was created or its definition replaced; occurrences count from <see cref="From"/>.</summary>
internal sealed record RecurringDefined(RecurringDefinition Definition, DateTimeOffset From, DateTimeOffset At) : Serialization.IPersistedEvent;

/// <summary>Paused: occurrences are skipped until resumed.</summary>
internal sealed record RecurringPaused(DateTimeOffset At) : Serialization.IPersistedEvent;

/// <summary>Resumed: occurrences count from <see cref="From"/> (those while paused were skipped).</summary>
internal sealed record RecurringResumed(DateTimeOffset From, DateTimeOffset At) : Serialization.IPersistedEvent;

/// <summary>An occurrence created its job.</summary>
internal sealed record OccurrenceFired(DateTimeOffset Occurrence, string JobId, DateTimeOffset At) : Serialization.IPersistedEvent;

/// <summary>An occurrence was skipped (overlap, limit, a job that could not be created).</summary>
internal sealed record OccurrenceSkipped(DateTimeOffset Occurrence, string Reason, DateTimeOffset At) : Serialization.IPersistedEvent;

/// <summary>An occurrence waits for the active job to end (overlap policy queue-one).</summary>
internal sealed record OccurrenceDeferred(DateTimeOffset Occurrence, DateTimeOffset At) : Serialization.IPersistedEvent;

/// <summary>Occurrences up to <see cref="Last"/> were missed: they are older than the catch-up window.</summary>
internal sealed record OccurrencesMissed(long Count, DateTimeOffset Last, DateTimeOffset At) : Serialization.IPersistedEvent;

/// <summary>The job of an occurrence ended (or is gone).</summary>
internal sealed record OccurrenceEnded(string JobId, bool Succeeded, DateTimeOffset At) : Serialization.IPersistedEvent;

/// <summary>The schedule was deleted.</summary>
internal sealed record RecurringDeleted(DateTimeOffset At) : Serialization.IPersistedEvent;
