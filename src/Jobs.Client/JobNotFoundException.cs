namespace Jobs.Client;

/// <summary>No job has this id (never scheduled, or destroyed).</summary>
public sealed class JobNotFoundException(string jobId) : JobsException("job-not-found", $"no job with id '{jobId}' (never scheduled, or destroyed)")
{
    /// <summary>The id that was looked up.</summary>
    public string JobId { get; } = jobId;
}
