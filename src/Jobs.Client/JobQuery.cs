namespace Jobs.Client;

/// <summary>A filter over jobs for counting and listing; null fields match everything.</summary>
public sealed record JobQuery
{
    /// <summary>Only jobs in this status.</summary>
    public JobStatus? Status { get; init; }

    /// <summary>Only jobs of this kind.</summary>
    public string? Kind { get; init; }

    /// <summary>Only jobs on this queue.</summary>
    public string? Queue { get; init; }

    /// <summary>The most items in one page. Default: 100.</summary>
    public int Limit { get; init; } = 100;

    /// <summary>The cursor from a previous page (of the same order), or null for the first page.</summary>
    public string? Cursor { get; init; }

    /// <summary>The order of a list. Default: <see cref="JobListOrder.Backlog"/>.</summary>
    public JobListOrder Order { get; init; } = JobListOrder.Backlog;
}
