namespace Jobs.Client;

/// <summary>The job changed since the revision the caller saw (HTTP 412): read it again and decide again.</summary>
public sealed class JobPreconditionFailedException(string jobId, long expectedRevision, long actualRevision)
    : JobsException("precondition-failed", $"job '{jobId}' is at revision {actualRevision}, not {expectedRevision}: it changed since it was read")
{
    /// <summary>The job.</summary>
    public string JobId { get; } = jobId;

    /// <summary>The revision the caller expected.</summary>
    public long ExpectedRevision { get; } = expectedRevision;

    /// <summary>The job's revision now.</summary>
    public long ActualRevision { get; } = actualRevision;
}
