using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Configuration;
using Jobs.Persistence.Journal;
using Jobs.Persistence.Postgres;
using Jobs.Persistence.Sql;
using Jobs.Persistence.Sqlite;

namespace Jobs.Persistence.Plugin;

/// <summary>
/// The actor system's SQL stores behind the journal and snapshot-store plugins: one started journal per database
/// (so the journal and snapshot store of one database share one writer), the write participants that every journal
/// calls in its transactions, and the plugins' default configuration.
/// </summary>
public sealed class SqlPersistence : IExtension
{
    /// <summary>The journal plugin's id (its HOCON path).</summary>
    public const string JournalPluginId = "akka.persistence.journal.jobs-sql";

    /// <summary>The snapshot-store plugin's id (its HOCON path).</summary>
    public const string SnapshotPluginId = "akka.persistence.snapshot-store.jobs-sql";

    private readonly ConcurrentDictionary<string, Lazy<Task<PluginStores>>> _stores = new(StringComparer.Ordinal);
    private readonly List<IWriteParticipant> _participants = [];
    private readonly object _gate = new();
    private bool _started;

    internal SqlPersistence(ActorSystem system)
    {
        system.RegisterOnTermination(() =>
        {
            foreach (var store in _stores.Values.Where(s => s.IsValueCreated && s.Value.IsCompletedSuccessfully && s.Value.Result.Owned))
            {
                store.Value.Result.Journal.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        });
    }

    /// <summary>The plugins' reference configuration (every key with its default), for a fallback.</summary>
    public static Config DefaultConfig { get; } = LoadDefaultConfig();

    /// <summary>The extension of <paramref name="system"/>.</summary>
    public static SqlPersistence Get(ActorSystem system) => system.WithExtension<SqlPersistence, SqlPersistenceProvider>();

    /// <summary>
    /// Adds a participant that writes the <see cref="Attached.Attachment"/>s of every journal write in the same
    /// transaction as its events. Add participants before the first persistent actor starts: a journal takes the
    /// participants there are when it starts (and creates their tables).
    /// </summary>
    /// <exception cref="InvalidOperationException">A journal has started already.</exception>
    public void AddParticipant(IWriteParticipant participant)
    {
        ArgumentNullException.ThrowIfNull(participant);
        lock (_gate)
        {
            if (_started)
            {
                throw new InvalidOperationException(
                    "write participants must be added before the first journal starts (before any persistent actor runs)"
                );
            }

            _participants.Add(participant);
        }
    }

    /// <summary>
    /// Hands the plugin a journal and snapshot store its application started itself (provider = "provided"): the
    /// plugin uses them as they are and never disposes them. For an application that also writes to the journal
    /// directly (one write spanning many actors) or owns it for other reasons (one owner of an embedded file).
    /// </summary>
    /// <param name="journal">The started journal.</param>
    /// <param name="snapshots">The snapshot store beside it.</param>
    public void Provide(IJournal journal, Snapshots.ISnapshotStore snapshots)
    {
        ArgumentNullException.ThrowIfNull(journal);
        ArgumentNullException.ThrowIfNull(snapshots);
        var stores = Task.FromResult(new PluginStores(journal, snapshots, Owned: false));
        if (!_stores.TryAdd(PluginSettings.ProvidedKey, new Lazy<Task<PluginStores>>(() => stores)))
        {
            throw new InvalidOperationException("a journal was provided to this actor system already");
        }
    }

    /// <summary>The started journal of the database a plugin with <paramref name="settings"/> uses.</summary>
    internal async Task<PluginStores> JournalAsync(PluginSettings settings)
    {
        var key = settings.StoreKey;
        if (key == PluginSettings.ProvidedKey && !_stores.ContainsKey(key))
        {
            throw new InvalidOperationException($"{settings.Path}.provider = provided, but no journal was provided (SqlPersistence.Provide)");
        }

        var store = _stores.GetOrAdd(key, _ => new Lazy<Task<PluginStores>>(() => StartAsync(settings)));
        try
        {
            return await store.Value.ConfigureAwait(false);
        }
        catch
        {
            // A database that was down at the first call must be tried again at the next one, not remembered as failed.
            _stores.TryRemove(KeyValuePair.Create(key, store));
            throw;
        }
    }

    private async Task<PluginStores> StartAsync(PluginSettings settings)
    {
        IReadOnlyList<IWriteParticipant> participants;
        lock (_gate)
        {
            _started = true;
            participants = [.. _participants];
        }

        SqlJournal journal =
            settings.Provider == "sqlite"
                ? new SqliteJournal(settings.SqlitePath, settings.Journal, settings.TablePrefix, participants)
                : new PostgresJournal(
                    Postgres.PostgresDataSources.Create(settings.PostgresConnectionString),
                    settings.Journal,
                    settings.PostgresSchema,
                    settings.TablePrefix,
                    participants,
                    ownsDataSource: true
                );
        try
        {
            await journal.StartAsync(CancellationToken.None).ConfigureAwait(false);
            return new PluginStores(journal, journal.CreateSnapshotStore(), Owned: true);
        }
        catch
        {
            await journal.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static Config LoadDefaultConfig()
    {
        using var stream = typeof(SqlPersistence).Assembly.GetManifestResourceStream("Jobs.Persistence.persistence-plugin.conf")
            ?? throw new InvalidOperationException("the plugin's reference configuration is not embedded in Jobs.Persistence");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }
}

/// <summary>Creates the <see cref="SqlPersistence"/> extension.</summary>
/// <summary>The journal and snapshot store one plugin configuration writes to.</summary>
/// <param name="Journal">The journal.</param>
/// <param name="Snapshots">The snapshot store.</param>
/// <param name="Owned">Started (and disposed) by the plugin, not provided by the application.</param>
internal sealed record PluginStores(IJournal Journal, Snapshots.ISnapshotStore Snapshots, bool Owned);

internal sealed class SqlPersistenceProvider : ExtensionIdProvider<SqlPersistence>
{
    public override SqlPersistence CreateExtension(ExtendedActorSystem system) => new(system);
}
