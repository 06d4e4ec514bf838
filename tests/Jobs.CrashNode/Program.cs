// A job node in its own process, for the kill -9 test (tests/Jobs.Actors.Tests/StaleRecoveryTests.cs).
//   schedule <db> <log>: schedules four jobs that block on their first attempt (every worker), then quick jobs one
//                        after another, which wait (the first ones held ahead of a worker, in prefetch),
//                        printing "ack <id>" once each Schedule returned (durable); runs until killed.
//   recover <db> <log>:  reads job ids from stdin (until an empty line), waits until each has finished, prints one
//                        "job <id> <status> <outcome,outcome,...>" line per job, then "done", and stops cleanly.
//   member <postgres> <log> <port> <seed-ports> <name> <workers>: a member of a cluster on PostgreSQL (loopback, the
// seeds at <seed-ports>, comma-separated) running "work" jobs on <workers> workers (each sleeps its payload's
// milliseconds); prints "up" once
//                        started and runs until killed or until its standard input closes or it gets SIGTERM (then
//                        stops cleanly, running handlers given 10 s), or
//                        until the cluster removes it (prints "terminated", exit code 3). It also runs
//                        "member-work" jobs (the same work, a kind only the member processes run) and "poison"
//                        jobs, which kill it (Environment.FailFast) on every attempt.
// Every handler start is appended to <log> as "start <unix-ms> <id> <attempt>" (a member adds its name) before the
// handler runs, and a work job's end as "end <unix-ms> <id> <attempt>".
using System.Globalization;
using Jobs.Actors.Handlers;
using Jobs.Actors.Hosting;
using Jobs.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

if (args.Length == 7 && args[0] == "member")
{
    return await Member.RunAsync(
        args[1],
        args[2],
        int.Parse(args[3], CultureInfo.InvariantCulture),
        [.. args[4].Split(',').Select(p => int.Parse(p, CultureInfo.InvariantCulture))],
        args[5],
        int.Parse(args[6], CultureInfo.InvariantCulture)
    );
}

if (args.Length != 3 || args[0] is not ("schedule" or "recover"))
{
    Console.Error.WriteLine(
        "usage: Jobs.CrashNode schedule|recover <sqlite-path> <log-path> | member <postgres> <log> <port> <seed-ports> <name> <workers>"
    );
    return 2;
}

var (mode, db, logPath) = (args[0], args[1], args[2]);
var services = new ServiceCollection();
services.AddSingleton(new StartLog(logPath, Blocking: mode == "schedule"));
services.AddJobs(jobs =>
    jobs.UseConfigFile(
            null,
            $$"""
            jobs.node.name = {{mode}}-node
            jobs.queues.default.workers = 4
            jobs.defaults { max-attempts = 5, max-timeout-retries = 2, backoff { min = 100ms, max = 1s, jitter = 0 } }
            jobs.scheduler.max-sleep = 200ms
            jobs.persistence { backend = sqlite, sqlite.path = "{{db.Replace("\\", "\\\\", StringComparison.Ordinal)}}" }
            """
        )
        .AddHandler<MarkHandler, MarkPayload>("mark")
);
await using var provider = services.BuildServiceProvider();
var node = provider.GetRequiredService<JobsNode>();
await node.StartAsync(CancellationToken.None);
var client = node.Client;

if (mode == "schedule")
{
    foreach (var id in new[] { "block-1", "block-2", "block-3", "block-4" })
    {
        await client.ScheduleAsync(ScheduleRequest.Create("mark", new MarkPayload()) with { JobId = id });
        Console.WriteLine($"ack {id}");
    }

    for (var i = 0; ; i++)
    {
        var id = "quick-" + i.ToString(CultureInfo.InvariantCulture);
        await client.ScheduleAsync(ScheduleRequest.Create("mark", new MarkPayload()) with { JobId = id });
        Console.WriteLine($"ack {id}");
    }
}

var ids = new List<string>();
while (Console.ReadLine() is { Length: > 0 } line)
{
    ids.Add(line);
}

var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
foreach (var id in ids)
{
    JobInfo info;
    while (
        (info = await client.GetAsync(id)).Status is not (JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled)
        && DateTime.UtcNow < deadline
    )
    {
        await Task.Delay(50);
    }

    Console.WriteLine($"job {id} {info.Status} {string.Join(',', info.Attempts.Select(a => a.Outcome))}");
}

Console.WriteLine("done");
await node.StopAsync(CancellationToken.None);
return 0;

/// <summary>The payload of the test kind (empty: behaviour depends on the job id and the process).</summary>
internal sealed record MarkPayload;

/// <summary>
/// Appends every handler start and end to the log as "start|end unix-ms id attempt" (and the member's name, when it
/// has one): the fault suite's history. Flushed per line, so a SIGKILL loses nothing written before it.
/// </summary>
public sealed record StartLog(string Path, bool Blocking, string? Name = null)
{
    private readonly Lock _gate = new();

    /// <summary>Records one start (before the handler's work).</summary>
    public void Started(string jobId, int attempt) => Append("start", jobId, attempt);

    /// <summary>Records one end (the handler's work is done; it returns next).</summary>
    public void Ended(string jobId, int attempt) => Append("end", jobId, attempt);

