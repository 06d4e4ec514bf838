using Jobs.Client;

namespace Jobs.Actors.Entities;

/// <summary>The pure rules that turn an attempt report into the event that ends the attempt (retry or finish).</summary>
internal static class JobDecisions
{
    /// <summary>Exponential backoff: min * factor^(n-1), capped at max, times 1 + random(0, jitter).</summary>
    public static TimeSpan Backoff(JobScheduled definition, int failures, double random)
    {
        var exponent = Math.Min(Math.Max(failures - 1, 0), 60);
        var raw = definition.BackoffMinMs * Math.Pow(definition.BackoffFactor, exponent);
        var capped = Math.Min(raw, definition.BackoffMaxMs);
        return TimeSpan.FromMilliseconds(capped * (1 + (Math.Clamp(random, 0, 1) * definition.BackoffJitter)));
    }

    /// <summary>Whether an attempt may start now: the job waits and its time has come.</summary>
    public static bool CanStart(JobState state, DateTimeOffset now) => state.Phase == JobPhase.Pending && IsDue(state.DueAt, now);

    /// <summary>
    /// Whether a job due at <paramref name="dueAt"/> is due at <paramref name="now"/>, at the query index's precision
    /// (whole milliseconds): the entity and the index agree on every due time, so a job the scheduler reads as due is
    /// never turned away for the fraction of a millisecond the index does not keep.
    /// </summary>
    public static bool IsDue(DateTimeOffset dueAt, DateTimeOffset now) => dueAt.ToUnixTimeMilliseconds() <= now.ToUnixTimeMilliseconds();

    /// <summary>Whether a report belongs to the attempt that runs now (anything else is late and ignored).</summary>
    public static bool IsCurrent(JobState state, int attempt, string incarnation) =>
        state.Phase == JobPhase.Running && attempt == state.CurrentAttempt && incarnation == state.RunningIncarnation;

    /// <summary>Whether the job may be cancelled (it exists and has not finished).</summary>
    public static bool CanCancel(JobState state) => state.Exists && !state.IsFinished;

    /// <summary>Whether the job may be run again by hand (it failed or was cancelled).</summary>
    public static bool CanRetry(JobState state) => state.Phase is JobPhase.Failed or JobPhase.Cancelled;

    /// <summary>Whether the job may be moved to another time (only while it waits).</summary>
    public static bool CanReschedule(JobState state) => state.Phase == JobPhase.Pending;

    /// <summary>
    /// Whether <paramref name="requested"/> is the call that created the job in <paramref name="state"/>, sent again
    /// (the same request token).
    /// </summary>
    public static bool IsRepeatOfCreation(JobState state, JobScheduled requested) =>
        requested.Request is { } request && state.Definition?.Request == request;

    /// <summary>
    /// Whether a cancel, reschedule or retry call is a repeat of the last one that changed the job (the client sends a
    /// call again when its answer does not come): it is answered as done, and changes nothing again.
    /// </summary>
    public static bool IsRepeatOfLastCall(JobState state, string? request) => request is not null && state.Exists && state.LastRequest == request;

    /// <summary>
    /// A finished unique job frees its key once its unique period has passed: a new schedule call starts a new job
    /// under the same id.
    /// </summary>
    public static bool UniqueKeyFree(JobState state, DateTimeOffset now) =>
        state.Definition is { UniqueKey: not null } d
        && state.IsFinished
        && now - (state.CompletedAt ?? state.UpdatedAt) >= TimeSpan.FromMilliseconds(d.UniquePeriodMs);

    /// <summary>
    /// Decides how the current attempt ends, given its report: finished, or pending again with a retry time. A lost
    /// attempt's retry waits at least <paramref name="lostRetryHold"/> (nonzero unless its member is back and the cluster settled).
    /// </summary>
    public static AttemptEnded Decide(JobState state, AttemptReport report, DateTimeOffset now, double random, TimeSpan lostRetryHold = default)
    {
        var d = state.Definition ?? throw new InvalidOperationException("no job to decide for");
        var attempt = state.CurrentAttempt;
        switch (report)
        {
            case AttemptReport.Succeeded s:
                return new AttemptEnded(attempt, AttemptOutcome.Succeeded, now, null, null, s.Result, null);
            case AttemptReport.FailedPermanently f:
                return new AttemptEnded(attempt, AttemptOutcome.FailedPermanently, now, f.Reason, null, null, null);
            case AttemptReport.Snoozed z:
                return new AttemptEnded(attempt, AttemptOutcome.Snoozed, now, null, null, null, now + z.Delay);
            case AttemptReport.Interrupted i:
                return new AttemptEnded(attempt, AttemptOutcome.Interrupted, now, i.Detail, null, null, now);
            case AttemptReport.Threw or AttemptReport.RetryAt:
            {
                var failures = state.CountedAttempts + 1;
                var (error, stack, explicitAt) = report switch
                {
                    AttemptReport.Threw t => (t.Error, t.StackTrace, (DateTimeOffset?)null),
                    AttemptReport.RetryAt r => (r.Reason, null, r.At),
                    _ => throw new InvalidOperationException(),
                };
                var retriesLeft = d.MaxAttempts < 0 || failures < d.MaxAttempts;
                DateTimeOffset? retryAt = retriesLeft ? explicitAt ?? now + Backoff(d, failures, random) : null;
                return new AttemptEnded(attempt, AttemptOutcome.Failed, now, error, stack, null, retryAt);
            }

            case AttemptReport.TimedOut
            or AttemptReport.Lost:
            {
                var used = state.TimeoutRetriesUsed + 1;
                var outcome = report is AttemptReport.TimedOut ? AttemptOutcome.TimedOut : AttemptOutcome.Lost;
                var detail = report is AttemptReport.TimedOut t ? t.Detail : ((AttemptReport.Lost)report).Detail;
                var delay = Backoff(d, used, random);
                if (report is AttemptReport.Lost && lostRetryHold > delay)
                {
                    delay = lostRetryHold;
                }

                DateTimeOffset? retryAt = used <= d.MaxTimeoutRetries ? now + delay : null;
                return new AttemptEnded(attempt, outcome, now, detail, null, null, retryAt);
            }

            default:
                throw new ArgumentException($"unknown report {report.GetType().Name}", nameof(report));
        }
    }
}
