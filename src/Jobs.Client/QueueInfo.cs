namespace Jobs.Client;

/// <summary>The order a queue's backlog of due jobs runs in.</summary>
public enum QueueOrder
{
    /// <summary>Highest priority first; among equal priorities, the earliest due. The default.</summary>
    PriorityFirst,

    /// <summary>Earliest due first; among equal times, the highest priority.</summary>
    RunAtFirst,
}

/// <summary>A queue on this node: its workers, what runs, and whether it is paused.</summary>
public sealed record QueueInfo
{
    /// <summary>The queue's name.</summary>
    public required string Name { get; init; }

    /// <summary>Workers (the most jobs of this queue running at once on this node).</summary>
    public int Workers { get; init; }

    /// <summary>Jobs running now.</summary>
    public int Running { get; init; }

    /// <summary>True while paused: due jobs wait, running jobs finish.</summary>
    public bool Paused { get; init; }

    /// <summary>The backlog order.</summary>
    public QueueOrder Order { get; init; }

    /// <summary>Jobs due and waiting for a worker.</summary>
    public long Queued { get; init; }

    /// <summary>Jobs waiting for their time.</summary>
    public long Scheduled { get; init; }
}
