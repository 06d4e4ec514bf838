namespace Jobs.Client;

/// <summary>A job as listed (from the query index).</summary>
/// <param name="Id">The id.</param>
/// <param name="Kind">The kind.</param>
/// <param name="Queue">The queue.</param>
/// <param name="Priority">The priority.</param>
/// <param name="Status">The status.</param>
/// <param name="DueAt">When it is due.</param>
/// <param name="AttemptCount">Attempts so far.</param>
/// <param name="UpdatedAt">The last change.</param>
public sealed record JobSummary(
    string Id,
    string Kind,
    string Queue,
    int Priority,
    JobStatus Status,
    DateTimeOffset DueAt,
    int AttemptCount,
    DateTimeOffset UpdatedAt
);
