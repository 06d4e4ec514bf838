using System.Diagnostics;
using System.Globalization;
using Akka.Cluster;
using Jobs.Client;
using Jobs.Testing;
using Jobs.Testing.Faults;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Actors.Tests.Faults;

/// <summary>The fault suite's helpers for scenarios on member processes: recorded Schedule calls, final states, the scheduler's lease.</summary>
internal static class FaultSuite
{
    /// <summary>Whether the suite runs at full size.</summary>
    public static bool Full => FaultReport.Full;

    /// <summary>
    /// Schedules <paramref name="request"/> through <paramref name="client"/>, recording the call in
    /// <paramref name="history"/>: attempted, then acknowledged, refused, or unknown (a call that failed without an
    /// answer, or none within <paramref name="timeout"/> when given). True when acknowledged.
    /// </summary>
    public static async Task<bool> ScheduleAsync(History history, IJobsClient client, ScheduleRequest request, TimeSpan? timeout = null)
    {
        var id = request.JobId!;
        history.Add(HistoryKind.Attempted, id);
        try
        {
            using var bounded = new CancellationTokenSource(timeout ?? Timeout.InfiniteTimeSpan);
            await client.ScheduleAsync(request, bounded.Token);
            history.Add(HistoryKind.Acknowledged, id);
            return true;
        }
        catch (JobValidationException ex)
        {
            history.Add(HistoryKind.Refused, id, detail: ex.Message);
            return false;
        }
        catch (Exception ex) when (ex is JobsException or TimeoutException or OperationCanceledException)
        {
            history.Add(HistoryKind.Unknown, id, detail: ex.Message);
            return false;
        }
    }

    /// <summary>The scheduler singleton's lease row: its owner and epoch.</summary>
    public static async Task<(string Owner, long Epoch)> SingletonLeaseAsync(string connectionString)
    {
        await using var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT owner, epoch FROM jobs_leases WHERE name LIKE '%singleton%'", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), "no scheduler lease is stored");
        return (reader.GetString(0), reader.GetInt64(1));
    }

    /// <summary>Prints a scenario's line.</summary>
    public static void Report(string scenario, QueueCheck check, string figures) => FaultReport.Write(scenario, check, figures);
}

/// <summary>
/// A cluster for fault scenarios on one PostgreSQL database: node-b (a process, the first seed and so the oldest
/// member: the scheduler's), node-a in this test process (never faulted: the client, with workers of its own), and
/// more process members (node-c, ...). Every member logs its handlers' starts and ends; the test's Schedule calls,
/// the faults and the jobs' final states go into one <see cref="History"/>.
/// </summary>
internal sealed class FaultCluster : IAsyncDisposable
{
    private readonly Dictionary<string, (Process Process, int Port)> _processes = [];
    private readonly int _localPort = Ports.Free();
    private readonly IReadOnlyDictionary<string, TimeSpan> _clockSkews;
    private readonly int _workers;
    private readonly System.Collections.Concurrent.ConcurrentQueue<(int Port, DateTimeOffset At)> _ups = new();
    private int _seedPort;

    private FaultCluster(string database, string directory, IReadOnlyDictionary<string, TimeSpan>? clockSkews, int workers)
    {
        Database = database;
        Directory = directory;
        _clockSkews = clockSkews ?? new Dictionary<string, TimeSpan>();
        _workers = workers;
    }

    /// <summary>The members' database.</summary>
    public string Database { get; }

    /// <summary>Where the members' handler logs are.</summary>
    public string Directory { get; }

    /// <summary>What happened.</summary>
    public History History { get; } = new();

    /// <summary>node-a, in this process.</summary>
    public TestNode Local { get; private set; } = null!;

