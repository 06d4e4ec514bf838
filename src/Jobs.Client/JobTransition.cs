namespace Jobs.Client;

/// <summary>A job changed: its status after the change, and for ended attempts the outcome.</summary>
/// <param name="JobId">The job.</param>
/// <param name="Kind">Its kind.</param>
/// <param name="Queue">Its queue.</param>
/// <param name="Status">Its status after the change (for a destroyed job, the last status it had).</param>
/// <param name="Change">What happened: "current" (the state when a watch of one job began), "scheduled", "started",
/// "attempt-ended", "cancelled", "rescheduled" or "destroyed".</param>
/// <param name="Attempt">The attempt number the change belongs to (0 before the first attempt).</param>
/// <param name="Outcome">For "attempt-ended": how the attempt ended.</param>
/// <param name="DueAt">When the job runs next (meaningful while Scheduled or Queued).</param>
/// <param name="At">When the change happened.</param>
public sealed record JobTransition(
    string JobId,
    string Kind,
    string Queue,
    JobStatus Status,
    string Change,
    int Attempt,
    AttemptOutcome? Outcome,
    DateTimeOffset DueAt,
    DateTimeOffset At
)
{
    /// <summary>Whether the change was the job's deletion (later lookups say not found).</summary>
    public bool Destroyed => Change == "destroyed";

    /// <summary>Whether the job has finished (Succeeded, Failed, Cancelled) or was destroyed.</summary>
    public bool IsFinal => Destroyed || Status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled;
}

/// <summary>Which transitions a watch receives: one job's, or all matching the filters.</summary>
public sealed record WatchQuery
{
    /// <summary>Only this job; the watch then starts with its current state and ends after a final transition.</summary>
    public string? JobId { get; init; }

    /// <summary>Only transitions into this status.</summary>
    public JobStatus? Status { get; init; }

    /// <summary>Only jobs of this kind.</summary>
    public string? Kind { get; init; }

    /// <summary>Only jobs on this queue.</summary>
    public string? Queue { get; init; }

    /// <summary>Whether <paramref name="transition"/> passes the filters.</summary>
    public bool Matches(JobTransition transition)
    {
        ArgumentNullException.ThrowIfNull(transition);
        return (JobId is null || JobId == transition.JobId)
            && (Status is null || Status == transition.Status)
            && (Kind is null || Kind == transition.Kind)
            && (Queue is null || Queue == transition.Queue);
    }
}
