using System.Text.RegularExpressions;
using Jobs.Client;
using Jobs.Hocon;

namespace Jobs.Actors.Hosting;

/// <summary>
/// The job system's settings (<c>jobs.node</c>, <c>jobs.defaults</c>, <c>jobs.queues</c>, <c>jobs.scheduler</c>,
/// <c>jobs.sharding</c>, <c>jobs.limits</c>), parsed once.
/// </summary>
internal sealed partial record JobsSettings
{
    /// <summary>This node's name, shown in attempts. Default: the machine name.</summary>
    public string NodeName { get; init; } = Environment.MachineName;

    /// <summary>The actor system's name (<c>jobs.node.system-name</c>): the same on every node of one cluster.</summary>
    public string SystemName { get; init; } = "jobs";

    /// <summary>Worker count per queue. Default: "default" with one worker per processor.</summary>
    public IReadOnlyDictionary<string, int> Queues { get; init; } = new Dictionary<string, int> { ["default"] = Environment.ProcessorCount };

    /// <summary>Backlog order per queue (<c>jobs.queues.NAME.order</c>). Default: priority first.</summary>
    public IReadOnlyDictionary<string, QueueOrder> QueueOrders { get; init; } = new Dictionary<string, QueueOrder>();

    /// <summary>
    /// Most jobs of a kind running at once in the whole cluster (<c>jobs.kind-limits</c>); kinds not listed are limited
    /// only by their queue.
    /// </summary>
    public IReadOnlyDictionary<string, int> KindLimits { get; init; } = new Dictionary<string, int>();

    /// <summary>Attempts a queue starts ahead of a free worker (<c>jobs.queues.NAME.prefetch</c>, default <c>jobs.scheduler.prefetch</c>).</summary>
    public IReadOnlyDictionary<string, int> QueuePrefetch { get; init; } = new Dictionary<string, int>();

    /// <summary>The default of <see cref="QueuePrefetch"/> (<c>jobs.scheduler.prefetch</c>).</summary>
    public int Prefetch { get; init; } = 64;

    /// <summary>
    /// Most prefetched attempts of a queue whose start is stored before a worker is free for them
    /// (<c>jobs.scheduler.start-ahead</c>), so that a freed worker takes a started attempt without waiting for a commit.
    /// </summary>
    public int StartAhead { get; init; } = 16;

