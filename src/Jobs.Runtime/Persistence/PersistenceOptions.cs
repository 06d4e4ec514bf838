namespace Jobs.Runtime.Persistence;

/// <summary>Options of the persistence extension that are not the journal's own.</summary>
public sealed record PersistenceOptions
{
    /// <summary>How many recovery reads run at once; actors that recover meanwhile are read together in the next. Default: 4.</summary>
    public int MaxConcurrentRecoveries { get; init; } = 4;

    /// <summary>Most streams read together when many actors recover at once (one query for all). Default: 256.</summary>
    public int RecoveryBatchSize { get; init; } = 256;

    /// <summary>Written into every event to say which process wrote it. Default: machine name and process id.</summary>
    public string WriterId { get; init; } = $"{Environment.MachineName}/{Environment.ProcessId}";

    /// <summary>Throws naming the setting when a value is out of range.</summary>
    public PersistenceOptions Validate()
    {
        if (MaxConcurrentRecoveries <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxConcurrentRecoveries), MaxConcurrentRecoveries, "jobs.persistence.max-concurrent-recoveries must be positive");
        }

        if (RecoveryBatchSize is <= 0 or > 5_000)
        {
            throw new ArgumentOutOfRangeException(nameof(RecoveryBatchSize), RecoveryBatchSize, "jobs.persistence.recovery-batch-size must be 1 to 5000");
        }

        ArgumentException.ThrowIfNullOrEmpty(WriterId);
        return this;
    }
}
