using System.Collections.Immutable;
using System.Text.Json;
using Jobs.Client;

namespace Jobs.Actors.Entities;

/// <summary>A job's state, rebuilt from its events by <see cref="Apply"/> (pure: the same events give the same state).</summary>
internal sealed record JobState
{
    public static JobState Empty { get; } = new();

    public JobScheduled? Definition { get; init; }

    public JobPhase Phase { get; init; }

    public DateTimeOffset DueAt { get; init; }

    public ImmutableList<AttemptInfo> Attempts { get; init; } = [];

    /// <summary>Attempts that count against MaxAttempts (failures and successes, not lost/interrupted/snoozed/timed out).</summary>
    public int CountedAttempts { get; init; }

    public int TimeoutRetriesUsed { get; init; }

    public string? RunningIncarnation { get; init; }

    public string? Result { get; init; }

    public string? LastError { get; init; }

    public DateTimeOffset? CompletedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>How many events made this state (across lives of a unique job): a job's revision for preconditions.</summary>
    public long Revision { get; init; }

    /// <summary>The token of the last cancel, reschedule or retry call that changed the job (null: none, or sent without one).</summary>
    public string? LastRequest { get; init; }

    public bool Exists => Phase is not (JobPhase.None or JobPhase.Destroyed);

    public bool IsFinished => Phase is JobPhase.Succeeded or JobPhase.Failed or JobPhase.Cancelled;

    public int CurrentAttempt => Attempts.Count;

    public JobState Apply(object @event) => ApplyEvent(@event) with { Revision = Revision + 1 };

    private JobState ApplyEvent(object @event) =>
        @event switch
        {
            JobScheduled s => new JobState
            {
                Definition = s,
                Phase = JobPhase.Pending,
                DueAt = s.DueAt,
                UpdatedAt = s.CreatedAt,
            },
            AttemptStarted a => this with
            {
                Phase = JobPhase.Running,
                RunningIncarnation = a.Incarnation,
                Attempts = Attempts.Add(new AttemptInfo(a.Attempt, a.Node, a.StartedAt, null, AttemptOutcome.Running, null, null)),
                UpdatedAt = a.StartedAt,
            },
            AttemptEnded e => ApplyEnded(e),
            JobCancelled c => this with
            {
                LastRequest = c.Request,
                Phase = JobPhase.Cancelled,
                CompletedAt = c.At,
                UpdatedAt = c.At,
                RunningIncarnation = null,
                Attempts = Phase == JobPhase.Running ? CloseLast(AttemptOutcome.Cancelled, c.At, "cancelled", null) : Attempts,
            },
            JobRescheduled r => this with { DueAt = r.DueAt, UpdatedAt = r.At, LastRequest = r.Request },
            JobRetried r => this with
            {
                LastRequest = r.Request,
                Phase = JobPhase.Pending,
                DueAt = r.DueAt,
                UpdatedAt = r.At,
                CompletedAt = null,
                CountedAttempts = 0,
                TimeoutRetriesUsed = 0,
            },
            JobReplaced r => this with
            {
                Definition = Definition! with { Payload = r.Payload, Priority = r.Priority },
                DueAt = r.DueAt,
                UpdatedAt = r.At,
            },
            JobDestroyed d => new JobState { Phase = JobPhase.Destroyed, UpdatedAt = d.At },
            _ => throw new ArgumentException($"unknown job event {@event.GetType().Name}", nameof(@event)),
        };

    /// <summary>The status clients see at <paramref name="now"/> (Pending splits into Scheduled and Queued by the due time).</summary>
    public JobStatus StatusAt(DateTimeOffset now) =>
        Phase switch
        {
            JobPhase.Pending => DueAt <= now ? JobStatus.Queued : JobStatus.Scheduled,
            JobPhase.Running => JobStatus.Running,
            JobPhase.Succeeded => JobStatus.Succeeded,
            JobPhase.Failed => JobStatus.Failed,
            JobPhase.Cancelled => JobStatus.Cancelled,
            _ => throw new InvalidOperationException("the job does not exist"),
        };

    public JobInfo ToInfo(DateTimeOffset now)
    {
        var d = Definition!;
        var last = Attempts.Count > 0 ? Attempts[^1] : null;
        return new JobInfo
        {
            Id = d.Id,
            Kind = d.Kind,
            Queue = d.Queue,
            Priority = d.Priority,
            Status = StatusAt(now),
            Payload = StoredPayload.ToElement(d.Payload),
            CreatedAt = d.CreatedAt,
            DueAt = DueAt,
            AttemptCount = CountedAttempts,
            MaxAttempts = d.MaxAttempts,
            SuccessCount = Phase == JobPhase.Succeeded ? 1 : 0,
            StartedAt = last?.StartedAt,
            StartedBy = last?.Node,
            CompletedAt = CompletedAt,
            LastError = LastError,
            Result = Result is null ? null : JsonDocument.Parse(Result).RootElement.Clone(),
            Attempts = Attempts,
            Revision = Revision,
        };
    }

    private JobState ApplyEnded(AttemptEnded e)
    {
        var counted = e.Outcome is AttemptOutcome.Succeeded or AttemptOutcome.Failed or AttemptOutcome.FailedPermanently;
        var timeoutLike = e.Outcome is AttemptOutcome.TimedOut or AttemptOutcome.Lost;
        var phase =
            e.RetryAt is not null ? JobPhase.Pending
            : e.Outcome == AttemptOutcome.Succeeded ? JobPhase.Succeeded
            : JobPhase.Failed;
        return this with
        {
            Phase = phase,
            DueAt = e.RetryAt ?? DueAt,
            CountedAttempts = CountedAttempts + (counted ? 1 : 0),
            TimeoutRetriesUsed = TimeoutRetriesUsed + (timeoutLike ? 1 : 0),
            RunningIncarnation = null,
            Result = e.Outcome == AttemptOutcome.Succeeded ? e.Result : Result,
            // The error of the attempt that ended last: a later success clears it (the attempts keep every error).
            LastError = e.Outcome == AttemptOutcome.Succeeded ? null : e.Error ?? LastError,
            CompletedAt = phase is JobPhase.Succeeded or JobPhase.Failed ? e.EndedAt : null,
            UpdatedAt = e.EndedAt,
            Attempts = CloseLast(e.Outcome, e.EndedAt, e.Error, e.StackTrace),
        };
    }

    private ImmutableList<AttemptInfo> CloseLast(AttemptOutcome outcome, DateTimeOffset at, string? error, string? stack) =>
        Attempts.Count == 0
            ? Attempts
            : Attempts.SetItem(Attempts.Count - 1, Attempts[^1] with { EndedAt = at, Outcome = outcome, Error = error, StackTrace = stack });
}
