using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Jobs.Actors.Handlers;
using Jobs.Actors.Hosting;
using Jobs.Client;
using Jobs.Client.Http;
using Jobs.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Benchmarks.Load;

/// <summary>A node the load tool drives: its client, and what it can tell about the jobs that ran.</summary>
internal interface ILoadTarget : IAsyncDisposable
{
    /// <summary>The "system" field of the JSON lines.</summary>
    string System { get; }

    IJobsClient Client { get; }

    /// <summary>How often to ask whether the jobs are done.</summary>
    TimeSpan PollInterval { get; }

    Task<long> SucceededAsync();

    /// <summary>Whether every one of <paramref name="ids"/> ran exactly once (and nothing else ran).</summary>
    Task<bool> ExactlyOnceAsync(IReadOnlyCollection<string> ids);

    /// <summary>When each job's handler started (wall clock).</summary>
    Task<IReadOnlyDictionary<string, DateTimeOffset>> HandlerStartsAsync(IReadOnlyCollection<string> ids);

    /// <summary>The node process's resident memory, in bytes.</summary>
    Task<long> ResidentBytesAsync();
}

/// <summary>The payload of the in-process no-op job.</summary>
internal sealed record NoOp;

/// <summary>Counts executions per job and when each handler started.</summary>
internal sealed class RunLog
{
    public ConcurrentDictionary<string, int> Runs { get; } = new();

    public ConcurrentDictionary<string, DateTimeOffset> StartedAt { get; } = new();

    public void Started(string id)
    {
        StartedAt.TryAdd(id, DateTimeOffset.UtcNow);
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

/// <summary>A node in this process on a fresh database (SQLite file, or a throwaway PostgreSQL server).</summary>
internal sealed class InProcessTarget : ILoadTarget
{
    private readonly ServiceProvider _services;
    private readonly string _directory;
    private readonly PostgresServer? _server;
    private readonly JobsNode _node;
    private readonly RunLog _log;

    private InProcessTarget(string backend, ServiceProvider services, JobsNode node, RunLog log, string directory, PostgresServer? server)
    {
        System = $"jobs-{backend}-inprocess";
        _services = services;
        _node = node;
        _log = log;
        _directory = directory;
        _server = server;
    }

    public string System { get; }

    public IJobsClient Client => _node.Client;

    public TimeSpan PollInterval => TimeSpan.FromMilliseconds(5);

    public static async Task<InProcessTarget> StartAsync(string backend, int prefetch)
    {
        var directory = Directory.CreateTempSubdirectory("jobs-load-").FullName;
        var (storage, server) = await Storage.ForAsync(backend, directory);
        var log = new RunLog();
        var services = new ServiceCollection();
        services.AddSingleton(log);
        services.AddJobs(jobs =>
            jobs.UseConfigFile(
                    null,
                    $"""
                    jobs.queues.default.workers = {LoadTool.Workers}
                    jobs.scheduler.prefetch = {prefetch}
                    akka.log-dead-letters = 0
                    akka.loglevel = WARNING
                    {storage}
                    {Environment.GetEnvironmentVariable("JOBS_LOAD_CONFIG")}
                    """
                )
                .AddHandler<NoOpHandler, NoOp>("noop")
        );
        var provider = services.BuildServiceProvider();
        var node = provider.GetRequiredService<JobsNode>();
        await node.StartAsync(CancellationToken.None);
        return new InProcessTarget(backend, provider, node, log, directory, server);
    }

    public Task<long> SucceededAsync() => Task.FromResult(_node.Statistics!.Succeeded);

    public Task<bool> ExactlyOnceAsync(IReadOnlyCollection<string> ids) =>
        Task.FromResult(_log.Runs.Count == ids.Count && ids.All(id => _log.Runs.TryGetValue(id, out var n) && n == 1));

    public Task<IReadOnlyDictionary<string, DateTimeOffset>> HandlerStartsAsync(IReadOnlyCollection<string> ids) =>
        Task.FromResult<IReadOnlyDictionary<string, DateTimeOffset>>(ids.ToDictionary(id => id, id => _log.StartedAt[id]));

    public Task<long> ResidentBytesAsync()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var self = Process.GetCurrentProcess();
        return Task.FromResult(self.WorkingSet64);
    }

    public async ValueTask DisposeAsync()
    {
        await _node.StopAsync(CancellationToken.None);
        await _services.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>
/// The stock node (Jobs.Host, built in Release) in a separate process on a fresh database, driven over its HTTP API
/// with the remote client; its <c>noop</c> handler returns when it started, and its /api/v1/node counters say how
/// many attempts ran.
/// </summary>
internal sealed class RemoteTarget : ILoadTarget
{
    private readonly Process _process;
    private readonly HttpClient _http;
    private readonly string _directory;
    private readonly PostgresServer? _server;

    private RemoteTarget(string backend, Process process, HttpClient http, string directory, PostgresServer? server)
    {
        System = $"jobs-{backend}-http";
        _process = process;
        _http = http;
        _directory = directory;
        _server = server;
        Client = new HttpJobsClient(http, new HttpJobsClientOptions());
    }

    public string System { get; }

    public IJobsClient Client { get; }

    public TimeSpan PollInterval => TimeSpan.FromMilliseconds(20);

    public static async Task<RemoteTarget> StartAsync(string backend, int prefetch)
    {
        var host = FindHost();
        var directory = Directory.CreateTempSubdirectory("jobs-load-http-").FullName;
        var (storage, server) = await Storage.ForAsync(backend, directory);
        var config = Path.Combine(directory, "node.conf");
        await File.WriteAllTextAsync(
            config,
            $"""
            include "reference.conf"
            jobs.node.name = load
            jobs.queues.default.workers = {LoadTool.Workers}
            jobs.scheduler.prefetch = {prefetch}
            akka.log-dead-letters = 0
            akka.loglevel = WARNING
            jobs.http.requests-per-second = 0
            {storage}
            {Environment.GetEnvironmentVariable("JOBS_LOAD_CONFIG")}
            """
        );
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet", [host, "--config", config, "--listen", $"http://127.0.0.1:{port}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = directory,
        };
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the node");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                Console.Error.WriteLine("node: " + line);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}/"),
            Timeout = TimeSpan.FromMinutes(2),
        };
        await WaitReadyAsync(process, http, TimeSpan.FromSeconds(60));
        return new RemoteTarget(backend, process, http, directory, server);
    }

