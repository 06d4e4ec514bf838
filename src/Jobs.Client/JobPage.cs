namespace Jobs.Client;

/// <summary>One page of a job listing, ordered by priority (highest first), then due time, then id.</summary>
/// <param name="Items">The jobs on this page.</param>
/// <param name="NextCursor">Pass as <see cref="JobQuery.Cursor"/> for the next page; null on the last page.</param>
public sealed record JobPage(IReadOnlyList<JobSummary> Items, string? NextCursor);