    /// <summary>
    /// Starts are stored ahead only while the queue's handlers take less than this on average
    /// (<c>jobs.scheduler.start-ahead-below</c>).
    /// </summary>
    public TimeSpan StartAheadBelow { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>How many attempts <paramref name="queue"/> holds ready ahead of a free worker.</summary>
    public int PrefetchOf(string queue) => QueuePrefetch.TryGetValue(queue, out var prefetch) ? prefetch : Prefetch;

    /// <summary>The backlog order of <paramref name="queue"/>.</summary>
    public QueueOrder OrderOf(string queue) => QueueOrders.TryGetValue(queue, out var order) ? order : QueueOrder.PriorityFirst;

    /// <summary>Attempts before a job fails; -1 unlimited. Default: 5.</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>Run timeout per attempt. Default: 15 minutes.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Retries after timeouts and lost attempts. Default: 3.</summary>
    public int MaxTimeoutRetries { get; init; } = 3;

    /// <summary>
    /// Least delay before retrying an attempt lost with its member, unless that member is back and the cluster settled.
    /// Default: 10 s.
    /// </summary>
    public TimeSpan LostRetryHold { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>First retry delay. Default: 1 s.</summary>
    public TimeSpan BackoffMin { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Largest retry delay. Default: 10 minutes.</summary>
    public TimeSpan BackoffMax { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Backoff growth per failure. Default: 2.</summary>
    public double BackoffFactor { get; init; } = 2.0;

    /// <summary>Random jitter (0..1) added to backoffs. Default: 0.2.</summary>
    public double BackoffJitter { get; init; } = 0.2;

    /// <summary>After a cancelled or timed-out token, how long a handler may take to stop before the attempt is abandoned. Default: 10 s.</summary>
    public TimeSpan CancelGrace { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The scheduler re-reads the index at least this often. Default: 5 s.</summary>
    public TimeSpan SchedulerMaxSleep { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Whose clock due times and attempt times follow (<c>jobs.scheduler.clock</c>): the shared database's (each member
    /// measures its offset to it), this machine's, or auto (the database's on PostgreSQL with the system clock).
    /// </summary>
    public ClockSource Clock { get; init; } = ClockSource.Auto;

    /// <summary>How often a member measures its clock against the database's again. Default: 30 s.</summary>
    public TimeSpan ClockSyncInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Most due jobs the scheduler wakes per queue per pass. Default: 1000.</summary>
    public int SchedulerBatchSize { get; init; } = 1000;

    /// <summary>Fixed number of shards for the life of a cluster. Default: 64.</summary>
    public int NumberOfShards { get; init; } = 64;

    /// <summary>
    /// Shards and the scheduler singleton hold leases in a shared PostgreSQL database, and entity writes are fenced by
    /// them (<c>jobs.sharding.leases</c>).
    /// </summary>
    public bool UseLeases { get; init; } = true;

    /// <summary>
    /// How long a member on a shared database may fail to reach it before it downs itself, if other members reach it
    /// (<c>jobs.sharding.database-cut-off-after</c>).
    /// </summary>
    public TimeSpan DatabaseCutOffAfter { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>An idle job entity is stopped after this long (its state is in the journal). Default: 30 s.</summary>
    public TimeSpan PassivateAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Idle time before the entity of a finished or far-future job stops (<c>jobs.sharding.passivate-waiting-after</c>).</summary>
    public TimeSpan PassivateWaitingAfter { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Largest payload in bytes of UTF-8 JSON. Default: 1 MiB.</summary>
    public long MaxPayloadBytes { get; init; } = 1024 * 1024;

    /// <summary>Most requests in one batch schedule. Default: 10,000.</summary>
    public int MaxBatch { get; init; } = 10_000;

    /// <summary>How long succeeded jobs are kept (zero: forever). Default: 24 h.</summary>
    public TimeSpan RetainSucceeded { get; init; } = TimeSpan.FromHours(24);

    /// <summary>How long failed jobs are kept (zero: forever).</summary>
    public TimeSpan RetainFailed { get; init; } = TimeSpan.FromDays(7);

    /// <summary>How long cancelled jobs are kept (zero: forever).</summary>
    public TimeSpan RetainCancelled { get; init; } = TimeSpan.FromHours(24);

    /// <summary>How often retention runs.</summary>
    public TimeSpan RetentionInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Most jobs removed per status in one retention round.</summary>
    public int RetentionBatchSize { get; init; } = 1000;

    /// <summary>Recurring occurrences missed at most this long ago still run once; older ones are recorded as missed. Default: 1 h.</summary>
    public TimeSpan CatchUpWindow { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Relay the transactional-enqueue outbox (PostgreSQL only). Default: on.</summary>
    public bool OutboxEnabled { get; init; } = true;

    /// <summary>The outbox is read at least this often even without a commit notification. Default: 1 s.</summary>
    public TimeSpan OutboxPollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Most outbox rows relayed per round. Default: 500.</summary>
    public int OutboxBatchSize { get; init; } = 500;

    /// <summary>Most jobs in one page of List. Default: 1,000.</summary>
    public int MaxPageSize { get; init; } = 1000;

    /// <summary>Transitions buffered per watcher before it is ended as lagging. Default: 10,000.</summary>
    public int WatchBuffer { get; init; } = 10_000;

    /// <summary>How often the queue-depth and running gauges are refreshed from storage (<c>jobs.telemetry.gauge-interval</c>).</summary>
    public TimeSpan GaugeInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Reads and validates the settings; a bad value throws <see cref="ConfigException"/> naming its key.</summary>
    public static JobsSettings FromConfig(Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var jobs = config.GetConfig("jobs");
        var queues = new Dictionary<string, int>(StringComparer.Ordinal);
        var orders = new Dictionary<string, QueueOrder>(StringComparer.Ordinal);
        var prefetch = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (name, _) in jobs.GetConfig("queues").Root)
        {
            if (!QueuePattern().IsMatch(name))
            {
                throw new ConfigException(
                    $"queue name '{name}' must be 1-64 characters of letters, digits, '_', '-' and start with a letter",
                    jobs.GetValue("queues").Origin,
                    "jobs.queues"
                );
            }

            if (jobs.HasPath($"queues.{name}.order"))
            {
                orders[name] = jobs.GetString($"queues.{name}.order") switch
                {
                    "priority-first" => QueueOrder.PriorityFirst,
                    "run-at-first" => QueueOrder.RunAtFirst,
                    var other => throw new ConfigException(
                        $"must be priority-first or run-at-first but is {other}",
                        jobs.GetValue($"queues.{name}.order").Origin,
                        $"jobs.queues.{name}.order"
                    ),
                };
            }

            if (jobs.HasPath($"queues.{name}.prefetch"))
            {
                prefetch[name] = Check(
                    jobs,
                    $"queues.{name}.prefetch",
                    jobs.GetInt($"queues.{name}.prefetch"),
                    v => v is >= 0 and <= 100_000,
                    "0 to 100000"
                );
            }

            var workers = jobs.GetInt($"queues.{name}.workers");
            queues[name] = workers switch
            {
                0 => Environment.ProcessorCount,
                > 0 and <= 10_000 => workers,
                _ => throw new ConfigException(
                    $"must be 0 (one per processor) to 10000 but is {workers}",
                    jobs.GetValue($"queues.{name}.workers").Origin,
                    $"jobs.queues.{name}.workers"
                ),
            };
        }

        if (queues.Count == 0)
        {
            throw new ConfigException("at least one queue must be configured", jobs.GetValue("queues").Origin, "jobs.queues");
        }

        var kindLimits = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (kind, _) in jobs.GetConfig("kind-limits").Root)
        {
            var limit = jobs.GetConfig("kind-limits").GetInt(kind);
            kindLimits[kind] = limit is > 0 and <= 100_000
                ? limit
                : throw new ConfigException($"must be 1 to 100000 but is {limit}", jobs.GetValue("kind-limits").Origin, $"jobs.kind-limits.{kind}");
        }

        var nodeName = jobs.GetString("node.name");
        var settings = new JobsSettings
        {
            NodeName = string.IsNullOrWhiteSpace(nodeName) ? Environment.MachineName : nodeName,
            SystemName = ActorSystemName(jobs),
            Queues = queues,
            QueueOrders = orders,
            QueuePrefetch = prefetch,
            Prefetch = Check(jobs, "scheduler.prefetch", jobs.GetInt("scheduler.prefetch"), v => v is >= 0 and <= 100_000, "0 to 100000"),
            StartAhead = Check(jobs, "scheduler.start-ahead", jobs.GetInt("scheduler.start-ahead"), v => v is >= 0 and <= 100_000, "0 to 100000"),
            StartAheadBelow = Check(
                jobs,
                "scheduler.start-ahead-below",
                jobs.GetDuration("scheduler.start-ahead-below"),
                v => v >= TimeSpan.Zero && v <= TimeSpan.FromMinutes(1),
                "zero to one minute"
            ),
            KindLimits = kindLimits,
            MaxAttempts = Check(
                jobs,
                "defaults.max-attempts",
                jobs.GetInt("defaults.max-attempts"),
                v => v == -1 || v is >= 1 and <= 1_000_000,
                "-1 (unlimited) or 1 to 1000000"
            ),
            Timeout = Check(
                jobs,
                "defaults.timeout",
                jobs.GetDuration("defaults.timeout"),
                v => v > TimeSpan.Zero && v <= TimeSpan.FromDays(7),
                "positive and at most 7 days"
            ),
            MaxTimeoutRetries = Check(
                jobs,
                "defaults.max-timeout-retries",
                jobs.GetInt("defaults.max-timeout-retries"),
                v => v is >= 0 and <= 1000,
                "0 to 1000"
            ),
            BackoffMin = Check(jobs, "defaults.backoff.min", jobs.GetDuration("defaults.backoff.min"), v => v > TimeSpan.Zero, "positive"),
            BackoffMax = Check(jobs, "defaults.backoff.max", jobs.GetDuration("defaults.backoff.max"), v => v > TimeSpan.Zero, "positive"),
            BackoffFactor = Check(jobs, "defaults.backoff.factor", jobs.GetDouble("defaults.backoff.factor"), v => v is >= 1 and <= 100, "1 to 100"),
            BackoffJitter = Check(jobs, "defaults.backoff.jitter", jobs.GetDouble("defaults.backoff.jitter"), v => v is >= 0 and <= 1, "0 to 1"),
            LostRetryHold = Check(
                jobs,
                "defaults.lost-retry-hold",
                jobs.GetDuration("defaults.lost-retry-hold"),
                v => v >= TimeSpan.Zero && v <= TimeSpan.FromHours(1),
                "zero to one hour"
            ),
            CancelGrace = Check(jobs, "defaults.cancel-grace", jobs.GetDuration("defaults.cancel-grace"), v => v >= TimeSpan.Zero, "zero or more"),
            SchedulerMaxSleep = Check(jobs, "scheduler.max-sleep", jobs.GetDuration("scheduler.max-sleep"), v => v > TimeSpan.Zero, "positive"),
            Clock = jobs.GetString("scheduler.clock") switch
            {
                "auto" => ClockSource.Auto,
                "database" => ClockSource.Database,
                "local" => ClockSource.Local,
                var other => throw new ConfigException(
                    $"must be auto, database or local but is {other}",
                    jobs.GetValue("scheduler.clock").Origin,
                    "jobs.scheduler.clock"
                ),
            },
            ClockSyncInterval = Check(
                jobs,
                "scheduler.clock-sync-interval",
                jobs.GetDuration("scheduler.clock-sync-interval"),
                v => v >= TimeSpan.FromSeconds(1),
                "at least 1s"
            ),
            CatchUpWindow = Check(
                jobs,
                "scheduler.catch-up-window",
                jobs.GetDuration("scheduler.catch-up-window"),
                v => v >= TimeSpan.Zero && v <= TimeSpan.FromDays(366),
                "0 to 366 days"
            ),
            OutboxEnabled = jobs.GetBoolean("outbox.enabled"),
            OutboxPollInterval = Check(jobs, "outbox.poll-interval", jobs.GetDuration("outbox.poll-interval"), v => v > TimeSpan.Zero, "positive"),
            OutboxBatchSize = Check(jobs, "outbox.batch-size", jobs.GetInt("outbox.batch-size"), v => v is > 0 and <= 100_000, "1 to 100000"),
            SchedulerBatchSize = Check(jobs, "scheduler.batch-size", jobs.GetInt("scheduler.batch-size"), v => v > 0, "positive"),
            NumberOfShards = Check(
                jobs,
                "sharding.number-of-shards",
                jobs.GetInt("sharding.number-of-shards"),
                v => v is > 0 and <= 100_000,
                "1 to 100000"
            ),
            UseLeases = jobs.GetBoolean("sharding.leases"),
            DatabaseCutOffAfter = Check(
                jobs,
                "sharding.database-cut-off-after",
                jobs.GetDuration("sharding.database-cut-off-after"),
                v => v >= TimeSpan.FromSeconds(2),
                "at least 2s"
            ),
            PassivateAfter = Check(
                jobs,
                "sharding.passivate-after",
                jobs.GetDuration("sharding.passivate-after"),
                v => v > TimeSpan.Zero,
                "positive"
            ),
            PassivateWaitingAfter = Check(
                jobs,
                "sharding.passivate-waiting-after",
                jobs.GetDuration("sharding.passivate-waiting-after"),
                v => v > TimeSpan.Zero,
                "positive"
            ),
            MaxPayloadBytes = Check(jobs, "limits.max-payload", jobs.GetBytes("limits.max-payload"), v => v > 0, "positive"),
            MaxBatch = Check(jobs, "limits.max-batch", jobs.GetInt("limits.max-batch"), v => v > 0, "positive"),
            RetainSucceeded = Check(jobs, "retention.succeeded", jobs.GetDuration("retention.succeeded"), v => v >= TimeSpan.Zero, "0 or more"),
            RetainFailed = Check(jobs, "retention.failed", jobs.GetDuration("retention.failed"), v => v >= TimeSpan.Zero, "0 or more"),
            RetainCancelled = Check(jobs, "retention.cancelled", jobs.GetDuration("retention.cancelled"), v => v >= TimeSpan.Zero, "0 or more"),
            RetentionInterval = Check(jobs, "retention.interval", jobs.GetDuration("retention.interval"), v => v > TimeSpan.Zero, "positive"),
            RetentionBatchSize = Check(
                jobs,
                "retention.batch-size",
                jobs.GetInt("retention.batch-size"),
                v => v is > 0 and <= 100_000,
                "1 to 100000"
            ),
            MaxPageSize = Check(jobs, "limits.max-page-size", jobs.GetInt("limits.max-page-size"), v => v is > 0 and <= 100_000, "1 to 100000"),
            WatchBuffer = Check(jobs, "limits.watch-buffer", jobs.GetInt("limits.watch-buffer"), v => v > 0, "positive"),
            GaugeInterval = Check(
                jobs,
                "telemetry.gauge-interval",
                jobs.GetDuration("telemetry.gauge-interval"),
                v => v >= TimeSpan.FromMilliseconds(10),
                "at least 10ms"
            ),
        };
        if (settings.BackoffMax < settings.BackoffMin)
        {
            throw new ConfigException(
                "must be at least jobs.defaults.backoff.min",
                jobs.GetValue("defaults.backoff.max").Origin,
                "jobs.defaults.backoff.max"
            );
        }

        return settings;
    }

    /// <summary>True when <paramref name="name"/> is a valid queue name.</summary>
    public static bool IsValidQueueName(string name) => QueuePattern().IsMatch(name);

    private static string ActorSystemName(Config jobs)
    {
        var name = jobs.GetString("node.system-name");
        return name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_') && char.IsAsciiLetterOrDigit(name[0])
            ? name
            : throw new ConfigException(
                $"must be letters, digits, '-' or '_' (starting with a letter or digit) but is '{name}'",
                jobs.GetValue("node.system-name").Origin,
                "jobs.node.system-name"
            );
    }

    private static T Check<T>(Config jobs, string key, T value, Func<T, bool> valid, string rule) =>
        valid(value) ? value : throw new ConfigException($"must be {rule} but is {value}", jobs.GetValue(key).Origin, "jobs." + key);

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_-]{0,63}$")]
    private static partial Regex QueuePattern();
}

/// <summary>Whose clock a node's due times follow (<c>jobs.scheduler.clock</c>).</summary>
public enum ClockSource
{
    /// <summary>The database's on PostgreSQL when the node runs on the system clock; this machine's otherwise.</summary>
    Auto,

    /// <summary>The shared database's: the node measures its offset to it and corrects its own clock by it.</summary>
    Database,

    /// <summary>This machine's own clock.</summary>
    Local,
}
