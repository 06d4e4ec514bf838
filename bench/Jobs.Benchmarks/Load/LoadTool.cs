using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Jobs.Actors.Handlers;
using Jobs.Actors.Hosting;
using Jobs.Client;
using Jobs.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Benchmarks.Load;

/// <summary>The payload of the load tool's job: nothing; the handler only records that it ran.</summary>
internal sealed record NoOp;

/// <summary>Counts executions per job and the moment each started, so the tool can check exactly-once and latency.</summary>
internal sealed class RunLog
{
    public ConcurrentDictionary<string, int> Runs { get; } = new();

    public ConcurrentDictionary<string, long> StartedAt { get; } = new();

    public void Started(string id)
    {
        StartedAt.TryAdd(id, Stopwatch.GetTimestamp());
        Runs.AddOrUpdate(id, 1, (_, n) => n + 1);
    }
}

internal sealed class NoOpHandler(RunLog log) : IJobHandler<NoOp>
{
    public Task<JobOutcome> HandleAsync(NoOp payload, JobContext context)
    {
        log.Started(context.JobId);
        return Task.FromResult(JobOutcome.Success());
    }
}

/// <summary>
/// End-to-end workloads against an in-process node (SQLite or PostgreSQL): throughput (N no-op jobs scheduled in
/// batches of 1,000, 16 workers, until the last succeeded), latency (jobs one at a time every 10 ms: Schedule call
/// to handler start) and delayed (jobs due together 3 s ahead: handler start minus due time). One JSON line each.
/// </summary>
internal static class LoadTool
{
    public static async Task RunAsync(string[] args)
    {
        var workloads = args.Length > 0 && args[0] != "all" ? [args[0]] : new[] { "throughput", "latency", "delayed" };
        var backends = args.Length > 1 ? args[1..] : ["sqlite", "postgres"];
        foreach (var backend in backends)
        {
            foreach (var workload in workloads)
            {
                await using var node = await LoadNode.StartAsync(backend);
                var line = workload switch
                {
                    "throughput" => await ThroughputAsync(node, 20_000),
                    "latency" => await LatencyAsync(node, 500),
                    "delayed" => await DelayedAsync(node, 1_000),
                    "priorities" => await PrioritiesAsync(node, Count("JOBS_LOAD_BACKLOG", 100_000)),
                    _ => throw new ArgumentException($"unknown workload '{workload}' (throughput, latency, delayed, all)"),
                };
                Console.WriteLine(line);
            }
        }
    }

    private static async Task<string> ThroughputAsync(LoadNode node, int jobs)
    {
        var ids = Enumerable.Range(0, jobs).Select(i => "t-" + i.ToString(CultureInfo.InvariantCulture)).ToList();
        var started = Stopwatch.GetTimestamp();
        foreach (var chunk in ids.Chunk(1_000))
        {
            var results = await node.Client.ScheduleManyAsync([.. chunk.Select(id => ScheduleRequest.Create("noop", new NoOp()) with { JobId = id })]);
            if (results.FirstOrDefault(r => r.Error is not null) is { } failed)
            {
                throw new InvalidOperationException("scheduling failed: " + failed.Error!.Message);
            }
        }

        var enqueued = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var succeededAtEnqueue = node.Node.Statistics!.Succeeded;
        await WaitForSucceededAsync(node, jobs);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return Json(node, "throughput", jobs, seconds, ("jobs_per_s", jobs / seconds), ("enqueue_s", enqueued), ("succeeded_during_enqueue", succeededAtEnqueue), ("exactly_once", ExactlyOnce(node, ids)));
    }