    /// <summary>
    /// Starts node-b, node-a and <paramref name="moreProcesses"/> more process members, and waits until all are up.
    /// A process member named in <paramref name="clockSkews"/> runs with its clock that far off (faked). Every member
    /// runs <paramref name="workers"/> workers.
    /// </summary>
    public static async Task<FaultCluster> StartAsync(
        int moreProcesses = 1,
        string? database = null,
        IReadOnlyDictionary<string, TimeSpan>? clockSkews = null,
        int workers = 4
    )
    {
        database ??= await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("faults");
        var cluster = new FaultCluster(database, System.IO.Directory.CreateTempSubdirectory("jobs-faults-").FullName, clockSkews, workers);
        try
        {
            cluster._seedPort = Ports.Free();
            await cluster.StartMemberAsync("node-b", cluster._seedPort);
            // node-a validates every Schedule call, so its defaults become the jobs' own: the shipped ones (the test
            // node's max-timeout-retries = 1 let a job in flight at two members' deaths end Failed).
            cluster.Local = await TestNode.StartAsync(
                Backend.Postgres,
                manualClock: false,
                storageConfig: $"jobs.persistence {{ backend = postgresql, postgresql.connection-string = \"{database}\" }}",
                extraConfig: $$"""
                jobs.node.name = node-a
                jobs.queues.default.workers = {{workers}}
                jobs.defaults { max-attempts = 5, timeout = 1m, max-timeout-retries = 3, backoff { min = 100ms, max = 1s, jitter = 0 } }
                akka.remote.dot-netty.tcp.port = {{cluster._localPort}}
                akka.cluster.seed-nodes = ["akka.tcp://jobs@127.0.0.1:{{cluster._seedPort}}"]
                {{FaultReport.ExtraConfig}}
                """,
                services: s => s.AddSingleton(new StartLog(cluster.LogOf("node-a"), Blocking: false, "node-a")),
                jobs: b => b.AddHandler<WorkHandler, WorkPayload>("work")
            );
            cluster.Local.Node.System!.ActorOf(Akka.Actor.Props.Create(() => new MemberUpRecorder(cluster._ups)), "member-up-recorder");
            for (var i = 0; i < moreProcesses; i++)
            {
                await cluster.StartMemberAsync($"node-{(char)('c' + i)}", Ports.Free());
            }

            await cluster.WaitForMembersAsync(2 + moreProcesses, TimeSpan.FromSeconds(60));
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>The process members' names.</summary>
    public IReadOnlyList<string> ProcessMembers => [.. _processes.Keys.Order(StringComparer.Ordinal)];

    /// <summary>The handler log of member <paramref name="name"/>.</summary>
    public string LogOf(string name) => Path.Combine(Directory, name + ".log");

    /// <summary>The last 40 lines member <paramref name="name"/> wrote to its standard output (its warnings and errors).</summary>
    public string OutputOf(string name) =>
        Path.Combine(Directory, name + ".out") is var path && File.Exists(path)
            ? string.Join(Environment.NewLine, File.ReadLines(path).TakeLast(40))
            : "(nothing)";

    /// <summary>Whether process member <paramref name="name"/> runs.</summary>
    public bool IsRunning(string name) => !_processes[name].Process.HasExited;

    /// <summary>The oldest member's name (the scheduler's), as node-a sees the cluster.</summary>
    public string Oldest()
    {
        var oldest = Cluster
            .Get(Local.Node.System!)
            .State.Members.Where(m => m.Status == MemberStatus.Up)
            .OrderBy(m => m, Member.AgeOrdering)
            .First()
            .Address;
        return oldest.Port == _localPort ? "node-a" : _processes.Single(p => p.Value.Port == oldest.Port).Key;
    }

    /// <summary>
    /// When node-a first saw a member on process member <paramref name="name"/>'s address Up after
    /// <paramref name="after"/> (its next incarnation back in the cluster's membership); null if not (yet).
    /// </summary>
    public DateTimeOffset? UpAfter(string name, DateTimeOffset after)
    {
        var port = _processes[name].Port;
        return _ups.Where(u => u.Port == port && u.At > after).Select(u => (DateTimeOffset?)u.At).Min();
    }

    /// <summary>Kills process member <paramref name="name"/> with SIGKILL (recorded as a fault).</summary>
    public async Task KillAsync(string name)
    {
        // Recorded once the process is gone: a handler that finished while the kill was under way was not cut short.
        var process = _processes[name].Process;
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        History.Add(HistoryKind.Fault, string.Empty, name, detail: "kill -9");
    }

    /// <summary>
    /// Acts as the process members' supervisor until <paramref name="stopping"/>: a member that exits by itself is
    /// recorded as a fault at the moment it exited and is started again a second later (again if it dies while
    /// starting). Each such death: the member, when it exited, and when its next incarnation was up (or died starting).
    /// </summary>
    public async Task<IReadOnlyList<(string Name, DateTimeOffset Died, DateTimeOffset Back)>> SuperviseAsync(CancellationToken stopping)
    {
        var deaths = new List<(string, DateTimeOffset, DateTimeOffset)>();
        while (!stopping.IsCancellationRequested)
        {
            foreach (var name in ProcessMembers.Where(n => !IsRunning(n)))
            {
                var process = _processes[name].Process;
                var died = new DateTimeOffset(process.ExitTime.ToUniversalTime(), TimeSpan.Zero);
                History.Add(new HistoryEvent(died, HistoryKind.Fault, string.Empty, name, Detail: $"exited {process.ExitCode}"));
                await Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None);
                process.Dispose();
                try
                {
                    await RestartAsync(name);
                }
                catch (InvalidOperationException) when (!IsRunning(name))
                {
                    // Killed again while it was starting (its pools take work once it is up as a member, before its
                    // start has finished): the next round records that death and starts it once more.
                }

                deaths.Add((name, died, DateTimeOffset.UtcNow));
            }

            await Task.Delay(50, CancellationToken.None);
        }

        return deaths;
    }

    /// <summary>Sends SIGSTOP (recorded as a fault) or SIGCONT to process member <paramref name="name"/>.</summary>
    public void Signal(string name, string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, _processes[name].Process.Id.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
        if (signal == "STOP")
        {
            History.Add(HistoryKind.Fault, string.Empty, name, detail: "SIGSTOP"); // once it stands still
        }
    }

    /// <summary>Waits until process member <paramref name="name"/> exits by itself; its exit code.</summary>
    public async Task<int> WaitForExitAsync(string name, TimeSpan timeout)
    {
        using var bounded = new CancellationTokenSource(timeout);
        await _processes[name].Process.WaitForExitAsync(bounded.Token);
        return _processes[name].Process.ExitCode;
    }

    /// <summary>The cluster address's port of process member <paramref name="name"/>.</summary>
    public int PortOf(string name) => _processes[name].Port;

    /// <summary>Starts process member <paramref name="name"/> again on its port (a new incarnation), joining through node-a.</summary>
    public Task RestartAsync(string name) => StartMemberAsync(name, _processes[name].Port, restart: true);

    /// <summary>
    /// Schedules a work job of <paramref name="ms"/> through node-a, recording the attempt and its answer (an answer
    /// that never came, or not within 15 s, is an unknown outcome). True when acknowledged.
    /// </summary>
    public Task<bool> ScheduleAsync(string id, int ms) =>
        FaultSuite.ScheduleAsync(
            History,
            Local.Client,
            ScheduleRequest.Create("work", new WorkPayload(ms)) with
            {
                JobId = id,
            },
            TimeSpan.FromSeconds(15)
        );

    /// <summary>
    /// Waits until every acknowledged job has finished (or <paramref name="timeout"/> passed), records each attempted
    /// job's final state and every member's handler log, and checks the history.
    /// </summary>
    public async Task<QueueCheck> CheckAsync(TimeSpan timeout)
    {
        await History.RecordFinalStatesAsync(Local.Client, timeout);
        History.AddHandlerLog("node-a", LogOf("node-a"));
        foreach (var name in _processes.Keys)
        {
            History.AddHandlerLog(name, LogOf(name), _clockSkews.GetValueOrDefault(name));
        }

        var check = TotalQueueChecker.Check(History);
        if (Environment.GetEnvironmentVariable("JOBS_FAULTS_KEEP") is not null)
        {
            // Every job that did not end as meant, with its attempts as the job system recorded them.
            var lost = new List<string>();
            foreach (var id in check.Lost)
            {
                var info = await Local.Client.GetAsync(id);
                lost.Add(
                    $"{id} {info.Status}: "
                        + string.Join(
                            "; ",
                            info.Attempts.Select(a =>
                                $"{a.Number} {a.Outcome} on {a.Node} {a.StartedAt:HH:mm:ss.fff}-{a.EndedAt:HH:mm:ss.fff} {a.Error}"
                            )
                        )
                );

                // Its stored events, as written (each payload's text), for a look at what decided its end.
                await using var connection = new Npgsql.NpgsqlConnection(Database);
                await connection.OpenAsync();
                await using var events = new Npgsql.NpgsqlCommand(
                    "SELECT sequence_nr, manifest, writer, payload FROM jobs_journal WHERE persistence_id = @p ORDER BY sequence_nr",
                    connection
                );
                events.Parameters.AddWithValue("p", "job-" + id);
                await using var reader = await events.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    lost.Add(
                        $"  {reader.GetInt64(0)} {reader.GetString(1)} by {reader.GetString(2)}: "
                            + $"{System.Text.Encoding.UTF8.GetString((byte[])reader[3])}"
                    );
                }
            }

            await File.WriteAllLinesAsync(
                Path.Combine(Directory, "history.txt"),
                [.. History.Events.OrderBy(e => e.At).Select(e => $"{e.At:HH:mm:ss.fff} {e.Kind} {e.JobId} {e.Node} {e.Attempt} {e.Detail}"), .. lost]
            );
        }

        return check;
    }

