using System.Text.Json.Serialization;
using Jobs.Client;

namespace Jobs.Actors.Entities;

/// <summary>A job was created. Carries everything needed to run and retry it (its options are fixed at schedule time).</summary>
internal sealed record JobScheduled(
    string Id,
    string Kind,
    string Queue,
    int Priority,
    string? Payload,
    DateTimeOffset DueAt,
    DateTimeOffset CreatedAt,
    int MaxAttempts,
    long TimeoutMs,
    int MaxTimeoutRetries,
    long BackoffMinMs,
    long BackoffMaxMs,
    double BackoffFactor,
    double BackoffJitter,
    string? UniqueKey = null,
    long UniquePeriodMs = 0,
    string? Recurring = null,
    string? TraceParent = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Request = null
) : Serialization.IPersistedEvent;

/// <summary>A waiting unique job was replaced by a newer schedule call for its key (payload, time and priority).</summary>
internal sealed record JobReplaced(string? Payload, DateTimeOffset DueAt, int Priority, DateTimeOffset At) : Serialization.IPersistedEvent;

/// <summary>An attempt began on a node (persisted before the handler is called, so a crash leaves a trace).</summary>
internal sealed record AttemptStarted(int Attempt, string Node, string Incarnation, DateTimeOffset StartedAt) : Serialization.IPersistedEvent;

/// <summary>An attempt ended; <see cref="RetryAt"/> set means the job waits for another attempt, null means it is finished.</summary>
internal sealed record AttemptEnded(
    int Attempt,
    AttemptOutcome Outcome,
    DateTimeOffset EndedAt,
    string? Error,
    string? StackTrace,
    string? Result,
    DateTimeOffset? RetryAt
) : Serialization.IPersistedEvent;

/// <summary>The job was cancelled (a running attempt's token is cancelled too); <c>Request</c>: the call's token, if it sent one.</summary>
internal sealed record JobCancelled(DateTimeOffset At, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Request = null)
    : Serialization.IPersistedEvent;

/// <summary>A failed or cancelled job was sent back to wait for another attempt, its allowance renewed (<c>Request</c>: the call's token).</summary>
internal sealed record JobRetried(
    DateTimeOffset DueAt,
    DateTimeOffset At,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Request = null
) : Serialization.IPersistedEvent;

/// <summary>A waiting job was moved to another time (<c>Request</c>: the call's token, if it sent one).</summary>
internal sealed record JobRescheduled(
    DateTimeOffset DueAt,
    DateTimeOffset At,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Request = null
) : Serialization.IPersistedEvent;

/// <summary>The job was destroyed: its events are deleted right after.</summary>
internal sealed record JobDestroyed(DateTimeOffset At) : Serialization.IPersistedEvent;
