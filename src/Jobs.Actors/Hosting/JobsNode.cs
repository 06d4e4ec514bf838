using System.Data.Common;
using System.Diagnostics.Metrics;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Cluster.Tools.Singleton;
using Akka.Configuration;
using Akka.Coordination;
using Akka.Hosting.Logging;
using Akka.Pattern;
using Jobs.Actors.Entities;
using Jobs.Actors.Index;
using Jobs.Actors.Protocol;
using Jobs.Actors.Recurring;
using Jobs.Actors.Scheduling;
using Jobs.Actors.Serialization;
using Jobs.Actors.Sharding;
using Jobs.Actors.Support;
using Jobs.Actors.Workers;
using Jobs.Client;
using Jobs.Hocon;
using Jobs.Persistence.Journal;
using Jobs.Persistence.Leases;
using Jobs.Persistence.Plugin;
using Jobs.Persistence.Sql;
using Jobs.Persistence.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using AkkaConfigFile = Akka.Configuration.Config;

namespace Jobs.Actors.Hosting;

/// <summary>
/// One job node: the actor system, the journal and query index, the shard region of job entities, the scheduler
/// singleton and one worker pool per queue. Started and stopped by the generic host; stopping stops admitting new
/// attempts, lets running handlers finish until the host's shutdown deadline, then interrupts them (they run again later).
/// </summary>
public sealed class JobsNode : IHostedService, IAsyncDisposable
{
    private readonly JobsBuilder _builder;
    private readonly IServiceProvider _services;
    private readonly TimeProvider _clock;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _log;
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource<IJobsClient> _client = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ActorSystem? _system;
    private IJournal? _journal;

    /// <summary>Holds a memory node's in-memory index database open (it lives as long as one connection does).</summary>
    private Microsoft.Data.Sqlite.SqliteConnection? _memoryIndex;
    private JobsRuntime? _runtime;
    private bool _stopped;

    /// <summary>Created by DI (see <see cref="JobsServiceCollectionExtensions.AddJobs"/>).</summary>
    public JobsNode(JobsBuilder builder, IServiceProvider services, TimeProvider? clock = null, ILoggerFactory? loggers = null)
    {
        _builder = builder;
        _services = services;
        _clock = clock ?? services.GetService<TimeProvider>() ?? TimeProvider.System;
        _loggers = loggers ?? services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
        _log = _loggers.CreateLogger<JobsNode>();
    }

    /// <summary>The client for this node (usable once the node has started; calls made earlier wait for the start).</summary>
    public IJobsClient Client => new DeferredClient(_client.Task);

    /// <summary>The running node's actors and services (null before start); for tests that talk to them directly.</summary>
    internal JobsRuntime? Runtime => _runtime;

    /// <summary>This node's statistics (null before start).</summary>
    public JobsStatistics? Statistics => _runtime?.Statistics;

    /// <summary>The node's name.</summary>
    public string? NodeName => _runtime?.Settings.NodeName;

    /// <summary>The name a node started with <paramref name="config"/> takes (<c>jobs.node.name</c>, else the machine's name).</summary>
    public static string NodeNameFrom(Jobs.Hocon.Config config) => JobsSettings.FromConfig(config).NodeName;

    /// <summary>Concurrency caps per kind on this node (empty before start).</summary>
    public IReadOnlyDictionary<string, int> KindLimits => _runtime?.KindCaps ?? new Dictionary<string, int>();

    /// <summary>This node's meter (named <see cref="JobsTelemetry.Name"/>; null before start), to tell it from other nodes' in one process.</summary>
    public Meter? Meter => _runtime?.Metrics.Meter;

