using Jobs.Actors.Hosting;
using Jobs.Client;

namespace Jobs.Host;

/// <summary>Logs every ended attempt, so a newcomer watching the console sees jobs succeed, retry and fail.</summary>
internal sealed partial class LoggingObserver(ILogger<LoggingObserver> log) : IJobObserver
{
    public Task OnAttemptEndedAsync(JobInfo job, AttemptOutcome outcome, CancellationToken cancellationToken)
    {
        var error = job.Attempts.Count > 0 ? job.Attempts[^1].Error : null;
        AttemptEnded(job.Id, job.Kind, job.Attempts.Count, outcome, job.Status, job.Status == JobStatus.Scheduled ? job.DueAt : null, error);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} ({Kind}) attempt {Attempt}: {Outcome}; now {Status}{NextRun}{Error}")]
    private partial void AttemptEndedCore(
        string jobId,
        string kind,
        int attempt,
        AttemptOutcome outcome,
        JobStatus status,
        string nextRun,
        string error
    );

    private void AttemptEnded(
        string jobId,
        string kind,
        int attempt,
        AttemptOutcome outcome,
        JobStatus status,
        DateTimeOffset? next,
        string? error
    ) =>
        AttemptEndedCore(
            jobId,
            kind,
            attempt,
            outcome,
            status,
            next is { } n ? $", next attempt at {n:O}" : string.Empty,
            error is null ? string.Empty : $" ({error})"
        );
}
