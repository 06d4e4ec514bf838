using System.Collections.Concurrent;
using Jobs.Actors.Handlers;
using Jobs.Actors.Hosting;
using Jobs.Client;
using Jobs.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Jobs.Actors.Tests;

/// <summary>Which storage a test node uses.</summary>
public enum Backend
{
    Memory,
    Sqlite,
    Postgres,
}

/// <summary>Records what handlers did, shared by a test and its handlers.</summary>
public sealed class HandlerLog
{
    public ConcurrentQueue<(string JobId, int Attempt, string Event)> Events { get; } = new();

    public ConcurrentDictionary<string, TaskCompletionSource> Gates { get; } = new();

    public int Runs(string jobId) => Events.Count(e => e.JobId == jobId && e.Event == "start");

    public void Add(string jobId, int attempt, string what) => Events.Enqueue((jobId, attempt, what));
}

public sealed record EchoPayload(string Text);

public sealed record FailPayload(int FailTimes, bool Permanent = false);

public sealed record WaitPayload(string Gate, bool IgnoreToken = false);

public sealed class EchoHandler(HandlerLog log) : IJobHandler<EchoPayload>
{
    public Task<JobOutcome> HandleAsync(EchoPayload payload, JobContext context)
    {
        log.Add(context.JobId, context.Attempt, "start");
        return Task.FromResult(JobOutcome.Success(new { echo = payload.Text, attempt = context.Attempt }));
    }
}

public sealed class FailHandler(HandlerLog log) : IJobHandler<FailPayload>
{
    public Task<JobOutcome> HandleAsync(FailPayload payload, JobContext context)
    {
        log.Add(context.JobId, context.Attempt, "start");
        if (payload.Permanent)
        {
            return Task.FromResult(JobOutcome.Fail("bad input, do not retry"));
        }

        if (context.Attempt <= payload.FailTimes)
        {
            throw new InvalidOperationException($"failure {context.Attempt}");
        }

        return Task.FromResult(JobOutcome.Success());
    }
}

public sealed class WaitHandler(HandlerLog log) : IJobHandler<WaitPayload>
{
    public async Task<JobOutcome> HandleAsync(WaitPayload payload, JobContext context)
    {
        log.Add(context.JobId, context.Attempt, "start");
        var gate = log.Gates.GetOrAdd(payload.Gate, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (payload.IgnoreToken)
        {
            await gate.Task;
        }
        else
        {
            await gate.Task.WaitAsync(context.CancellationToken);
        }

        log.Add(context.JobId, context.Attempt, "end");
        return JobOutcome.Success();
    }
}

/// <summary>A job node in the test process on a chosen backend, with the test handlers and optionally a manual clock.</summary>
public sealed class TestNode : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly string? _directory;

    private readonly RecordedLog _recorded;

    private TestNode(ServiceProvider services, JobsNode node, HandlerLog log, FakeTimeProvider? clock, string? directory, RecordedLog recorded)
    {
        _recorded = recorded;
        _services = services;
        Node = node;
        Log = log;
        Clock = clock;
        _directory = directory;
    }

    public JobsNode Node { get; }

    public IJobsClient Client => Node.Client;

    public HandlerLog Log { get; }

    public FakeTimeProvider? Clock { get; }

    /// <summary>The node's recent log lines (see <see cref="RecordedLog"/>).</summary>
    public IReadOnlyList<string> LogLines => _recorded.Lines;

    /// <summary>The events stored under <paramref name="persistenceId"/> in the node's journal, oldest first.</summary>
    public Task<List<Jobs.Persistence.Journal.PersistentRepr>> StoredEventsAsync(string persistenceId) =>
        Node.Runtime!.Journal.ReplayAsync(persistenceId, 1, long.MaxValue, long.MaxValue, CancellationToken.None).ToListAsync().AsTask();

    /// <summary>The token of the call that made a stored job event (its <c>request</c> field), or null.</summary>
    public static string? RequestTokenOf(Jobs.Persistence.Journal.PersistentRepr stored)
    {
        using var json = System.Text.Json.JsonDocument.Parse(stored.Payload);
        return json.RootElement.TryGetProperty("request", out var request) ? request.GetString() : null;
    }

    public static async Task<string> StorageConfigAsync(Backend backend, string directory) =>
        backend switch
        {
            Backend.Memory => "jobs.persistence.backend = memory",
            Backend.Sqlite => $"jobs.persistence {{ backend = sqlite, sqlite.path = \"{Path.Combine(directory, "jobs.db")}\" }}",
            _ => "jobs.persistence { backend = postgresql, postgresql.connection-string = "
                + $"\"{await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("jobs")}\" }}",
        };

