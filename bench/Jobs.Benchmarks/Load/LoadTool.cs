using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Jobs.Client;

namespace Jobs.Benchmarks.Load;

/// <summary>
/// End-to-end workloads against a job node, one JSON line each (<c>load [workload|all] [target ...]</c>):
/// <list type="bullet">
/// <item>throughput: N = 20,000 no-op jobs scheduled in batches of 1,000, 16 workers, from the start of enqueueing
/// until the node reports the last one succeeded;</item>
/// <item>latency: 500 jobs one at a time every 10 ms on a fixed schedule, Schedule call start to handler start (and the
/// call's own round trip, reply_p50_ms / reply_p99_ms);</item>
/// <item>delayed: 1,000 jobs all due 3 s ahead, handler start minus due time;</item>
/// <item>priorities: a backlog of 100,000 jobs at five priorities in a paused queue, then drained
/// (<c>JOBS_LOAD_BACKLOG</c> sets N);</item>
/// <item>future: 1,000,000 jobs scheduled for later (<c>JOBS_LOAD_FUTURE</c> sets N): schedule rate, the node's
/// resident memory once they are in, then the drain rate when they are due (not in <c>all</c>).</item>
/// </list>
/// <item>recovery (cluster targets only): 2,000 jobs of 100-300 ms; once the oldest member (the scheduler's, holding
/// shards) has run jobs for 2 s it is killed with SIGKILL: the time until every attempt it was running has started
/// again elsewhere, how many ran twice, and that every job still succeeded (not in <c>all</c>).</item>
/// Targets: <c>sqlite</c> and <c>postgres</c> (a node in this process), <c>http</c> (the stock node, Jobs.Host, in
/// a separate process on PostgreSQL, driven over its HTTP API), <c>http-sqlite</c>, and <c>cluster</c> (three stock
/// nodes on one PostgreSQL, each with the same workers, driven through the last one's HTTP API; <c>clusterN</c> for
/// N nodes). Every job's handler runs
/// exactly once or the line says so (<c>exactly_once</c>). <c>chart FILE.jsonl OUT.svg</c> draws the results.
/// <c>JOBS_LOAD_CONFIG</c> adds HOCON lines to the node's configuration (experiments with one setting changed);
/// <c>JOBS_LOAD_REPEAT</c> runs throughput, latency or delayed that many times on one node (a warm process and, for a
/// cluster, shards already allocated), a line per run with its number.
/// </summary>
internal static class LoadTool
{
    /// <summary>Workers of the default queue in every target.</summary>
    public const int Workers = 16;

    public static async Task RunAsync(string[] args)
    {
        if (args.Length > 0 && args[0] == "chart")
        {
            LoadChart.Write(args[1], args[2]);
            return;
        }

        var workloads = args.Length > 0 && args[0] != "all" ? [args[0]] : new[] { "throughput", "latency", "delayed", "priorities" };
        var targets = args.Length > 1 ? args[1..] : ["sqlite", "postgres", "http"];
        foreach (var target in targets)
        {
            foreach (var workload in workloads)
            {
                var repeat = Count("JOBS_LOAD_REPEAT", 1);
                if (repeat > 1 && workload is not ("throughput" or "latency" or "delayed"))
                {
                    throw new ArgumentException($"JOBS_LOAD_REPEAT applies to throughput, latency and delayed, not '{workload}'");
                }

                await using var node = await StartAsync(target);
                DoneIds.Clear();
                for (s_run = 1; s_run <= repeat; s_run++)
                {
                    s_succeededBefore = await node.SucceededAsync();
                    var line = await RunWorkloadAsync(workload, node);
                    Console.WriteLine(repeat > 1 ? line[..^1] + $",\"run\":{s_run}}}" : line);
                }
            }
        }
    }

    /// <summary>This workload's run on its node (1 unless <c>JOBS_LOAD_REPEAT</c> runs it again on the same, warm node).</summary>
    private static int s_run = 1;

    /// <summary>The jobs the node had run before this run began.</summary>
    private static long s_succeededBefore;

    /// <summary>Every job this node was given in the runs so far (its counters count them all).</summary>
    private static readonly List<string> DoneIds = [];