    public async Task<long> SucceededAsync() => (await NodeAsync()).Succeeded;

    public async Task<bool> ExactlyOnceAsync(IReadOnlyCollection<string> ids)
    {
        // A fresh node: as many attempts started as jobs, all of them succeeded, and none retried or recovered.
        var node = await NodeAsync();
        return node.Started == ids.Count && node.Succeeded == ids.Count && node.Retried == 0 && node.Recovered == 0;
    }

    public Task<IReadOnlyDictionary<string, DateTimeOffset>> HandlerStartsAsync(IReadOnlyCollection<string> ids) => StartsOfAsync(Client, ids);

    /// <summary>When each job's no-op handler started, as the handler's result says (read through <paramref name="client"/>).</summary>
    internal static async Task<IReadOnlyDictionary<string, DateTimeOffset>> StartsOfAsync(IJobsClient client, IReadOnlyCollection<string> ids)
    {
        var starts = new ConcurrentDictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (id, ct) =>
        {
            var job = await client.GetAsync(id, ct);
            starts[id] = job.Result!.Value.GetProperty("startedAt").GetDateTimeOffset();
        });
        return starts;
    }

    public Task<long> ResidentBytesAsync()
    {
        _process.Refresh();
        return Task.FromResult(_process.WorkingSet64);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _http.Dispose();
        Directory.Delete(_directory, recursive: true);
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    private async Task<NodeInfo> NodeAsync() => (await _http.GetFromJsonAsync<NodeInfo>("api/v1/node", JobsWire.Options))!;

    /// <summary>Waits until the node at <paramref name="http"/> answers /readyz with 200 (its process still running).</summary>
    internal static async Task WaitReadyAsync(Process process, HttpClient http, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                if ((await http.GetAsync("readyz")).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"the node did not become ready (exit code {(process.HasExited ? process.ExitCode : -1)})");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The Release build of the stock node, next to this repository's solution.</summary>
    internal static string FindHost()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Jobs.Actors.sln")))
            {
                var dll = Path.Combine(dir.FullName, "src", "Jobs.Host", "bin", "Release", "net10.0", "Jobs.Host.dll");
                return File.Exists(dll)
                    ? dll
                    : throw new InvalidOperationException($"build the node first: dotnet build -c Release src/Jobs.Host ({dll} is missing)");
            }
        }

        throw new InvalidOperationException("Jobs.Actors.sln not found above " + AppContext.BaseDirectory);
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>The persistence settings of a target: a SQLite file in its directory, or a database on a new PostgreSQL server.</summary>
internal static class Storage
{
    public static async Task<(string Config, PostgresServer? Server)> ForAsync(string backend, string directory)
    {
        if (backend == "postgres")
        {
            var server = await PostgresServer.StartDedicatedAsync();
            return (
                $"jobs.persistence {{ backend = postgresql, postgresql.connection-string = \"{await server.CreateDatabaseAsync("load")}\" }}",
                server
            );
        }

        return (
            "jobs.persistence { backend = sqlite, sqlite.path = "
                + $"\"{Path.Combine(directory, "jobs.db").Replace("\\", "/", StringComparison.Ordinal)}\" }}",
            null
        );
    }
}

/// <summary>
/// A cluster of stock nodes (Jobs.Host, Release), each its own process, on one fresh PostgreSQL: the first is the
/// seed (the oldest member: it runs the scheduler singleton), each has the target's workers. Jobs are scheduled
/// through the last node's HTTP API; counts are read from the shared index, so a killed node's counters are not
/// needed (<see cref="KillAsync"/>).
/// </summary>
internal sealed class ClusterTarget : ILoadTarget
{
    private readonly List<(Process Process, HttpClient Http)> _nodes;
    private readonly string _directory;
    private readonly PostgresServer _server;

    private ClusterTarget(List<(Process, HttpClient)> nodes, string directory, PostgresServer server)
    {
        _nodes = nodes;
        _directory = directory;
        _server = server;
        System = $"jobs-postgres-cluster{nodes.Count}";
        Client = new HttpJobsClient(nodes[^1].Item2, new HttpJobsClientOptions());
    }

    public string System { get; }

    public IJobsClient Client { get; }

    public TimeSpan PollInterval => TimeSpan.FromMilliseconds(50);

    /// <summary>The members, in start order (the first is the seed and the oldest).</summary>
    public int Count => _nodes.Count;

    public static async Task<ClusterTarget> StartAsync(int count, int prefetch)
    {
        var host = RemoteTarget.FindHost();
        var directory = Directory.CreateTempSubdirectory("jobs-load-cluster-").FullName;
        var (storage, database) = await Storage.ForAsync("postgres", directory);
        var server = database!;
        var config = Path.Combine(directory, "node.conf");
        await File.WriteAllTextAsync(
            config,
            $"""
            include "reference.conf"
            jobs.queues.default.workers = {LoadTool.Workers}
            jobs.scheduler.prefetch = {prefetch}
            akka.log-dead-letters = 0
            akka.loglevel = WARNING
            jobs.http.requests-per-second = 0
            {storage}
            {Environment.GetEnvironmentVariable("JOBS_LOAD_CONFIG")}
            """
        );
        var ports = Enumerable.Range(0, count).Select(_ => RemoteTarget.FreePort()).ToList();
        var nodes = new List<(Process, HttpClient)>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var api = RemoteTarget.FreePort();
                var start = new ProcessStartInfo(
                    "dotnet",
                    [
                        host,
                        "--config",
                        config,
                        "--name",
                        $"node-{i + 1}",
                        "--port",
                        ports[i].ToString(global::System.Globalization.CultureInfo.InvariantCulture),
                        "--seed",
                        $"akka.tcp://jobs@127.0.0.1:{ports[0]}",
                        "--listen",
                        $"http://127.0.0.1:{api}",
                    ]
                )
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    WorkingDirectory = directory,
                };
                start.Environment["Logging__LogLevel__Default"] = "Warning";
                var process = Process.Start(start) ?? throw new InvalidOperationException("could not start a node");
                var name = $"node-{i + 1}";
                process.OutputDataReceived += (_, _) => { };
                process.ErrorDataReceived += (_, e) =>
                {
                    if (e.Data is { } line)
                    {
                        Console.Error.WriteLine($"{name}: {line}");
                    }
                };
                process.BeginOutputReadLine();
                process.BeginErrorReadLine();
                var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 })
                {
                    BaseAddress = new Uri($"http://127.0.0.1:{api}/"),
                    Timeout = TimeSpan.FromMinutes(2),
                };
                nodes.Add((process, http));
                await RemoteTarget.WaitReadyAsync(process, http, TimeSpan.FromSeconds(120)); // one at a time: the seed first, then each joins it
            }

            return new ClusterTarget(nodes, directory, server);
        }
        catch
        {
            foreach (var (process, http) in nodes)
            {
                process.Kill(entireProcessTree: true);
                http.Dispose();
            }

            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Kills member <paramref name="index"/> (0: the seed, the scheduler's member) with SIGKILL.</summary>
    public async Task KillAsync(int index)
    {
        _nodes[index].Process.Kill(entireProcessTree: true);
        await _nodes[index].Process.WaitForExitAsync();
    }

    public async Task<long> SucceededAsync() => (await Client.CountAsync(new JobQuery())).TryGetValue(JobStatus.Succeeded, out var n) ? n : 0;

    public async Task<bool> ExactlyOnceAsync(IReadOnlyCollection<string> ids)
    {
        // Every member alive: as many attempts started as jobs, all succeeded, none retried or recovered.
        var infos = await Task.WhenAll(
            _nodes.Where(n => !n.Process.HasExited).Select(n => n.Http.GetFromJsonAsync<NodeInfo>("api/v1/node", JobsWire.Options))
        );
        return _nodes.All(n => !n.Process.HasExited)
            && infos.Sum(i => i!.Started) == ids.Count
            && infos.Sum(i => i!.Succeeded) == ids.Count
            && infos.Sum(i => i!.Retried + i.Recovered) == 0;
    }

    public Task<IReadOnlyDictionary<string, DateTimeOffset>> HandlerStartsAsync(IReadOnlyCollection<string> ids) =>
        RemoteTarget.StartsOfAsync(Client, ids);

    public Task<long> ResidentBytesAsync()
    {
        long total = 0;
        foreach (var (process, _) in _nodes.Where(n => !n.Process.HasExited))
        {
            process.Refresh();
            total += process.WorkingSet64;
        }

        return Task.FromResult(total);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (process, http) in _nodes)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            process.Dispose();
            http.Dispose();
        }

        Directory.Delete(_directory, recursive: true);
        await _server.DisposeAsync();
    }
}