    public static async Task<TestNode> StartAsync(
        Backend backend,
        bool manualClock = true,
        string? extraConfig = null,
        string? storageConfig = null,
        HandlerLog? log = null,
        FakeTimeProvider? clock = null,
        Action<IServiceCollection>? services = null,
        Action<JobsBuilder>? jobs = null
    )
    {
        var directory = Directory.CreateTempSubdirectory("jobs-node-").FullName;
        storageConfig ??= await StorageConfigAsync(backend, directory);
        clock ??= manualClock ? new FakeTimeProvider(DateTimeOffset.UtcNow) : null;
        log ??= new HandlerLog();
        var collection = new ServiceCollection();
        collection.AddSingleton(log);
        if (clock is not null)
        {
            collection.AddSingleton<TimeProvider>(clock);
        }

        var recorded = new RecordedLog();
        collection.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Debug).AddProvider(recorded));
        services?.Invoke(collection);
        collection.AddJobs(builder =>
        {
            builder
                .UseConfigFile(
                    null,
                    $$"""
                    jobs.node.name = test-node
                    jobs.queues.default.workers = 4
                    jobs.queues.slow.workers = 1
                    jobs.defaults { max-attempts = 3, timeout = 30s, max-timeout-retries = 1, cancel-grace = 1s }
                    jobs.defaults.backoff { min = 1s, max = 1m, factor = 2, jitter = 0 }
                    jobs.scheduler.max-sleep = 1s
                    {{storageConfig}}
                    {{extraConfig ?? string.Empty}}
                    """
                )
                .AddHandler<EchoHandler, EchoPayload>("echo")
                .AddHandler<FailHandler, FailPayload>("fail")
                .AddHandler<WaitHandler, WaitPayload>("wait");
            jobs?.Invoke(builder);
        });
        var provider = collection.BuildServiceProvider();
        var node = provider.GetRequiredService<JobsNode>();
        await node.StartAsync(CancellationToken.None);
        return new TestNode(provider, node, log, clock, directory, recorded);
    }

    /// <summary>Runs a test's steps and, when one fails, fails with the node's recent log lines attached.</summary>
    public async Task DiagnosedAsync(Func<Task> steps)
    {
        try
        {
            await steps();
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
        {
            throw new Xunit.Sdk.XunitException(
                $"{ex.GetType().Name}: {ex.Message}\n--- the node's last 1,000 log lines (debug lines of its own actors, "
                    + $"sharding, singletons and distributed data only) ---\n{string.Join("\n", _recorded.Lines)}\n--- end of log ---\n{ex}"
            );
        }
    }

    public async Task<JobInfo> WaitForStatusAsync(string jobId, JobStatus status, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        JobInfo? info = null;
        do
        {
            try
            {
                info = await Client.GetAsync(jobId);
                if (info.Status == status)
                {
                    return info;
                }
            }
            catch (JobNotFoundException) when (DateTime.UtcNow < deadline)
            {
                // Not created yet (a recurring occurrence, a relayed outbox row): keep waiting.
            }
            catch (JobsException ex) when (ex.ErrorCode == "timeout" && DateTime.UtcNow < deadline)
            {
                // Its entity did not answer (its shard is moving off a member that died): ask again, as a client would.
            }

            await Task.Delay(20);
        } while (DateTime.UtcNow < deadline);
        throw new TimeoutException(
            (
                info is null
                    ? $"job {jobId} does not exist after waiting"
                    : $"job {jobId} is {info.Status}, not {status}, after waiting; attempts: {string.Join("; ", info.Attempts)}"
            ) + $"\n--- the node's last log lines ---\n{string.Join("\n", _recorded.Lines.TakeLast(150))}\n--- end of log ---"
        );
    }

    public async Task StopAsync(CancellationToken deadline = default) => await Node.StopAsync(deadline);

    public async ValueTask DisposeAsync()
    {
        await Node.StopAsync(CancellationToken.None);
        await _services.DisposeAsync();
        SqliteConnection.ClearAllPools();
        if (_directory is not null)
        {
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException) { }
        }
    }
}

/// <summary>
/// Keeps a test node's last 1,000 log lines (Information and above, and the debug lines of the job system's own
/// actors and of Akka's sharding, singletons and distributed data) for a failing test to print.
/// </summary>
public sealed class RecordedLog : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    /// <summary>The lines kept, oldest first.</summary>
    public IReadOnlyList<string> Lines => [.. _lines];

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    /// <inheritdoc />
    public void Dispose() { }

    private void Add(string line)
    {
        _lines.Enqueue(line);
        while (_lines.Count > 1000 && _lines.TryDequeue(out _)) { }
    }

    private sealed class Logger(RecordedLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var text = formatter(state, exception);
            if (
                logLevel < LogLevel.Information
                && !(
                    text.Contains("oordinator", StringComparison.Ordinal)
                    || text.Contains("ingleton", StringComparison.Ordinal)
                    || text.Contains("eplicator", StringComparison.Ordinal)
                    || category.Contains("Sharding", StringComparison.Ordinal)
                    || category.Contains("Singleton", StringComparison.Ordinal)
                    || category.StartsWith("Jobs.", StringComparison.Ordinal)
                )
            )
            {
                return;
            }

            log.Add(
                $"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}: "
                    + $"{text}{(exception is null ? string.Empty : " " + exception.GetType().Name + ": " + exception.Message)}"
            );
        }
    }
}