    private static async Task<string> RunWorkloadAsync(string workload, ILoadTarget node) =>
        workload switch
        {
            "throughput" => await ThroughputAsync(node, 20_000),
            "latency" => await LatencyAsync(node, 500),
            "delayed" => await DelayedAsync(node, 1_000),
            "priorities" => await PrioritiesAsync(node, Count("JOBS_LOAD_BACKLOG", 100_000)),
            "future" => await FutureAsync(node, Count("JOBS_LOAD_FUTURE", 1_000_000)),
            "recovery" => await RecoveryAsync(
                node as ClusterTarget ?? throw new ArgumentException("the recovery workload needs a cluster target"),
                2_000
            ),
            _ => throw new ArgumentException($"unknown workload '{workload}' (throughput, latency, delayed, priorities, future, recovery, all)"),
        };

    private static async Task<ILoadTarget> StartAsync(string target) =>
        target switch
        {
            "sqlite" or "postgres" => await InProcessTarget.StartAsync(target, Prefetch),
            "http" => await RemoteTarget.StartAsync("postgres", Prefetch),
            "http-sqlite" => await RemoteTarget.StartAsync("sqlite", Prefetch),
            "cluster" => await ClusterTarget.StartAsync(3, Prefetch),
            _ when target.StartsWith("cluster", StringComparison.Ordinal)
                    && int.TryParse(target.AsSpan(7), NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                    && n is >= 1 and <= 9 => await ClusterTarget.StartAsync(n, Prefetch),
            _ => throw new ArgumentException($"unknown target '{target}' (sqlite, postgres, http, http-sqlite, cluster, clusterN)"),
        };

    /// <summary>The prefetch in force: jobs.scheduler.prefetch's default, or JOBS_LOAD_PREFETCH when set.</summary>
    private static int Prefetch => Count("JOBS_LOAD_PREFETCH", 64);

    private static int Count(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : fallback;

    private static ScheduleRequest NoOp(string id) =>
        new()
        {
            Kind = "noop",
            Payload = JsonDocument.Parse("{}").RootElement,
            JobId = id,
        };

    private static async Task<string> ThroughputAsync(ILoadTarget node, int jobs)
    {
        var ids = Ids("t-", jobs);
        var started = Stopwatch.GetTimestamp();
        foreach (var chunk in ids.Chunk(1_000))
        {
            await ScheduleChunkAsync(node, [.. chunk.Select(NoOp)]);
        }

        var enqueued = Stopwatch.GetElapsedTime(started).TotalSeconds;
        await WaitForSucceededAsync(node, jobs);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return Json(
            node,
            "throughput",
            jobs,
            seconds,
            ("jobs_per_s", jobs / seconds),
            ("enqueue_s", enqueued),
            ("exactly_once", await ExactlyOnceAsync(node, ids))
        );
    }

    private static async Task<string> LatencyAsync(ILoadTarget node, int jobs)
    {
        var calls = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var replies = new List<double>(jobs);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < jobs; i++)
        {
            var target = TimeSpan.FromMilliseconds(10 * i);
            if (clock.Elapsed < target)
            {
                await Task.Delay(target - clock.Elapsed);
            }

            var id = RunPrefix("l-") + i.ToString(CultureInfo.InvariantCulture);
            calls[id] = DateTimeOffset.UtcNow;
            var call = Stopwatch.GetTimestamp();
            await node.Client.ScheduleAsync(NoOp(id));
            replies.Add(Stopwatch.GetElapsedTime(call).TotalMilliseconds);
        }

        var seconds = clock.Elapsed.TotalSeconds;
        await WaitForSucceededAsync(node, jobs);
        var starts = await node.HandlerStartsAsync([.. calls.Keys]);
        var latencies = calls.Select(c => (starts[c.Key] - c.Value).TotalMilliseconds).Order().ToArray();
        // The Schedule call's own round trip (its write is stored when it returns): the rest is the way to the handler.
        var replied = replies.Order().ToArray();
        return Json(
            node,
            "latency",
            jobs,
            seconds,
            ("p50_ms", Percentile(latencies, 0.5)),
            ("p99_ms", Percentile(latencies, 0.99)),
            ("reply_p50_ms", Percentile(replied, 0.5)),
            ("reply_p99_ms", Percentile(replied, 0.99)),
            ("exactly_once", await ExactlyOnceAsync(node, [.. calls.Keys]))
        );
    }

    private static async Task<string> DelayedAsync(ILoadTarget node, int jobs)
    {
        var due = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(3);
        var ids = Ids("d-", jobs);
        await ScheduleChunkAsync(node, [.. ids.Select(id => NoOp(id) with { RunAt = due })]);
        await WaitForSucceededAsync(node, jobs);
        var starts = await node.HandlerStartsAsync(ids);
        var lateness = ids.Select(id => (starts[id] - due).TotalMilliseconds).Order().ToArray();
        return Json(
            node,
            "delayed",
            jobs,
            3 + (lateness[^1] / 1000),
            ("p50_ms", Percentile(lateness, 0.5)),
            ("p99_ms", Percentile(lateness, 0.99)),
            ("first_ms", lateness[0]),
            ("last_ms", lateness[^1]),
            ("exactly_once", await ExactlyOnceAsync(node, ids))
        );
    }

    /// <summary>
    /// A backlog at five priorities: the queue is paused, N jobs are scheduled (their priorities interleaved), then
    /// the queue is resumed and drained. Reports the schedule rate, the drain rate, and how far priority order held:
    /// how many lower-priority jobs started before the last job of a higher priority (at most the workers plus the
    /// prefetch can, as they are already running or started when the higher ones become due).
    /// </summary>
    private static async Task<string> PrioritiesAsync(ILoadTarget node, int jobs)
    {
        await node.Client.PauseQueueAsync("default");
        var ids = Ids("p-", jobs);
        var priority = ids.ToDictionary(id => id, id => int.Parse(id.AsSpan(2), CultureInfo.InvariantCulture) % 5);
        var started = Stopwatch.GetTimestamp();
        foreach (var chunk in ids.Chunk(1_000))
        {
            await ScheduleChunkAsync(node, [.. chunk.Select(id => NoOp(id) with { Priority = priority[id] })]);
        }

        var scheduleSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var drainStart = Stopwatch.GetTimestamp();
        await node.Client.ResumeQueueAsync("default");
        await WaitForSucceededAsync(node, jobs);
        var drainSeconds = Stopwatch.GetElapsedTime(drainStart).TotalSeconds;

        var starts = await node.HandlerStartsAsync(ids);
        var order = ids.OrderBy(id => starts[id]).ToList();
        var maxOverlap = 0;
        for (var level = 4; level > 0; level--)
        {
            var last = order.FindLastIndex(id => priority[id] == level);
            maxOverlap = Math.Max(maxOverlap, order.Take(last).Count(id => priority[id] < level));
        }

        return Json(
            node,
            "priorities",
            jobs,
            scheduleSeconds + drainSeconds,
            ("schedule_jobs_per_s", jobs / scheduleSeconds),
            ("jobs_per_s", jobs / drainSeconds),
            ("drain_s", drainSeconds),
            ("priority_overlap_max", maxOverlap),
            ("priority_order_respected", maxOverlap <= Workers + Prefetch),
            ("exactly_once", await ExactlyOnceAsync(node, ids))
        );
    }

    /// <summary>
    /// N jobs scheduled for later, in batches of 1,000 into a paused queue, all due <c>JOBS_LOAD_FUTURE_DELAY</c>
    /// seconds (default 150) after the first batch: the schedule rate, the node's resident memory with all of them
    /// waiting, then the drain rate once they are due and the queue resumes.
    /// </summary>
    private static async Task<string> FutureAsync(ILoadTarget node, int jobs)
    {
        await node.Client.PauseQueueAsync("default");
        var due = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(Count("JOBS_LOAD_FUTURE_DELAY", 150));
        var started = Stopwatch.GetTimestamp();
        for (var start = 0; start < jobs; start += 1_000)
        {
            var chunk = Enumerable
                .Range(start, Math.Min(1_000, jobs - start))
                .Select(i => NoOp("f-" + i.ToString(CultureInfo.InvariantCulture)) with { RunAt = due })
                .ToList();
            await ScheduleChunkAsync(node, chunk);
        }

        var scheduleSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        await Task.Delay(TimeSpan.FromSeconds(5)); // the entities of waiting jobs passivate (jobs wait as rows)
        var rss = await node.ResidentBytesAsync();
        var wait = due - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }

        var drainStart = Stopwatch.GetTimestamp();
        await node.Client.ResumeQueueAsync("default");
        await WaitForSucceededAsync(node, jobs, TimeSpan.FromMinutes(60));
        var drainSeconds = Stopwatch.GetElapsedTime(drainStart).TotalSeconds;
        return Json(
            node,
            "future",
            jobs,
            scheduleSeconds + drainSeconds,
            ("schedule_jobs_per_s", jobs / scheduleSeconds),
            ("rss_mb_waiting", rss / (1024.0 * 1024.0)),
            ("jobs_per_s", jobs / drainSeconds),
            ("drain_s", drainSeconds),
            ("exactly_once", await ExactlyOnceAsync(node, Ids("f-", jobs)))
        );
    }

