using System.Text.Json;

namespace Jobs.Client;

/// <summary>Everything known about one job: its state, counters and every attempt.</summary>
public sealed record JobInfo
{
    /// <summary>The job's id.</summary>
    public required string Id { get; init; }

    /// <summary>The job kind (handler name).</summary>
    public required string Kind { get; init; }

    /// <summary>The queue it runs on.</summary>
    public required string Queue { get; init; }

    /// <summary>Higher runs first among jobs due at the same time.</summary>
    public int Priority { get; init; }

    /// <summary>The current status.</summary>
    public JobStatus Status { get; init; }

    /// <summary>The payload as given at schedule time.</summary>
    public JsonElement Payload { get; init; }

    /// <summary>When it was scheduled.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When it is (or was last) due to run.</summary>
    public DateTimeOffset DueAt { get; init; }

    /// <summary>Attempts counted against <see cref="MaxAttempts"/> so far.</summary>
    public int AttemptCount { get; init; }

    /// <summary>The attempt limit; -1 means unlimited.</summary>
    public int MaxAttempts { get; init; }

    /// <summary>How many attempts succeeded (0 or 1).</summary>
    public int SuccessCount { get; init; }

    /// <summary>When the latest attempt started.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>The node that ran the latest attempt.</summary>
    public string? StartedBy { get; init; }

    /// <summary>When the job finished (succeeded, failed or was cancelled).</summary>
    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>The error of the latest attempt that ended, or null once an attempt succeeded (each attempt keeps its own error).</summary>
    public string? LastError { get; init; }

    /// <summary>The result the handler reported on success, if any.</summary>
    public JsonElement? Result { get; init; }

    /// <summary>Every attempt, oldest first.</summary>
    public IReadOnlyList<AttemptInfo> Attempts { get; init; } = [];

    /// <summary>Grows with every change; as a precondition (HTTP: the ETag, in If-Match) it changes the job only if nothing else did.</summary>
    public long Revision { get; init; }
}
