namespace Jobs.Actors.Handlers;

/// <summary>What a handler knows about the attempt it runs.</summary>
public sealed class JobContext
{
    internal JobContext(
        string jobId,
        string kind,
        int attempt,
        DateTimeOffset scheduledAt,
        DateTimeOffset startedAt,
        string node,
        CancellationToken cancellationToken
    )
    {
        JobId = jobId;
        Kind = kind;
        Attempt = attempt;
        ScheduledAt = scheduledAt;
        StartedAt = startedAt;
        Node = node;
        CancellationToken = cancellationToken;
    }

    /// <summary>The job's id.</summary>
    public string JobId { get; }

    /// <summary>The job's kind.</summary>
    public string Kind { get; }

    /// <summary>This attempt's number, from 1.</summary>
    public int Attempt { get; }

    /// <summary>When the job was due.</summary>
    public DateTimeOffset ScheduledAt { get; }

    /// <summary>When this attempt started.</summary>
    public DateTimeOffset StartedAt { get; }

    /// <summary>The node running it.</summary>
    public string Node { get; }

    /// <summary>Cancelled when the run timeout passes, the job is cancelled or destroyed, or the node shuts down.</summary>
    public CancellationToken CancellationToken { get; }
}