    private void Append(string what, string jobId, int attempt)
    {
        lock (_gate)
        {
            File.AppendAllText(
                Path,
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"{what} {DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()} {jobId} {attempt}{(Name is null ? string.Empty : " " + Name)}\n"
                )
            );
        }
    }
}

/// <summary>Logs its start; jobs named block-* never finish in the scheduling process (they run at the kill).</summary>
internal sealed class MarkHandler(StartLog log) : IJobHandler<MarkPayload>
{
    public async Task<JobOutcome> HandleAsync(MarkPayload payload, JobContext context)
    {
        log.Started(context.JobId, context.Attempt);
        if (log.Blocking && context.JobId.StartsWith("block-", StringComparison.Ordinal))
        {
            await Task.Delay(Timeout.Infinite, CancellationToken.None);
        }

        return JobOutcome.Success();
    }
}

/// <summary>A cluster member in its own process (the cluster crash test kills it with SIGKILL).</summary>
internal static class Member
{
    public static async Task<int> RunAsync(string postgres, string logPath, int port, int[] seedPorts, string name, int workers)
    {
        var services = new ServiceCollection();
        services.AddSingleton(new StartLog(logPath, Blocking: false, name));

        // Warnings and errors (the node's and Akka's) to standard output, which the fault suite keeps as <name>.out.
        services.AddLogging(b =>
            b.AddSimpleConsole(o =>
                {
                    o.SingleLine = true;
                    o.TimestampFormat = "HH:mm:ss.fff ";
                })
                .SetMinimumLevel(LogLevel.Warning)
        );
        services.AddJobs(jobs =>
            jobs.UseConfigFile(
                    null,
                    $$"""
                    jobs.node.name = {{name}}
                    jobs.queues.default.workers = {{workers}}
                    jobs.defaults { max-attempts = 5, timeout = 1m, backoff { min = 100ms, max = 1s, jitter = 0 } }
                    jobs.scheduler.max-sleep = 1s
                    jobs.persistence { backend = postgresql, postgresql.connection-string = "{{postgres}}" }
                    akka.loglevel = WARNING
                    akka.remote.dot-netty.tcp.port = {{port}}
                    akka.cluster.seed-nodes = [{{string.Join(", ", seedPorts.Select(p => $"\"akka.tcp://jobs@127.0.0.1:{p}\""))}}]
                    {{Environment.GetEnvironmentVariable("JOBS_FAULTS_CONFIG")}}
                    """
                )
                .AddHandler<WorkHandler, WorkPayload>("work")
                .AddHandler<WorkHandler, WorkPayload>("member-work")
                .AddHandler<PoisonHandler, WorkPayload>("poison", new JobKindOptions { MaxTimeoutRetries = PoisonHandler.TimeoutRetries })
        );
        await using var provider = services.BuildServiceProvider();
        var node = provider.GetRequiredService<JobsNode>();
        await node.StartAsync(CancellationToken.None);
        Console.WriteLine("up");
        var input = Task.Run(async () =>
        {
            while (await Console.In.ReadLineAsync() is not null)
            {
                // Runs until its standard input closes (or it is killed).
            }
        });

        // SIGTERM stops it as a host would: running handlers get the grace period, then are interrupted.
        var terminate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGTERM,
            context =>
            {
                context.Cancel = true;
                terminate.TrySetResult();
            }
        );
        var ended = await Task.WhenAny(input, terminate.Task, node.System!.WhenTerminated);
        if (ended != input && ended != terminate.Task)
        {
            // The cluster removed this member (downed, say after it was frozen): its actor system stopped itself.
            Console.WriteLine("terminated");
            return 3;
        }

        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await node.StopAsync(grace.Token);
        Console.WriteLine("stopped");
        return 0;
    }
}

/// <summary>
/// A poison job: logs its start, then kills its process (<see cref="Environment.FailFast(string)"/>) on every
/// attempt. Only the member processes run the kind, so it never takes the test host down.
/// </summary>
public sealed class PoisonHandler(StartLog log) : IJobHandler<WorkPayload>
{
    /// <summary>Retries after attempts lost with their member: two attempts in all, each killing a member.</summary>
    public const int TimeoutRetries = 1;

    /// <inheritdoc />
    public Task<JobOutcome> HandleAsync(WorkPayload payload, JobContext context)
    {
        log.Started(context.JobId, context.Attempt);
        Environment.FailFast($"poison job {context.JobId}, attempt {context.Attempt}");
        return Task.FromResult(JobOutcome.Success());
    }
}

/// <summary>The payload of the cluster test's jobs: how long the handler works.</summary>
public sealed record WorkPayload(int Ms);

/// <summary>Logs its start, then works for the payload's time (the cluster crash test runs it in process too).</summary>
public sealed class WorkHandler(StartLog log) : IJobHandler<WorkPayload>
{
    /// <inheritdoc />
    public async Task<JobOutcome> HandleAsync(WorkPayload payload, JobContext context)
    {
        log.Started(context.JobId, context.Attempt);
        await Task.Delay(payload.Ms, context.CancellationToken);
        log.Ended(context.JobId, context.Attempt);
        return JobOutcome.Success();
    }
}
