using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Configuration;
using Akka.Coordination;
using Akka.Event;
using Jobs.Persistence.Journal;
using Jobs.Persistence.Plugin;

namespace Jobs.Persistence.Leases;

/// <summary>
/// A lease held in the journal's database (the leases table its fenced writes check), for the places Akka takes a
/// lease: a cluster singleton and each shard (<c>use-lease</c>), or the split-brain resolver's lease-majority. A
/// row per lease names its owner (the node's address and a token of its process) and an epoch that grows with every
/// change of hands; expiry is judged by the database's clock. The leases of one actor system are renewed together,
/// one statement per heartbeat interval. Akka's lease API has no fencing token, so <see cref="Fence"/> gives one:
/// a journal write carrying it is stored only while this holding is current.
/// Configured at <c>akka.coordination.lease.jobs-sql</c> (hocon/persistence-plugin.conf).
/// </summary>
public sealed class DatabaseLease : Lease
{
    /// <summary>The configuration path of this lease implementation's settings.</summary>
    public const string ConfigPath = "akka.coordination.lease.jobs-sql";

    private readonly LeaseKeeper _keeper;

    /// <summary>Created by Akka's lease provider for one lease name and owner.</summary>
    public DatabaseLease(LeaseSettings settings, ActorSystem system)
        : base(settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(system);
        _keeper = DatabaseLeases.Get(system).KeeperFor(settings);
    }

    /// <summary>The keeper that renews this lease with the others of its actor system.</summary>
    internal LeaseKeeper Keeper => _keeper;

    /// <summary>The owner written into the lease row (the owner name Akka gave, and this process's token).</summary>
    public string Owner => _keeper.Owner;

    /// <summary>The epoch this lease is held at now, or null when it is not held.</summary>
    public long? Epoch => _keeper.EpochOf(Settings.LeaseName);

    /// <summary>
    /// The precondition for a journal write made under this lease: stored only while this owner holds the lease at
    /// this epoch. When the lease is not held the fence can never pass (epoch 0), so the write is refused.
    /// </summary>
    public WriteFence Fence => new(Settings.LeaseName, _keeper.Owner, Epoch ?? 0);

    /// <inheritdoc />
    public override Task<bool> Acquire() => _keeper.AcquireAsync(Settings.LeaseName, null);

    /// <inheritdoc />
    public override Task<bool> Acquire(Action<Exception> leaseLostCallback) => _keeper.AcquireAsync(Settings.LeaseName, leaseLostCallback);

    /// <summary>
    /// Gives the lease up: at once here (its fence stops passing), and in the database in the background (the task
    /// is complete on return, as the callers that wait for it synchronously need).
    /// </summary>
    public override Task<bool> Release() => _keeper.Release(Settings.LeaseName);

    /// <inheritdoc />
    public override bool CheckLease() => Epoch is not null;
}

/// <summary>The lease keepers of an actor system: one per database and timing, shared by every lease that uses them.</summary>
public sealed class DatabaseLeases : IExtension
{
    private readonly ActorSystem _system;
    private readonly ConcurrentDictionary<string, LeaseKeeper> _keepers = new(StringComparer.Ordinal);

    internal DatabaseLeases(ActorSystem system)
    {
        _system = system;

        // Termination callbacks run in the reverse order of their registration: the journals' (which closes them)
        // is registered first, so that the leases are released while the journals still work.
        SqlPersistence.Get(system);
        system.RegisterOnTermination(() =>
        {
            foreach (var keeper in _keepers.Values)
            {
                keeper.ReleaseAll();
                keeper.Dispose();
            }
        });
    }

    /// <summary>The extension of <paramref name="system"/>.</summary>
    public static DatabaseLeases Get(ActorSystem system) => system.WithExtension<DatabaseLeases, DatabaseLeasesProvider>();

    /// <summary>The keeper for a lease with <paramref name="settings"/>.</summary>
    internal LeaseKeeper KeeperFor(LeaseSettings settings)
    {
        var timeouts = settings.TimeoutSettings;
        var journalPath = settings.LeaseConfig.GetString("journal-plugin", SqlPersistence.JournalPluginId);
        var key = $"{journalPath}|{settings.OwnerName}|{timeouts.HeartbeatTimeout}|{timeouts.HeartbeatInterval}|{timeouts.OperationTimeout}";
        return _keepers.GetOrAdd(key, _ =>
        {
            var pluginConfig = _system.Settings.Config.GetConfig(journalPath);
            if (pluginConfig.IsNullOrEmpty())
            {
                throw new ArgumentException($"{DatabaseLease.ConfigPath}.journal-plugin names '{journalPath}', which is not configured");
            }

            var plugin = PluginSettings.From(
                pluginConfig.WithFallback(SqlPersistence.DefaultConfig.GetConfig(SqlPersistence.JournalPluginId)),
                journalPath
            );
            var stores = SqlPersistence.Get(_system);
            return new LeaseKeeper(
                settings.OwnerName,
                async ct =>
                    (await stores.JournalAsync(plugin).WaitAsync(ct).ConfigureAwait(false)).Journal as ILeaseStore
                    ?? throw new InvalidOperationException($"the journal of '{journalPath}' keeps no leases"),
                timeouts.HeartbeatTimeout,
                timeouts.HeartbeatInterval,
                timeouts.OperationTimeout,
                Logging.GetLogger(_system, typeof(DatabaseLease))
            );
        });
    }
}

/// <summary>Creates the <see cref="DatabaseLeases"/> extension.</summary>
internal sealed class DatabaseLeasesProvider : ExtensionIdProvider<DatabaseLeases>
{
    /// <inheritdoc />
    public override DatabaseLeases CreateExtension(ExtendedActorSystem system) => new(system);
}
