using Jobs.Runtime.Actors;
using Jobs.Persistence.Journal;
using Jobs.Persistence.Serialization;
using Jobs.Persistence.Snapshots;

namespace Jobs.Runtime.Persistence;

/// <summary>The journal, snapshot store and serializer persistent actors of one actor system use.</summary>
public sealed class PersistenceExtension
{
    /// <summary>Creates the extension (register it with <see cref="Register"/>).</summary>
    public PersistenceExtension(IJournal journal, ISnapshotStore snapshots, EventSerializer serializer, PersistenceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(journal);
        ArgumentNullException.ThrowIfNull(snapshots);
        ArgumentNullException.ThrowIfNull(serializer);
        Journal = journal;
        Snapshots = snapshots;
        Serializer = serializer;
        Options = (options ?? new PersistenceOptions()).Validate();
        RecoveryPermits = new SemaphoreSlim(Options.MaxConcurrentRecoveries, Options.MaxConcurrentRecoveries);
        Recovery = new RecoveryBatcher(journal, snapshots, Options.RecoveryBatchSize, readers: Options.MaxConcurrentRecoveries);
    }

    /// <summary>The event journal.</summary>
    public IJournal Journal { get; }

    /// <summary>The snapshot store.</summary>
    public ISnapshotStore Snapshots { get; }

    /// <summary>Maps events and snapshots to stable manifests.</summary>
    public EventSerializer Serializer { get; }

    /// <summary>The options in force.</summary>
    public PersistenceOptions Options { get; }

    internal SemaphoreSlim RecoveryPermits { get; }

    /// <summary>Shared reads for actors that recover from the latest snapshot (the usual case).</summary>
    internal RecoveryBatcher Recovery { get; }

    /// <summary>Attaches persistence to <paramref name="system"/>.</summary>
    public static PersistenceExtension Register(ActorSystem system, PersistenceExtension extension)
    {
        ArgumentNullException.ThrowIfNull(system);
        return system.RegisterExtension(extension);
    }

    /// <summary>The persistence attached to <paramref name="system"/>.</summary>
    /// <exception cref="InvalidOperationException">None is registered.</exception>
    public static PersistenceExtension Get(ActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        return system.GetExtension<PersistenceExtension>()
            ?? throw new InvalidOperationException($"actor system '{system.Name}' has no persistence: call PersistenceExtension.Register first");
    }
}