    /// <summary>Waits until node-a sees <paramref name="count"/> members up.</summary>
    public async Task WaitForMembersAsync(int count, TimeSpan timeout)
    {
        var cluster = Cluster.Get(Local.Node.System!);
        var deadline = DateTime.UtcNow + timeout;
        while (cluster.State.Members.Count(m => m.Status == MemberStatus.Up) != count || !cluster.State.Unreachable.IsEmpty)
        {
            Assert.True(
                DateTime.UtcNow < deadline,
                $"the cluster did not reach {count} members up (it has {cluster.State.Members.Count(m => m.Status == MemberStatus.Up)})"
            );
            await Task.Delay(100);
        }
    }

    private async Task StartMemberAsync(string name, int port, bool restart = false)
    {
        // The first member is the first seed; a member started later (or again) joins through node-a as well, so a
        // restarted first seed joins the running cluster instead of forming one of its own.
        var seeds = name == "node-b" && !restart ? $"{_seedPort}" : $"{_localPort},{_seedPort}";
        var process = CrashNodeProcess.Start(
            _clockSkews.GetValueOrDefault(name),
            "member",
            Database,
            LogOf(name),
            port.ToString(CultureInfo.InvariantCulture),
            seeds,
            name,
            _workers.ToString(CultureInfo.InvariantCulture)
        );
        _processes[name] = (process, port);
        // Its error output goes to <name>.err (read all along: a full pipe would block the process).
        var errors = Path.Combine(Directory, name + ".err");
        _ = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync() is { } line)
            {
                await File.AppendAllTextAsync(errors, line + Environment.NewLine);
            }
        });
        // Its standard output (Akka's warnings and errors, then "up") goes to <name>.out, read all along too.
        var output = Path.Combine(Directory, name + ".out");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line == "up")
            {
                _ = Task.Run(async () =>
                {
                    while (await process.StandardOutput.ReadLineAsync() is { } later)
                    {
                        await File.AppendAllTextAsync(output, later + Environment.NewLine);
                    }
                });
                return;
            }

            await File.AppendAllTextAsync(output, line + Environment.NewLine, timeout.Token);
        }

        // What the member and the others logged, for the test's failure message (the folder is deleted afterwards).
        var logs = string.Join(
            Environment.NewLine,
            System
                .IO.Directory.GetFiles(Directory, "*.out")
                .Order()
                .Select(f =>
                    $"--- {Path.GetFileName(f)} (last lines)" + Environment.NewLine + string.Join(Environment.NewLine, File.ReadLines(f).TakeLast(40))
                )
        );
        throw new InvalidOperationException(
            $"{name} exited before it was up: "
                + (File.Exists(errors) ? await File.ReadAllTextAsync(errors, timeout.Token) : string.Empty)
                + Environment.NewLine
                + logs
        );
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var (process, _) in _processes.Values)
        {
            if (!process.HasExited)
            {
                try
                {
                    using var cont = Process.Start("kill", ["-CONT", process.Id.ToString(CultureInfo.InvariantCulture)]);
                    cont.WaitForExit();
                    process.StandardInput.Close(); // a member stops cleanly when its input closes
                }
                catch (IOException)
                {
                    // Its input is gone already.
                }

                if (!process.WaitForExit(20_000))
                {
                    process.Kill(entireProcessTree: true);
                }
            }

            process.Dispose();
        }

        if (Local is not null)
        {
            await Local.DisposeAsync();
        }

        if (Environment.GetEnvironmentVariable("JOBS_FAULTS_KEEP") is null)
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }
}

/// <summary>Records when node-a sees each member Up (its address's port and the moment).</summary>
internal sealed class MemberUpRecorder : Akka.Actor.ReceiveActor
{
    /// <summary>Subscribes node-a's cluster's member-up events into <paramref name="ups"/>.</summary>
    public MemberUpRecorder(System.Collections.Concurrent.ConcurrentQueue<(int Port, DateTimeOffset At)> ups)
    {
        Receive<ClusterEvent.MemberUp>(up => ups.Enqueue((up.Member.Address.Port ?? 0, DateTimeOffset.UtcNow)));
        Receive<ClusterEvent.IMemberEvent>(_ => { });
    }

    /// <inheritdoc />
    protected override void PreStart() =>
        Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents, typeof(ClusterEvent.MemberUp));

    /// <inheritdoc />
    protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);
}
