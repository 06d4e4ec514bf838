namespace Jobs.Persistence.Journal;

/// <summary>Options of the SQL journals (the <c>jobs.persistence</c> configuration section).</summary>
public sealed record JournalOptions
{
    /// <summary>Create and migrate tables at start-up. Default: true.</summary>
    public bool AutoMigrate { get; init; } = true;

    /// <summary>Writes waiting for a batch before callers are made to wait. Default: 50,000.</summary>
    public int QueueCapacity { get; init; } = 50_000;

    /// <summary>The most atomic writes stored in one transaction. Default: 1,000.</summary>
    public int MaxBatchSize { get; init; } = 1_000;

    /// <summary>Batches in flight at once (PostgreSQL only; SQLite has one writer). Default: 2.</summary>
    public int WriteParallelism { get; init; } = 2;

    /// <summary>Identifies this process in every stored event (diagnostics). Default: machine name and process id.</summary>
    public string WriterId { get; init; } = $"{Environment.MachineName}/{Environment.ProcessId}";

    /// <summary>Throws naming the setting when a value is out of range.</summary>
    public JournalOptions Validate()
    {
        if (QueueCapacity <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(QueueCapacity), QueueCapacity, "jobs.persistence.queue-capacity must be positive");
        }

        if (MaxBatchSize <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxBatchSize), MaxBatchSize, "jobs.persistence.max-batch-size must be positive");
        }

        if (WriteParallelism <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(WriteParallelism), WriteParallelism, "jobs.persistence.write-parallelism must be positive");
        }

        ArgumentException.ThrowIfNullOrEmpty(WriterId);
        return this;
    }
}
