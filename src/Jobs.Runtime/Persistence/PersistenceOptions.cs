namespace Jobs.Runtime.Persistence;

/// <summary>Options of the persistence extension that are not the journal's own.</summary>
public sealed record PersistenceOptions
{
    /// <summary>How many persistent actors may recover at once (the rest wait). Default: 50.</summary>
    public int MaxConcurrentRecoveries { get; init; } = 50;

    /// <summary>Written into every event to say which process wrote it. Default: machine name and process id.</summary>
    public string WriterId { get; init; } = $"{Environment.MachineName}/{Environment.ProcessId}";

    /// <summary>Throws naming the setting when a value is out of range.</summary>
    public PersistenceOptions Validate()
    {
        if (MaxConcurrentRecoveries <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxConcurrentRecoveries), MaxConcurrentRecoveries, "jobs.persistence.max-concurrent-recoveries must be positive");
        }

        ArgumentException.ThrowIfNullOrEmpty(WriterId);
        return this;
    }
}