    private static int Count(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : fallback;

    /// <summary>
    /// A backlog at five priorities: the queue is paused, N jobs are scheduled (their priorities interleaved), then
    /// the queue is resumed and drained. Reports the schedule rate, the drain rate, and how far priority order held:
    /// how many lower-priority jobs started before the last job of a higher priority (at most the workers plus the
    /// prefetch can, as they are already running or started when the higher ones become due).
    /// </summary>
    private static async Task<string> PrioritiesAsync(LoadNode node, int jobs)
    {
        await node.Client.PauseQueueAsync("default");
        var ids = Enumerable.Range(0, jobs).Select(i => "p-" + i.ToString(CultureInfo.InvariantCulture)).ToList();
        var priority = ids.ToDictionary(id => id, id => int.Parse(id.AsSpan(2), CultureInfo.InvariantCulture) % 5);
        var started = Stopwatch.GetTimestamp();
        foreach (var chunk in ids.Chunk(1_000))
        {
            await ScheduleChunkAsync(node, [.. chunk.Select(id => ScheduleRequest.Create("noop", new NoOp()) with { JobId = id, Priority = priority[id] })]);
        }

        var scheduleSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var drainStart = Stopwatch.GetTimestamp();
        await node.Client.ResumeQueueAsync("default");
        await WaitForSucceededAsync(node, jobs);
        var drainSeconds = Stopwatch.GetElapsedTime(drainStart).TotalSeconds;

        var order = ids.OrderBy(id => node.Log.StartedAt[id]).ToList();
        var maxOverlap = 0;
        for (var level = 4; level > 0; level--)
        {
            var last = order.FindLastIndex(id => priority[id] == level);
            maxOverlap = Math.Max(maxOverlap, order.Take(last).Count(id => priority[id] < level));
        }

        return Json(node, "priorities", jobs, scheduleSeconds + drainSeconds,
            ("schedule_jobs_per_s", jobs / scheduleSeconds), ("jobs_per_s", jobs / drainSeconds), ("drain_s", drainSeconds),
            ("priority_overlap_max", maxOverlap), ("priority_order_respected", maxOverlap <= node.Slots), ("exactly_once", ExactlyOnce(node, ids)));
    }

    private static async Task ScheduleChunkAsync(LoadNode node, IReadOnlyList<ScheduleRequest> requests)
    {
        var results = await node.Client.ScheduleManyAsync(requests);
        if (results.FirstOrDefault(r => r.Error is not null) is { } failed)
        {
            throw new InvalidOperationException("scheduling failed: " + failed.Error!.Message);
        }
    }

    private static async Task<string> LatencyAsync(LoadNode node, int jobs)
    {
        var calls = new Dictionary<string, long>();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < jobs; i++)
        {
            var target = TimeSpan.FromMilliseconds(10 * i);
            if (clock.Elapsed < target)
            {
                await Task.Delay(target - clock.Elapsed);
            }

            var id = "l-" + i.ToString(CultureInfo.InvariantCulture);
            calls[id] = Stopwatch.GetTimestamp();
            await node.Client.ScheduleAsync(ScheduleRequest.Create("noop", new NoOp()) with { JobId = id });
        }

        var seconds = clock.Elapsed.TotalSeconds;
        await WaitForSucceededAsync(node, jobs);
        var latencies = calls.Select(c => Stopwatch.GetElapsedTime(c.Value, node.Log.StartedAt[c.Key]).TotalMilliseconds).Order().ToArray();
        return Json(node, "latency", jobs, seconds, ("p50_ms", Percentile(latencies, 0.5)), ("p99_ms", Percentile(latencies, 0.99)), ("exactly_once", ExactlyOnce(node, calls.Keys)));
    }

    private static async Task<string> DelayedAsync(LoadNode node, int jobs)
    {
        var due = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(3);
        var dueTimestamp = Stopwatch.GetTimestamp() + (long)(3 * Stopwatch.Frequency);
        var ids = Enumerable.Range(0, jobs).Select(i => "d-" + i.ToString(CultureInfo.InvariantCulture)).ToList();
        await node.Client.ScheduleManyAsync([.. ids.Select(id => ScheduleRequest.Create("noop", new NoOp()) with { JobId = id, RunAt = due })]);
        await WaitForSucceededAsync(node, jobs);
        var lateness = ids.Select(id => (node.Log.StartedAt[id] - dueTimestamp) * 1000.0 / Stopwatch.Frequency).Order().ToArray();
        return Json(node, "delayed", jobs, 3 + (lateness[^1] / 1000), ("p50_ms", Percentile(lateness, 0.5)), ("p99_ms", Percentile(lateness, 0.99)), ("last_ms", lateness[^1]), ("exactly_once", ExactlyOnce(node, ids)));
    }

