using System.Collections.Immutable;
using Jobs.Client;

namespace Jobs.Actors.Recurring;

/// <summary>A recurring schedule's state, rebuilt from its events (pure).</summary>
internal sealed record RecurringScheduleState
{
    public static RecurringScheduleState Empty { get; } = new();

    public RecurringDefinition? Definition { get; init; }

    public bool Exists => Definition is not null;

    public bool Paused { get; init; }

    /// <summary>Every occurrence up to and including this instant has been handled (fired, skipped, deferred or missed).</summary>
    public DateTimeOffset Cursor { get; init; }

    /// <summary>Jobs created by occurrences that have not been seen to end.</summary>
    public ImmutableList<string> ActiveJobs { get; init; } = [];

    /// <summary>An occurrence waiting for the active job to end (queue-one).</summary>
    public DateTimeOffset? Deferred { get; init; }

    public DateTimeOffset? PreviousOccurrence { get; init; }

    public string? PreviousJobId { get; init; }

    public int Successes { get; init; }

    public long Fired { get; init; }

    public long Skipped { get; init; }

    public long Missed { get; init; }

    public string? LastSkipReason { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }

    public bool LimitReached => Definition?.Limit is { } limit && Successes >= limit;

    public RecurringScheduleState Apply(object @event) =>
        @event switch
        {
            RecurringDefined d => this with
            {
                Definition = d.Definition,
                Cursor = d.From,
                Deferred = null,
                CreatedAt = Exists ? CreatedAt : d.At,
                UpdatedAt = d.At,
            },
            RecurringPaused p => this with { Paused = true, Deferred = null, UpdatedAt = p.At },
            RecurringResumed r => this with { Paused = false, Cursor = r.From > Cursor ? r.From : Cursor, UpdatedAt = r.At },
            OccurrenceFired f => this with
            {
                Cursor = f.Occurrence > Cursor ? f.Occurrence : Cursor,
                Deferred = Deferred == f.Occurrence ? null : Deferred,
                ActiveJobs = ActiveJobs.Contains(f.JobId) ? ActiveJobs : ActiveJobs.Add(f.JobId),
                PreviousOccurrence = f.Occurrence,
                PreviousJobId = f.JobId,
                Fired = Fired + 1,
                UpdatedAt = f.At,
            },
            OccurrenceSkipped s => this with
            {
                Cursor = s.Occurrence > Cursor ? s.Occurrence : Cursor,
                Deferred = Deferred == s.Occurrence ? null : Deferred,
                Skipped = Skipped + 1,
                LastSkipReason = s.Reason,
                UpdatedAt = s.At,
            },
            OccurrenceDeferred q => this with { Cursor = q.Occurrence > Cursor ? q.Occurrence : Cursor, Deferred = q.Occurrence, UpdatedAt = q.At },
            OccurrencesMissed m => this with { Cursor = m.Last > Cursor ? m.Last : Cursor, Missed = Missed + m.Count, UpdatedAt = m.At },
            OccurrenceEnded e => this with
            {
                ActiveJobs = ActiveJobs.Remove(e.JobId),
                Successes = Successes + (e.Succeeded && ActiveJobs.Contains(e.JobId) ? 1 : 0),
                UpdatedAt = e.At,
            },
            RecurringDeleted => Empty,
            _ => throw new ArgumentException($"unknown recurring-schedule event {@event.GetType().Name}", nameof(@event)),
        };

    /// <summary>The first occurrence not yet handled, or null (none left, completed, or past the end).</summary>
    public DateTimeOffset? NextOccurrence(IRecurrence recurrence)
    {
        if (Definition is not { } d || LimitReached)
        {
            return null;
        }

        var next = recurrence.Next(Cursor);
        return next is { } n && (d.EndAt is null || n <= d.EndAt) ? n : null;
    }

    public RecurringState StateAt(IRecurrence recurrence) =>
        Paused ? RecurringState.Paused
        : LimitReached || (NextOccurrence(recurrence) is null && Deferred is null) ? RecurringState.Completed
        : RecurringState.Active;

    public RecurringScheduleInfo ToInfo(IRecurrence recurrence)
    {
        var d = Definition!;
        return new RecurringScheduleInfo
        {
            Name = d.Name,
            Kind = d.Kind,
            Payload = Entities.StoredPayload.ToElement(d.Payload),
            Cron = d.Cron,
            Every = d.EveryMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null,
            Named = d.Named,
            TimeZone = d.TimeZone,
            StartAt = d.StartAt,
            EndAt = d.EndAt,
            Limit = d.Limit,
            Overlap = d.Overlap,
            CatchUpWindow = TimeSpan.FromMilliseconds(d.CatchUpMs),
            Priority = d.Priority,
            Queue = d.Queue,
            State = StateAt(recurrence),
            PreviousOccurrence = PreviousOccurrence,
            PreviousJobId = PreviousJobId,
            NextOccurrence = Paused ? null : Deferred ?? NextOccurrence(recurrence),
            Running = ActiveJobs.Count > 0,
            SuccessfulRuns = Successes,
            Fired = Fired,
            Skipped = Skipped,
            Missed = Missed,
            LastSkipReason = LastSkipReason,
            CreatedAt = CreatedAt,
            UpdatedAt = UpdatedAt,
        };
    }
}
