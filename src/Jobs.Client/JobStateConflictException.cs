namespace Jobs.Client;

/// <summary>The operation does not apply to the job in its current status (for example rescheduling a finished job).</summary>
public sealed class JobStateConflictException(string jobId, JobStatus status, string operation)
    : JobsException("job-state-conflict", $"cannot {operation} job '{jobId}': it is {status}")
{
    /// <summary>The job.</summary>
    public string JobId { get; } = jobId;

    /// <summary>Its status at the time.</summary>
    public JobStatus Status { get; } = status;

    /// <summary>The operation that was refused ("cancel", "reschedule", ...).</summary>
    public string Operation { get; } = operation;
}
