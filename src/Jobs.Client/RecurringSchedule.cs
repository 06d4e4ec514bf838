using System.Text.Json;

namespace Jobs.Client;

/// <summary>What a recurring schedule does when an occurrence comes while the job of an earlier one is still active.</summary>
public enum OverlapPolicy
{
    /// <summary>The occurrence is skipped (recorded as skipped). The default.</summary>
    Skip,

    /// <summary>The occurrence waits until the earlier job ends, then runs; at most one waits (later ones are skipped).</summary>
    QueueOne,

    /// <summary>The occurrence runs anyway, alongside the earlier job.</summary>
    Allow,
}

/// <summary>The state of a recurring schedule.</summary>
public enum RecurringState
{
    /// <summary>Occurrences fire as they come.</summary>
    Active,

    /// <summary>Paused: occurrences that come meanwhile are recorded as skipped.</summary>
    Paused,

    /// <summary>No more occurrences: the limit of successful runs is reached, or the end time passed.</summary>
    Completed,
}

/// <summary>
/// A recurring schedule: a job of <see cref="Kind"/> created at every occurrence of <see cref="Cron"/>,
/// <see cref="Every"/> or the named schedule <see cref="Named"/> (exactly one of them). Setting a schedule that
/// exists replaces its definition and keeps its history.
/// </summary>
public sealed record RecurringScheduleRequest
{
    /// <summary>The schedule's name, its identity: 1-100 letters, digits, '.', '_', '-' (starting with a letter or digit).</summary>
    public required string Name { get; init; }

    /// <summary>The kind of job created at each occurrence.</summary>
    public required string Kind { get; init; }

    /// <summary>The payload of each occurrence's job.</summary>
    public JsonElement? Payload { get; init; }

    /// <summary>A cron expression (5 fields, or 6 with seconds first), a macro (@hourly, @daily, ...) or "@every 10s".</summary>
    public string? Cron { get; init; }

    /// <summary>A fixed interval (at least one second), counted from <see cref="StartAt"/> or the creation time.</summary>
    public TimeSpan? Every { get; init; }

    /// <summary>A named schedule: registered in code (JobsBuilder.AddNamedSchedule) or declared in HOCON (jobs.named-schedules).</summary>
    public string? Named { get; init; }

    /// <summary>The IANA time zone cron times are read in. Default: UTC.</summary>
    public string? TimeZone { get; init; }

    /// <summary>No occurrence before this instant. Default: from now.</summary>
    public DateTimeOffset? StartAt { get; init; }

    /// <summary>No occurrence after this instant. Default: none.</summary>
    public DateTimeOffset? EndAt { get; init; }

    /// <summary>Stop after this many successful runs. Default: no limit.</summary>
    public int? Limit { get; init; }

    /// <summary>What to do when an occurrence comes while an earlier one's job is still active. Default: skip.</summary>
    public OverlapPolicy Overlap { get; init; } = OverlapPolicy.Skip;

    /// <summary>
    /// Occurrences missed (node down) at most this long ago still run once; older ones are recorded as missed. Default:
    /// jobs.scheduler.catch-up-window.
    /// </summary>
    public TimeSpan? CatchUpWindow { get; init; }

    /// <summary>Priority of each occurrence's job.</summary>
    public int Priority { get; init; }

    /// <summary>Queue of each occurrence's job; null uses the kind's queue.</summary>
    public string? Queue { get; init; }

    /// <summary>Attempts per occurrence; null uses the kind's setting.</summary>
    public int? MaxAttempts { get; init; }

    /// <summary>Run timeout per attempt; null uses the kind's setting.</summary>
    public TimeSpan? Timeout { get; init; }
}

/// <summary>A recurring schedule's definition, state and history.</summary>
public sealed record RecurringScheduleInfo
{
    /// <summary>The schedule's name.</summary>
    public required string Name { get; init; }

    /// <summary>The kind of job it creates.</summary>
    public required string Kind { get; init; }

    /// <summary>The payload of each job.</summary>
    public JsonElement Payload { get; init; }

    /// <summary>The cron expression, when it is a cron schedule.</summary>
    public string? Cron { get; init; }

    /// <summary>The interval, when it is an interval schedule.</summary>
    public TimeSpan? Every { get; init; }

    /// <summary>The named schedule, when it is one.</summary>
    public string? Named { get; init; }

    /// <summary>The IANA time zone.</summary>
    public required string TimeZone { get; init; }

    /// <summary>No occurrence before this.</summary>
    public DateTimeOffset? StartAt { get; init; }

    /// <summary>No occurrence after this.</summary>
    public DateTimeOffset? EndAt { get; init; }

    /// <summary>The limit of successful runs, if any.</summary>
    public int? Limit { get; init; }

    /// <summary>The overlap policy.</summary>
    public OverlapPolicy Overlap { get; init; }

    /// <summary>The catch-up window for missed occurrences.</summary>
    public TimeSpan CatchUpWindow { get; init; }

    /// <summary>Priority of each job.</summary>
    public int Priority { get; init; }

    /// <summary>Queue of each job (null: the kind's queue).</summary>
    public string? Queue { get; init; }

    /// <summary>Active, paused or completed.</summary>
    public RecurringState State { get; init; }

    /// <summary>The latest occurrence that created a job.</summary>
    public DateTimeOffset? PreviousOccurrence { get; init; }

    /// <summary>The job of <see cref="PreviousOccurrence"/>.</summary>
    public string? PreviousJobId { get; init; }

    /// <summary>The next occurrence (null when completed or when there is none).</summary>
    public DateTimeOffset? NextOccurrence { get; init; }

    /// <summary>True while a job of this schedule is scheduled, queued or running.</summary>
    public bool Running { get; init; }

    /// <summary>Occurrences whose job succeeded.</summary>
    public int SuccessfulRuns { get; init; }

    /// <summary>Occurrences that created a job.</summary>
    public long Fired { get; init; }

    /// <summary>Occurrences skipped (overlap, paused, limit, or a job that could not be created).</summary>
    public long Skipped { get; init; }

    /// <summary>Occurrences missed while no node ran the schedule, older than the catch-up window.</summary>
    public long Missed { get; init; }

    /// <summary>Why the latest occurrence was skipped, if it was.</summary>
    public string? LastSkipReason { get; init; }

    /// <summary>When the schedule was first created.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When it last changed.</summary>
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>No recurring schedule has this name.</summary>
public sealed class RecurringNotFoundException(string name) : JobsException("recurring-not-found", $"recurring schedule '{name}' does not exist")
{
    /// <summary>The name asked for.</summary>
    public string Name { get; } = name;
}