    /// <summary>The actor system (null before start).</summary>
    public ActorSystem? System => _system;

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken) =>
        _builder.HostedByAkka
            ? Task.CompletedTask // started by Akka.Hosting's startup task (WithJobs) once it has created the actor system
            : StartCoreAsync(null, null, cancellationToken);

    /// <summary>
    /// Starts the job system inside an actor system that Akka.Hosting created (<see cref="JobsAkkaHostingExtensions.WithJobs"/>),
    /// and registers its actors in <paramref name="registry"/>.
    /// </summary>
    internal Task AttachAsync(ActorSystem system, Akka.Hosting.IActorRegistry registry) => StartCoreAsync(system, registry, CancellationToken.None);

    /// <summary>The Akka settings the job system needs beneath an application's own (for Akka.Hosting's builder).</summary>
    internal AkkaConfigFile AkkaDefaults() => AkkaConfigOf(ResolvedConfig);

    /// <summary>The node's configuration, read once (Akka.Hosting asks for its akka tree before the node starts).</summary>
    private Hocon.Config ResolvedConfig => _config ??= _builder.ResolveConfig();

    private async Task StartCoreAsync(ActorSystem? hostSystem, Akka.Hosting.IActorRegistry? registry, CancellationToken cancellationToken)
    {
        var config = ResolvedConfig;
        var settings = JobsSettings.FromConfig(config);
        var persistence = PersistenceSettings.FromConfig(config);

        // The query indexes live beside the journal; a node on the in-memory journal keeps them in an in-memory SQLite
        // database of its own (held open by this node, gone with it), so every backend has one query code path.
        var indexDialect = persistence.Backend == SqlDialect.Memory ? SqlDialect.Sqlite : persistence.Backend;
        var names = new SqlNames(
            indexDialect,
            persistence.Backend == SqlDialect.PostgreSql ? persistence.PostgresSchema : null,
            persistence.TablePrefix
        );
        NpgsqlDataSource? indexSource = null;
        var memoryIndex = $"Data Source=file:jobs-index-{Guid.NewGuid():N}?mode=memory&cache=shared;Pooling=False;Default Timeout=30";
        if (persistence.Backend == SqlDialect.Memory)
        {
            _memoryIndex = new Microsoft.Data.Sqlite.SqliteConnection(memoryIndex);
            await _memoryIndex.OpenAsync(cancellationToken).ConfigureAwait(false);
        }

        Func<CancellationToken, Task<System.Data.Common.DbConnection>> open = persistence.Backend switch
        {
            SqlDialect.Sqlite => async ct => await SqliteJournal.OpenAsync(SqliteConnectionString(persistence.SqlitePath), ct).ConfigureAwait(false),
            SqlDialect.PostgreSql => async ct =>
                await (indexSource ??= Jobs.Persistence.Postgres.PostgresDataSources.Create(persistence.PostgresConnectionString))
                    .OpenConnectionAsync(ct)
                    .ConfigureAwait(false),
            _ => async ct =>
            {
                var connection = new Microsoft.Data.Sqlite.SqliteConnection(memoryIndex);
                await connection.OpenAsync(ct).ConfigureAwait(false);
                return connection;
            },
        };
        var index = new JobIndex(indexDialect, names, open);
        var recurringIndex = new RecurringIndex(names, open);
        var namedSchedules = new NamedSchedules();
        foreach (var (name, next) in _builder.NamedSchedules)
        {
            namedSchedules.Add(name, next);
        }

        DeclaredSchedules.AddNamed(config, namedSchedules);
        var declared = DeclaredSchedules.Recurring(config);
        IWriteParticipant[] participants =
            persistence.Backend == SqlDialect.Memory
                ? [new OwnDatabaseParticipant(index, open), new OwnDatabaseParticipant(recurringIndex, open)]
                : [index, recurringIndex];
        var (journal, snapshots) = persistence.CreateJournal(participants, $"{settings.NodeName}/{Environment.ProcessId}");
        await journal.StartAsync(cancellationToken).ConfigureAwait(false);
        _journal = journal;

        var akkaConfig = AkkaConfigOf(config);
        if (UsesLeases(settings, persistence) && !config.HasPath("akka.cluster.down-removal-margin"))
        {
            // Akka waits this long after a member's removal before its shards and singletons start elsewhere (with
            // the split-brain resolver: stable-after, 5 s), so that the other side of a partition has stopped them
            // first. The leases guarantee that already (nothing starts before the old holder released or lost its
            // lease, and its writes are fenced), so the wait only delayed recovery (measured: the scheduler moved 5 s
            // after the removal of its member).
            akkaConfig = ConfigurationFactory
                .ParseString("akka.cluster.down-removal-margin = " + DownRemovalMarginWithLeases)
                .WithFallback(akkaConfig);
        }

        var system = hostSystem
            ?? ActorSystem.Create(settings.SystemName, BootstrapSetup.Create().WithConfig(akkaConfig).And(new LoggerFactorySetup(_loggers)));
        _system = system;
        if (hostSystem is null)
        {
            StopHostWhenTerminatedByItself(system);
        }

        // The node owns its journal (one owner of an embedded file; batches of new jobs written in one transaction
        // through it): the Akka.Persistence plugin writes through the same one (provider = "provided").
        SqlPersistence.Get(system).Provide(journal, snapshots);

        var clock = _clock;
        if (UsesDatabaseClock(settings, persistence) && journal is ILeaseStore clockSource)
        {
            // Members agree on "now" through the database's clock: this node corrects its own by the measured offset.
            var databaseClock = new DatabaseClock(_clock);
            await databaseClock.SyncAsync(clockSource.ReadClockAsync, cancellationToken).ConfigureAwait(false);
            _log.LogInformation(
                "The database's clock is {Offset} ms ahead of this node's (negative: behind; measured within {Uncertainty} ms)",
                databaseClock.Offset.TotalMilliseconds,
                databaseClock.Uncertainty.TotalMilliseconds
            );
            _clockSync = Task.Run(
                () => SyncClockAsync(databaseClock, clockSource, settings.ClockSyncInterval, _stopping.Token),
                CancellationToken.None
            );
            clock = databaseClock;
        }

        var directory = new ClusterDirectory();
        var validator = new ScheduleValidator(settings, _builder.Handlers, clock, directory);
        var runtime = new JobsRuntime(settings, clock, _builder.Handlers, index, _services, _loggers)
        {
            Directory = directory,
            Observers = [.. _services.GetServices<IJobObserver>()],
            RecurringIndex = recurringIndex,
            NamedSchedules = namedSchedules,
            Validator = validator,
            Journal = journal,
            Incarnation = NodeIncarnation.Of(Cluster.Get(system).SelfUniqueAddress),
            System = system,
        };
        _runtime = runtime;
        await JoinClusterAsync(system, persistence, cancellationToken).ConfigureAwait(false);

        // Jobs and recurring schedules are sharded entities (this node hosts every shard of a one-node cluster); an
        // entity stops through PassivateStop, from its own Passivate or a hand-off, never with what it waits for lost.
        var sharding = ClusterSharding.Get(system);
        var shardingSettings = ClusterShardingSettings.Create(system);
        if (UsesLeases(settings, persistence))
        {
            // Each shard takes its lease in the database before its entities start, and their writes are fenced by
            // it; a shard whose lease cannot be taken yet (still held by a node that died) tries again each second.
            shardingSettings = shardingSettings.WithLeaseSettings(new LeaseUsageSettings(DatabaseLease.ConfigPath, LeaseRetryInterval));
            runtime.ShardLeases = new ShardLeases(system, settings.NumberOfShards);
            system.ActorOf(
                ActorProps.Of(() => new DatabaseContact(runtime, TimeSpan.FromSeconds(2), settings.DatabaseCutOffAfter)),
                DatabaseContact.Name
            );
        }

        var extractor = new JobsMessageExtractor(settings.NumberOfShards);
        runtime.Region = await sharding
            .StartAsync(
                JobEntity.TypeName,
                ActorProps.Of(() => new JobEntity(runtime)),
                shardingSettings,
                extractor,
                sharding.DefaultShardAllocationStrategy(shardingSettings),
                PassivateStop.Instance
            )
            .ConfigureAwait(false);
        runtime.Recurring = await sharding
            .StartAsync(
                RecurringEntity.TypeName,
                ActorProps.Of(() => new RecurringEntity(runtime)),
                shardingSettings,
                extractor,
                sharding.DefaultShardAllocationStrategy(shardingSettings),
                PassivateStop.Instance
            )
            .ConfigureAwait(false);
        var kindLimits = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var kind in _builder.Handlers.Kinds)
        {
            if (_builder.Handlers.TryGet(kind, out var registration) && registration.Options.MaxConcurrency is { } max)
            {
                kindLimits[kind] = max;
            }
        }

        foreach (var (kind, max) in settings.KindLimits)
        {
            kindLimits[kind] = max; // configuration overrides code
        }

        runtime.KindCaps = kindLimits;
        runtime.KindGuard = system.ActorOf(ActorProps.Of(() => new KindGuard(kindLimits)), KindGuard.Name);
        runtime.Pools = settings.Queues.ToDictionary(
            q => q.Key,
            q => system.ActorOf(ActorProps.Of(() => new WorkerPool(runtime, q.Key, q.Value, settings.PrefetchOf(q.Key))), WorkerPool.NameOf(q.Key))
        );
        // A control whose write or recovery fails stops (its state is unknown); its supervisor brings it back, and
        // the fresh one recovers the durable state and hands it to the pool again. Calls meanwhile fail at once.
        runtime.QueueControls = runtime.Pools.ToDictionary(
            p => p.Key,
            p =>
                system.ActorOf(
                    BackoffSupervisor.Props(
                        Backoff
                            .OnStop(
                                ActorProps.Of(() => new QueueControl(runtime, p.Key, p.Value)),
                                "control",
                                TimeSpan.FromMilliseconds(200),
                                TimeSpan.FromSeconds(10),
                                0.2,
                                maxNrOfRetries: -1
                            )
                            .WithReplyWhileStopped(
                                new JobsFailed(
                                    new JobsException(
                                        "storage-failure",
                                        $"queue '{p.Key}' is recovering its pause state after a storage failure; try again shortly"
                                    )
                                )
                            )
                    ),
                    QueueControl.NameOf(p.Key)
                )
        );
        // Members tell each other what they run and which transitions their watchers want.
        runtime.Transitions.Announcer = system.ActorOf(ActorProps.Of(() => new MemberDirectory(runtime)), MemberDirectory.Name);

        // A process that stood still longer than the failure detector allows starts no handler until another member
        // confirms it is still one of them.
        var heartbeats = system.Settings.Config.GetConfig("akka.cluster.failure-detector");
        runtime.PauseGuard = new PauseGuard(
            system,
            heartbeats.GetTimeSpan("acceptable-heartbeat-pause", TimeSpan.FromSeconds(3))
                + heartbeats.GetTimeSpan("heartbeat-interval", TimeSpan.FromSeconds(1)),
            _loggers.CreateLogger<PauseGuard>()
        );
        foreach (var control in runtime.QueueControls.Values)
        {
            // Pools admit nothing until their pause state is recovered; wait for it so the node starts as it was left.
            await control.Ask<bool>(GetQueuePaused.Instance, TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
        }

        // The scheduler is a cluster singleton; every node talks to it through a proxy. On a shared database it runs
        // only while its node holds the singleton's lease: a node that was frozen or cut off, and lost the lease to
        // the next oldest member meanwhile, stops its scheduler when its renewal finds the lease gone.
        var singletonSettings = ClusterSingletonManagerSettings.Create(system).WithSingletonName("scheduler");
        if (UsesLeases(settings, persistence))
        {
            singletonSettings = singletonSettings.WithLeaseSettings(new LeaseUsageSettings(DatabaseLease.ConfigPath, LeaseRetryInterval));
        }

        system.ActorOf(
            ClusterSingletonManager.Props(ActorProps.Of(() => new Scheduler(runtime)), PoisonPill.Instance, singletonSettings),
            "scheduler"
        );
        runtime.Scheduler = system.ActorOf(
            ClusterSingletonProxy.Props("/user/scheduler", ClusterSingletonProxySettings.Create(system).WithSingletonName("scheduler")),
            "scheduler-proxy"
        );

        system.ActorOf(ActorProps.Of(() => new Retention(runtime)), "retention");
        RegisterShutdown(system, runtime);
        var client = new LocalJobsClient(runtime, validator);

        // The door for Akka applications (typed messages); with Akka.Hosting, the registry holds it and the regions.
        var gateway = system.ActorOf(ActorProps.Of(() => new Messages.JobsGateway(client)), "jobs-gateway");
        if (registry is not null)
        {
            registry.Register<Messages.JobsGateway>(gateway);
            registry.Register<JobShardRegion>(runtime.Region);
            registry.Register<RecurringShardRegion>(runtime.Recurring);
            registry.Register<JobScheduler>(runtime.Scheduler);
        }

        foreach (var request in declared)
        {
            try
            {
                await client.SetRecurringAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (JobValidationException ex)
            {
                await StopAsync(CancellationToken.None).ConfigureAwait(false);
                throw new ConfigException(
                    $"recurring schedule '{request.Name}': {ex.Message}",
                    config.GetValue($"jobs.recurring.{request.Name}").Origin,
                    $"jobs.recurring.{request.Name}.{ex.Field}"
                );
            }
        }

        if (persistence.Backend == SqlDialect.PostgreSql && settings.OutboxEnabled)
        {
            var relay = new Outbox.OutboxRelay(
                indexSource ??= Jobs.Persistence.Postgres.PostgresDataSources.Create(persistence.PostgresConnectionString),
                names,
                client,
                settings.OutboxPollInterval,
                settings.OutboxBatchSize,
                _loggers.CreateLogger<Outbox.OutboxRelay>()
            );
            await relay.StartAsync(cancellationToken).ConfigureAwait(false);
            _relay = relay;
        }

        _client.TrySetResult(client);
        _gauges = Task.Run(() => RefreshGaugesAsync(client, runtime.Metrics, settings.GaugeInterval, _stopping.Token), CancellationToken.None);
        _log.LogInformation(
            "Jobs node {Node} started: {Backend} journal, queues {Queues}, kinds {Kinds}",
            settings.NodeName,
            journal.Backend,
            string.Join(", ", settings.Queues.Select(q => $"{q.Key}({q.Value})")),
            string.Join(", ", _builder.Handlers.Kinds)
        );
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_gauges is { } gauges)
        {
            await gauges.ConfigureAwait(false);
        }

        if (_clockSync is { } clockSync)
        {
            await clockSync.ConfigureAwait(false);
        }

        if (_runtime?.PauseGuard is { } pauseGuard)
        {
            await pauseGuard.DisposeAsync().ConfigureAwait(false);
        }

        if (_relay is { } relay)
        {
            await relay.DisposeAsync().ConfigureAwait(false);
        }

        if (_system is { } system)
        {
            // The host's token fires at its shutdown deadline: running handlers get until then.
            _drainDeadline = cancellationToken;
            await CoordinatedShutdown.Get(system).Run(NodeStopping.Instance).ConfigureAwait(false);
            await system.WhenTerminated.ConfigureAwait(false);
        }

        if (_journal is { } journal)
        {
            await journal.DisposeAsync().ConfigureAwait(false);
        }

        if (_memoryIndex is { } memoryIndex)
        {
            await memoryIndex.DisposeAsync().ConfigureAwait(false);
        }

        _runtime?.Metrics.Dispose();
    }

    /// <summary>Whether due times follow the database's clock (<c>jobs.scheduler.clock</c>).</summary>
    private bool UsesDatabaseClock(JobsSettings settings, PersistenceSettings persistence) =>
        settings.Clock switch
        {
            ClockSource.Database => true,
            ClockSource.Auto => persistence.Backend == SqlDialect.PostgreSql && ReferenceEquals(_clock, TimeProvider.System),
            _ => false,
        };

    /// <summary>Measures the clock's offset to the database's again every <paramref name="interval"/> until the node stops.</summary>
    private async Task SyncClockAsync(DatabaseClock clock, ILeaseStore database, TimeSpan interval, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, stopping).ConfigureAwait(false);
                var before = clock.Offset;
                await clock.SyncAsync(database.ReadClockAsync, stopping).ConfigureAwait(false);
                if ((clock.Offset - before).Duration() > TimeSpan.FromMilliseconds(100))
                {
                    _log.LogWarning(
                        "This node's clock moved against the database's: the offset is now {Offset} ms (was {Before} ms)",
                        clock.Offset.TotalMilliseconds,
                        before.TotalMilliseconds
                    );
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _log.LogWarning(
                    ex,
                    "Measuring this node's clock against the database's failed; keeping the last offset ({Offset} ms)",
                    clock.Offset.TotalMilliseconds
                );
            }
        }
    }

    /// <summary>
    /// The cluster's members as this node sees them, with where the scheduler runs, the job shards and entities each
    /// hosts and the attempts each runs (asked of every member, each answer bounded by <paramref name="timeout"/>).
    /// </summary>
    public async Task<IReadOnlyList<ClusterMember>> GetMembersAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (_runtime is not { } runtime || _system is not { } system || !_client.Task.IsCompletedSuccessfully)
        {
            throw new JobsException("unavailable", "the node has not started yet");
        }

        var cluster = Cluster.Get(system);
        var state = cluster.State;
        var oldest = state.Members.Where(m => m.Status == MemberStatus.Up).OrderBy(m => m, Member.AgeOrdering).FirstOrDefault();
        ClusterShardingStats? stats = null;
        try
        {
            stats = await runtime
                .Region.Ask<ClusterShardingStats>(new GetClusterShardingStats(timeout), timeout + timeout, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            // Shards and entities stay unknown.
        }

        var members = new List<ClusterMember>();
        foreach (var member in state.Members.OrderBy(m => m.Address.ToString(), StringComparer.Ordinal))
        {
            var region = stats?.Regions.GetValueOrDefault(member.Address);
            int? running = 0;
            var queues =
                member.Address.Equals(cluster.SelfAddress) ? runtime.Pools.Keys
                : runtime.Directory.Peers.TryGetValue(member.Address, out var peer) ? peer.Offer.Queues
                : runtime.Pools.Keys;
            foreach (var queue in queues)
            {
                try
                {
                    var pool = system.ActorSelection(WorkerPool.PathOn(member.Address, queue));
                    running += (await pool.Ask<PoolStatus>(GetPoolStatus.Instance, timeout, cancellationToken).ConfigureAwait(false)).Busy;
                }
                catch (AskTimeoutException)
                {
                    running = null;
                    break;
                }
            }

            members.Add(
                new ClusterMember(
                    member.Address.ToString(),
                    member.Status.ToString(),
                    !state.Unreachable.Contains(member),
                    [.. member.Roles.Order(StringComparer.Ordinal)],
                    member.Address.Equals(cluster.SelfAddress),
                    member.Equals(oldest),
                    region?.Stats.Count,
                    region?.Stats.Values.Sum(),
                    running
                )
            );
        }

        return members;
    }

    /// <summary>
    /// Checks that this node can do its work, each check bounded by <paramref name="timeout"/>: it is an Up member of
    /// its cluster, the journal answers a read, and the scheduler (the cluster singleton, through its proxy) and every
    /// worker pool process messages (they
    /// answer from their mailbox).
    /// </summary>
    public async Task<NodeHealth> CheckHealthAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var checks = new Dictionary<string, string>(StringComparer.Ordinal);
        if (_runtime is not { } runtime || _journal is null || !_client.Task.IsCompletedSuccessfully)
        {
            checks["node"] = _stopped ? "stopped" : "starting";
            return new NodeHealth(false, checks);
        }

        if (_stopped || _stopping.IsCancellationRequested)
        {
            checks["node"] = "stopping";
            return new NodeHealth(false, checks);
        }

        checks["node"] = NodeHealth.Ok;
        var self = Cluster.Get(_system!).SelfMember.Status;
        checks["cluster"] = self is MemberStatus.Up or MemberStatus.WeaklyUp ? NodeHealth.Ok : "member " + self.ToString().ToLowerInvariant();
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        var journalCheck = Check(async () => await runtime.ProbeJournalAsync(bounded.Token).ConfigureAwait(false));
        var actors = new List<(string Name, Task<string> Check)>
        {
            ("scheduler", Check(async () => await runtime.Scheduler.Ask<Pong>(Ping.Instance, timeout, bounded.Token).ConfigureAwait(false))),
        };
        actors.AddRange(runtime.Pools.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => ("pool:" + p.Key, Identify(p.Value))));
        checks["journal"] = await journalCheck.ConfigureAwait(false);
        foreach (var (name, check) in actors)
        {
            checks[name] = await check.ConfigureAwait(false);
        }

        return new NodeHealth(checks.Values.All(v => v == NodeHealth.Ok), checks);

        Task<string> Identify(IActorRef actor) =>
            Check(async () => await actor.Ask<ActorIdentity>(new Identify(null), timeout, bounded.Token).ConfigureAwait(false));

        async Task<string> Check(Func<Task> probe)
        {
            try
            {
                await probe().ConfigureAwait(false);
                return NodeHealth.Ok;
            }
            catch (OperationCanceledException)
            {
                return "no answer in time";
            }
            catch (AskTimeoutException)
            {
                return "no answer in time";
            }
            catch (Exception ex) when (ex is DbException or IOException or TimeoutException or InvalidOperationException or SocketException)
            {
                _log.LogWarning(ex, "Health check failed");
                return "failing (" + ex.GetBaseException().GetType().Name + ")"; // the message may name hosts: it goes to the log only
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None).ConfigureAwait(false);

    private CancellationToken _drainDeadline;

    private Hocon.Config? _config;

    private Outbox.OutboxRelay? _relay;

    private readonly CancellationTokenSource _stopping = new();

    private Task? _gauges;

    /// <summary>The loop measuring this node's clock against the database's, when due times follow it.</summary>
    private Task? _clockSync;

    /// <summary>Feeds the queue-depth and running gauges every <c>jobs.telemetry.gauge-interval</c> (one grouped count query).</summary>
    private static async Task RefreshGaugesAsync(IJobsClient client, JobsMetrics metrics, TimeSpan interval, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            do
            {
                try
                {
                    foreach (var queue in await client.ListQueuesAsync(stop).ConfigureAwait(false))
                    {
                        metrics.SetQueue(queue.Name, queue.Queued, queue.Running);
                    }
                }
                catch (Exception ex) when (ex is JobsException or DbException or TimeoutException or AskTimeoutException)
                {
                    // Storage is not answering: keep the last values; health endpoints report it.
                }
            } while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <summary>
    /// The node's actor system can stop without the host asking: the cluster downed this member (it was unreachable,
    /// frozen, or on the minority side of a partition), and the member then leaves for good. A node without its
    /// actor system does no work, so the host application stops too, with a non-zero exit code, for its supervisor
    /// to start a fresh member (an actor system that left a cluster cannot join it again).
    /// </summary>
    private void StopHostWhenTerminatedByItself(ActorSystem system) =>
        system.WhenTerminated.ContinueWith(
            _ =>
            {
                lock (_gate)
                {
                    if (_stopped)
                    {
                        return;
                    }
                }

                _loggers
                    .CreateLogger<JobsNode>()
                    .LogCritical("The node's actor system stopped by itself (the cluster removed this member); stopping the application");
                if (_services.GetService<IHostApplicationLifetime>() is { } lifetime)
                {
                    Environment.ExitCode = RemovedExitCode;
                    lifetime.StopApplication();
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default
        );

    /// <summary>The process's exit code after the cluster removed its member and the host stopped for it.</summary>
    public const int RemovedExitCode = 3;

    /// <summary>The margin after a member's removal before its shards and singletons start elsewhere, when leases guard them.</summary>
    private const string DownRemovalMarginWithLeases = "1s";

    /// <summary>How soon a shard or the singleton asks again for a lease it could not take (Akka: 5 s).</summary>
    private static readonly TimeSpan LeaseRetryInterval = TimeSpan.FromSeconds(1);

    /// <summary>Shards and the scheduler hold leases in the database: a cluster's shared PostgreSQL, unless turned off.</summary>
    private static bool UsesLeases(JobsSettings settings, PersistenceSettings persistence) =>
        settings.UseLeases && persistence.Backend == SqlDialect.PostgreSql;

    private void RegisterShutdown(ActorSystem system, JobsRuntime runtime)
    {
        var shutdown = CoordinatedShutdown.Get(system);
        shutdown.AddTask(CoordinatedShutdown.PhaseServiceUnbind, "stop-admitting", async () =>
        {
            foreach (var pool in runtime.Pools.Values)
            {
                await pool.Ask<PoolStatus>(StopAdmitting.Instance, TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            }

            return Akka.Done.Instance;
        });
        shutdown.AddTask(CoordinatedShutdown.PhaseServiceRequestsDone, "drain-running-jobs", async () =>
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_drainDeadline);
            try
            {
                while (true)
                {
                    var busy = 0;
                    foreach (var pool in runtime.Pools.Values)
                    {
                        busy += (
                            await pool.Ask<PoolStatus>(GetPoolStatus.Instance, TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false)
                        ).Busy;
                    }

                    if (busy == 0)
                    {
                        return Akka.Done.Instance;
                    }

                    await Task.Delay(50, deadline.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                // Deadline: interrupt what still runs; each attempt is recorded as interrupted and runs again later.
                foreach (var pool in runtime.Pools.Values)
                {
                    pool.Tell(InterruptAttempt.Instance, ActorRefs.NoSender);
                }

                await Task.Delay(
                        runtime.Settings.CancelGrace > TimeSpan.FromSeconds(2) ? TimeSpan.FromSeconds(2) : runtime.Settings.CancelGrace,
                        CancellationToken.None
                    )
                    .ConfigureAwait(false);
                return Akka.Done.Instance;
            }
        });
    }

    /// <summary>
    /// Joins the Akka cluster and waits until this node is Up. Without seed nodes the node joins itself (a one-node
    /// cluster). A node on an embedded SQLite file is a cluster of one: it joins itself only, and a guard downs any
    /// other member that joins it (the file has one owner; another node could not reach its jobs).
    /// </summary>
    private static async Task JoinClusterAsync(ActorSystem system, PersistenceSettings persistence, CancellationToken cancellationToken)
    {
        var cluster = Cluster.Get(system);
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cluster.RegisterOnMemberUp(() => up.TrySetResult());
        var seeds = system.Settings.Config.GetStringList("akka.cluster.seed-nodes");
        if (persistence.Backend != SqlDialect.PostgreSql)
        {
            if (seeds.Count > 0)
            {
                throw new ConfigException(
                    $"akka.cluster.seed-nodes is set, but jobs.persistence.backend = {persistence.Backend.ToString().ToLowerInvariant()} "
                        + "keeps jobs in this process: a cluster of several nodes needs backend = postgresql"
                );
            }

            system.ActorOf(Props.Create(() => new SingleMemberGuard()), "single-member-guard");
        }

        if (seeds.Count == 0)
        {
            cluster.Join(cluster.SelfAddress);
        }

        await up.Task.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The Akka configuration of a node: its <c>akka { }</c> tree as read by our HOCON reader (with the job system's
    /// defaults from reference.conf), the event and message serializers' bindings, and the journal plugin's defaults
    /// beneath.
    /// </summary>
    private static AkkaConfigFile AkkaConfigOf(Hocon.Config config) =>
        config
            .ToAkkaConfig()
            .WithFallback(ConfigurationFactory.ParseString(JobsEventSerializer.Hocon + JobsMessageSerializer.Hocon))
            .WithFallback(SqlPersistence.DefaultConfig);

    /// <summary>Why the actor system's coordinated shutdown ran: the host stopped the node.</summary>
    private sealed class NodeStopping : CoordinatedShutdown.Reason
    {
        public static readonly NodeStopping Instance = new();

        public override int ExitCode => 0;
    }

    private static string SqliteConnectionString(string path) =>
        new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder
        {
            DataSource = path,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();

    /// <summary>Hands out a client before the node started; calls wait for the start.</summary>
    private sealed class DeferredClient(Task<IJobsClient> client) : IJobsClient
    {
        public async Task<ScheduleResult> ScheduleAsync(ScheduleRequest request, CancellationToken cancellationToken = default) =>
            await (await client.WaitAsync(cancellationToken).ConfigureAwait(false)).ScheduleAsync(request, cancellationToken).ConfigureAwait(false);

        public async Task<IReadOnlyList<ScheduleManyItemResult>> ScheduleManyAsync(
            IReadOnlyList<ScheduleRequest> requests,
            CancellationToken cancellationToken = default
        ) =>
            await (await client.WaitAsync(cancellationToken).ConfigureAwait(false))
                .ScheduleManyAsync(requests, cancellationToken)
                .ConfigureAwait(false);

        public async Task<JobInfo> GetAsync(string jobId, CancellationToken cancellationToken = default) =>
            await (await client.WaitAsync(cancellationToken).ConfigureAwait(false)).GetAsync(jobId, cancellationToken).ConfigureAwait(false);

        public async Task CancelAsync(string jobId, CancellationToken cancellationToken = default) =>
            await (await client.WaitAsync(cancellationToken).ConfigureAwait(false)).CancelAsync(jobId, cancellationToken).ConfigureAwait(false);

        public async Task RescheduleAsync(string jobId, DateTimeOffset runAt, CancellationToken cancellationToken = default) =>
            await (await client.WaitAsync(cancellationToken).ConfigureAwait(false))
                .RescheduleAsync(jobId, runAt, cancellationToken)
                .ConfigureAwait(false);

        public async Task DestroyAsync(string jobId, CancellationToken cancellationToken = default) =>
            await (await client.WaitAsync(cancellationToken).ConfigureAwait(false)).DestroyAsync(jobId, cancellationToken).ConfigureAwait(false);

        public async Task<IReadOnlyDictionary<JobStatus, long>> CountAsync(JobQuery query, CancellationToken cancellationToken = default) =>
            await (await client.WaitAsync(cancellationToken).ConfigureAwait(false)).CountAsync(query, cancellationToken).ConfigureAwait(false);

        public async Task<JobPage> ListAsync(JobQuery query, CancellationToken cancellationToken = default) =>
            await (await client.WaitAsync(cancellationToken).ConfigureAwait(false)).ListAsync(query, cancellationToken).ConfigureAwait(false);

        public async Task<RecurringScheduleInfo> SetRecurringAsync(RecurringScheduleRequest request, CancellationToken cancellationToken = default) =>
            await (await client.ConfigureAwait(false)).SetRecurringAsync(request, cancellationToken).ConfigureAwait(false);

        public async Task<RecurringScheduleInfo> GetRecurringAsync(string name, CancellationToken cancellationToken = default) =>
            await (await client.ConfigureAwait(false)).GetRecurringAsync(name, cancellationToken).ConfigureAwait(false);

        public async Task<IReadOnlyList<RecurringScheduleInfo>> ListRecurringAsync(CancellationToken cancellationToken = default) =>
            await (await client.ConfigureAwait(false)).ListRecurringAsync(cancellationToken).ConfigureAwait(false);

        public async Task PauseRecurringAsync(string name, CancellationToken cancellationToken = default) =>
            await (await client.ConfigureAwait(false)).PauseRecurringAsync(name, cancellationToken).ConfigureAwait(false);

        public async Task ResumeRecurringAsync(string name, CancellationToken cancellationToken = default) =>
            await (await client.ConfigureAwait(false)).ResumeRecurringAsync(name, cancellationToken).ConfigureAwait(false);

        public async Task DeleteRecurringAsync(string name, CancellationToken cancellationToken = default) =>
            await (await client.ConfigureAwait(false)).DeleteRecurringAsync(name, cancellationToken).ConfigureAwait(false);

        public async Task RetryAsync(string jobId, CancellationToken cancellationToken = default) =>
            await (await client.ConfigureAwait(false)).RetryAsync(jobId, cancellationToken).ConfigureAwait(false);

        public async Task CancelAsync(string jobId, long ifRevision, CancellationToken cancellationToken = default) =>
            await (await client.ConfigureAwait(false)).CancelAsync(jobId, ifRevision, cancellationToken).ConfigureAwait(false);

        public async Task RescheduleAsync(string jobId, DateTimeOffset runAt, long ifRevision, CancellationToken cancellationToken = default) =>
            await (await client.ConfigureAwait(false)).RescheduleAsync(jobId, runAt, ifRevision, cancellationToken).ConfigureAwait(false);

        public async Task DestroyAsync(string jobId, long ifRevision, CancellationToken cancellationToken = default) =>
            await (await client.ConfigureAwait(false)).DestroyAsync(jobId, ifRevision, cancellationToken).ConfigureAwait(false);

        public async Task<IReadOnlyList<QueueInfo>> ListQueuesAsync(CancellationToken cancellationToken = default) =>
            await (await client.ConfigureAwait(false)).ListQueuesAsync(cancellationToken).ConfigureAwait(false);

        public async Task PauseQueueAsync(string queue, CancellationToken cancellationToken = default) =>
            await (await client.ConfigureAwait(false)).PauseQueueAsync(queue, cancellationToken).ConfigureAwait(false);

        public async Task ResumeQueueAsync(string queue, CancellationToken cancellationToken = default) =>
            await (await client.ConfigureAwait(false)).ResumeQueueAsync(queue, cancellationToken).ConfigureAwait(false);

        public async IAsyncEnumerable<JobTransition> WatchAsync(
            WatchQuery query,
            [EnumeratorCancellation] CancellationToken cancellationToken = default
        )
        {
            var inner = await client.WaitAsync(cancellationToken).ConfigureAwait(false);
            await foreach (var transition in inner.WatchAsync(query, cancellationToken).ConfigureAwait(false))
            {
                yield return transition;
            }
        }
    }
}