    private static async Task WaitForSucceededAsync(LoadNode node, int jobs)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(10);
        while (node.Node.Statistics!.Succeeded < jobs)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"only {node.Node.Statistics.Succeeded} of {jobs} jobs succeeded");
            }

            await Task.Delay(5);
        }
    }

    private static bool ExactlyOnce(LoadNode node, IEnumerable<string> ids) => ids.All(id => node.Log.Runs.TryGetValue(id, out var n) && n == 1);

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    private static string Json(LoadNode node, string workload, int jobs, double seconds, params (string Name, object Value)[] fields)
    {
        var extra = string.Concat(fields.Select(f => $",\"{f.Name}\":{(f.Value is bool b ? (b ? "true" : "false") : string.Format(CultureInfo.InvariantCulture, "{0:0.###}", f.Value))}"));
        return string.Create(CultureInfo.InvariantCulture, $"{{\"system\":\"jobs-{node.Backend}-inprocess\",\"workload\":\"{workload}\",\"jobs\":{jobs},\"workers\":16,\"seconds\":{seconds:0.###}{extra}}}");
    }

    /// <summary>A node in this process on a fresh database.</summary>
    private sealed class LoadNode : IAsyncDisposable
    {
        private readonly ServiceProvider _services;
        private readonly string _directory;
        private readonly PostgresServer? _server;

        private LoadNode(string backend, ServiceProvider services, JobsNode node, RunLog log, string directory, PostgresServer? server)
        {
            Backend = backend;
            _services = services;
            Node = node;
            Log = log;
            _directory = directory;
            _server = server;
        }

        public string Backend { get; }

        public JobsNode Node { get; }

        public IJobsClient Client => Node.Client;

        public RunLog Log { get; }

        /// <summary>Jobs that can be started at once: workers plus prefetch.</summary>
        public int Slots => 16 + Prefetch;

        /// <summary>The prefetch in force: jobs.scheduler.prefetch, or JOBS_LOAD_PREFETCH when set.</summary>
        public static int Prefetch => Count("JOBS_LOAD_PREFETCH", 64);

        public static async Task<LoadNode> StartAsync(string backend)
        {
            var directory = Directory.CreateTempSubdirectory("jobs-load-").FullName;
            PostgresServer? server = null;
            string storage;
            if (backend == "postgres")
            {
                server = await PostgresServer.StartDedicatedAsync();
                storage = $"jobs.persistence {{ backend = postgresql, postgresql.connection-string = \"{await server.CreateDatabaseAsync("load")}\" }}";
            }
            else
            {
                storage = $"jobs.persistence {{ backend = sqlite, sqlite.path = \"{Path.Combine(directory, "jobs.db")}\" }}";
            }

            var log = new RunLog();
            var services = new ServiceCollection();
            services.AddSingleton(log);
            services.AddJobs(jobs => jobs
                .UseConfigFile(null, $"""
                    jobs.queues.default.workers = 16
                    jobs.scheduler.prefetch = {Prefetch}
                    jobs.runtime.log-dead-letters = 0
                    {storage}
                    """)
                .AddHandler<NoOpHandler, NoOp>("noop"));
            var provider = services.BuildServiceProvider();
            var node = provider.GetRequiredService<JobsNode>();
            await node.StartAsync(CancellationToken.None);
            return new LoadNode(backend, provider, node, log, directory, server);
        }

        public async ValueTask DisposeAsync()
        {
            await Node.StopAsync(CancellationToken.None);
            await _services.DisposeAsync();
            SqliteConnection.ClearAllPools();
            Directory.Delete(_directory, recursive: true);
            if (_server is not null)
            {
                await _server.DisposeAsync();
            }
        }
    }
}
