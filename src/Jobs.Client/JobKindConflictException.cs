namespace Jobs.Client;

/// <summary>A schedule call named the id of an existing job of another kind: nothing was created or changed.</summary>
public sealed class JobKindConflictException(string jobId, string existingKind, string requestedKind)
    : JobsException("job-id-conflict", $"job '{jobId}' already exists with kind '{existingKind}', not '{requestedKind}'")
{
    /// <summary>The existing job's id.</summary>
    public string JobId { get; } = jobId;

    /// <summary>The existing job's kind.</summary>
    public string ExistingKind { get; } = existingKind;

    /// <summary>The kind the request asked for.</summary>
    public string RequestedKind { get; } = requestedKind;
}