    /// <summary>
    /// Jobs of 100-300 ms on every member; the oldest member is killed once the cluster has run jobs for 2 s. Each
    /// job that had an attempt running there has that attempt recorded lost and runs again: recovered_s is the time
    /// from the kill to the last of those second starts.
    /// </summary>
    private static async Task<string> RecoveryAsync(ClusterTarget cluster, int jobs)
    {
        var ids = Ids("r-", jobs);
        var started = Stopwatch.GetTimestamp();
        foreach (var chunk in ids.Chunk(500))
        {
            await ScheduleChunkAsync(
                cluster,
                [
                    .. chunk.Select(id => new ScheduleRequest
                    {
                        Kind = "sleep",
                        JobId = id,
                        Payload = JsonDocument
                            .Parse($"{{\"milliseconds\":{100 + (int.Parse(id.AsSpan(2), CultureInfo.InvariantCulture) % 3 * 100)}}}")
                            .RootElement,
                    }),
                ]
            );
        }

        await Task.Delay(TimeSpan.FromSeconds(2));
        var killedAt = DateTimeOffset.UtcNow;
        await cluster.KillAsync(0);
        await WaitForSucceededAsync(cluster, jobs, TimeSpan.FromMinutes(5));
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;

        var infos = new ConcurrentBag<JobInfo>();
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (id, ct) =>
            infos.Add(await cluster.Client.GetAsync(id, ct))
        );
        var lost = infos.Where(i => i.Attempts.Any(a => a.Outcome == AttemptOutcome.Lost)).ToList();
        var recovered =
            lost.Count == 0
                ? 0
                : lost.Max(i =>
                    (
                        i.Attempts.First(a =>
                            a.Outcome != AttemptOutcome.Lost && a.Number > i.Attempts.First(l => l.Outcome == AttemptOutcome.Lost).Number
                        ).StartedAt - killedAt
                    ).TotalSeconds
                );
        return Json(
            cluster,
            "recovery",
            jobs,
            seconds,
            ("lost_attempts", lost.Count),
            ("recovered_s", recovered),
            ("ran_twice", infos.Count(i => i.Attempts.Count > 1)),
            ("all_succeeded", infos.Count == jobs && infos.All(i => i.Status == JobStatus.Succeeded))
        );
    }

    private static List<string> Ids(string prefix, int count) =>
        [.. Enumerable.Range(0, count).Select(i => RunPrefix(prefix) + i.ToString(CultureInfo.InvariantCulture))];

    /// <summary>A job id prefix unique to this run on the node (the first run's ids are as they always were).</summary>
    private static string RunPrefix(string prefix) => s_run == 1 ? prefix : prefix + s_run.ToString(CultureInfo.InvariantCulture) + "-";

    /// <summary>Whether every job given to the node so far, <paramref name="ids"/> included, ran exactly once.</summary>
    private static Task<bool> ExactlyOnceAsync(ILoadTarget node, IReadOnlyCollection<string> ids)
    {
        DoneIds.AddRange(ids);
        return node.ExactlyOnceAsync(DoneIds);
    }

    private static async Task ScheduleChunkAsync(ILoadTarget node, IReadOnlyList<ScheduleRequest> requests)
    {
        var results = await node.Client.ScheduleManyAsync(requests);
        if (results.FirstOrDefault(r => r.Error is not null) is { } failed)
        {
            throw new InvalidOperationException("scheduling failed: " + failed.Error!.Message);
        }
    }

    private static async Task WaitForSucceededAsync(ILoadTarget node, int jobs, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(10));
        long succeeded;
        while ((succeeded = await node.SucceededAsync() - s_succeededBefore) < jobs)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"only {succeeded} of {jobs} jobs succeeded");
            }

            await Task.Delay(node.PollInterval);
        }
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    private static string Json(ILoadTarget node, string workload, int jobs, double seconds, params (string Name, object Value)[] fields)
    {
        var extra = string.Concat(
            fields.Select(f =>
                $",\"{f.Name}\":{(f.Value is bool b ? (b ? "true" : "false") : string.Format(CultureInfo.InvariantCulture, "{0:0.###}", f.Value))}"
            )
        );
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{{\"system\":\"{node.System}\",\"workload\":\"{workload}\",\"jobs\":{jobs},\"workers\":{Workers},\"seconds\":{seconds:0.###}{extra}}}"
        );
    }
}
