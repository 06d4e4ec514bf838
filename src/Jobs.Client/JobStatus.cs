namespace Jobs.Client;

/// <summary>Where a job is in its life: waiting for its time, waiting for a worker, running, or ended; a deleted job is not found.</summary>
public enum JobStatus
{
    /// <summary>Waiting for its time.</summary>
    Scheduled,

    /// <summary>Due, waiting for a free worker.</summary>
    Queued,

    /// <summary>A handler is running it.</summary>
    Running,

    /// <summary>Finished successfully.</summary>
    Succeeded,

    /// <summary>Finished without success and no retries are left (or the handler failed it permanently).</summary>
    Failed,

    /// <summary>Cancelled before it succeeded.</summary>
    Cancelled,
}
