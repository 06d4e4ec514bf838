using System.Text.Json;
using Jobs.Actors.Hosting;
using Jobs.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Jobs.TestKit;

/// <summary>
/// A job node for users' own tests: in memory, on a clock
/// that moves only when the test says so, with the application's own handlers. Schedule through
/// <see cref="Client"/> (or hand it to the code under test), move time with <see cref="AdvanceAsync"/>, which
/// returns once every job that became due has run, and check what was scheduled with the Assert methods.
/// </summary>
public sealed class JobsTestNode : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly JobsNode _node;

    private JobsTestNode(ServiceProvider services, JobsNode node, FakeTimeProvider clock)
    {
        _services = services;
        _node = node;
        Clock = clock;
    }

    /// <summary>The node's client: the same IJobsClient the application uses.</summary>
    public IJobsClient Client => _node.Client;

    /// <summary>The node's clock; prefer <see cref="AdvanceAsync"/>, which also waits for the jobs that became due.</summary>
    public FakeTimeProvider Clock { get; }

    /// <summary>The application's services as the node sees them (handlers are resolved from here).</summary>
    public IServiceProvider Services => _services;

    /// <summary>The node's statistics (scheduled, started, succeeded, failed, retried, ...).</summary>
    public JobsStatistics Statistics => _node.Statistics!;

    /// <summary>
    /// Starts an in-memory node. <paramref name="configure"/> registers handlers (and may override settings with
    /// UseConfigFile(null, "jobs.defaults.max-attempts = 1") and the like); <paramref name="services"/> adds what
    /// the handlers need. Retries use backoff with no jitter unless configured otherwise, so times are predictable.
    /// </summary>
    public static async Task<JobsTestNode> StartAsync(
        Action<JobsBuilder> configure,
        Action<IServiceCollection>? services = null,
        DateTimeOffset? start = null
    )
    {
        ArgumentNullException.ThrowIfNull(configure);
        var clock = new FakeTimeProvider(start ?? DateTimeOffset.UtcNow);
        var collection = new ServiceCollection();
        collection.AddSingleton<TimeProvider>(clock);
        services?.Invoke(collection);
        collection.AddJobs(jobs =>
        {
            jobs.UseConfigFile(
                null,
                """
                jobs.persistence.backend = memory
                jobs.node.name = test
                jobs.defaults.backoff.jitter = 0
                akka.log-dead-letters = 0
                """
            );
            configure(jobs);
        });
        var provider = collection.BuildServiceProvider();
        var node = provider.GetRequiredService<JobsNode>();
        await node.StartAsync(CancellationToken.None).ConfigureAwait(false);
        return new JobsTestNode(provider, node, clock);
    }

    /// <summary>Moves the clock forward and waits until every job due by then has run (including retries that fall due).</summary>
    public async Task AdvanceAsync(TimeSpan delta, TimeSpan? timeout = null)
    {
        Clock.Advance(delta);
        await RunDueJobsAsync(timeout).ConfigureAwait(false);
    }

    /// <summary>Waits until no job is due or running (the jobs due now have run).</summary>
    /// <exception cref="TestKitAssertionException">Jobs were still due or running when <paramref name="timeout"/>
    /// (default 10 s, times the time factor) passed.</exception>
    public async Task RunDueJobsAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + Dilated(timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var counts = await Client.CountAsync(new JobQuery()).ConfigureAwait(false);
            if (counts[JobStatus.Queued] == 0 && counts[JobStatus.Running] == 0)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TestKitAssertionException(
                    $"jobs still due or running after waiting: {counts[JobStatus.Queued]} queued, {counts[JobStatus.Running]} running"
                );
            }

            await Task.Delay(5).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// <paramref name="wait"/> times the factor in the JOBS_TESTKIT_TIMEFACTOR environment variable (default 1), for
    /// slow machines (CI), as Akka's test kit dilates its waits.
    /// </summary>
    private static TimeSpan Dilated(TimeSpan wait) =>
        double.TryParse(
            Environment.GetEnvironmentVariable("JOBS_TESTKIT_TIMEFACTOR"),
            System.Globalization.NumberStyles.Float,
            System.Globalization.CultureInfo.InvariantCulture,
            out var factor
        )
        && factor >= 1
            ? wait * factor
            : wait;

    /// <summary>Every job (in any status), highest priority first.</summary>
    public async Task<IReadOnlyList<JobInfo>> JobsAsync(string? kind = null, JobStatus? status = null)
    {
        var jobs = new List<JobInfo>();
        string? cursor = null;
        do
        {
            var page = await Client
                .ListAsync(
                    new JobQuery
                    {
                        Kind = kind,
                        Status = status,
                        Limit = 1000,
                        Cursor = cursor,
                    }
                )
                .ConfigureAwait(false);
            foreach (var item in page.Items)
            {
                jobs.Add(await Client.GetAsync(item.Id).ConfigureAwait(false));
            }

            cursor = page.NextCursor;
        } while (cursor is not null);
        return jobs;
    }

    /// <summary>How many jobs exist (in any status), optionally of one kind.</summary>
    public async Task<long> TotalAsync(string? kind = null) =>
        (await Client.CountAsync(new JobQuery { Kind = kind }).ConfigureAwait(false)).Values.Sum();

    /// <summary>
    /// Asserts that a job of <paramref name="kind"/> exists whose payload (read as <typeparamref name="TPayload"/>)
    /// satisfies <paramref name="match"/>; returns it.
    /// </summary>
    /// <exception cref="TestKitAssertionException">No such job; the message lists the jobs of that kind.</exception>
    public async Task<JobInfo> AssertScheduledAsync<TPayload>(string kind, Func<TPayload, bool>? match = null, JobStatus? status = null)
    {
        var jobs = await JobsAsync(kind, status).ConfigureAwait(false);
        foreach (var job in jobs)
        {
            if (
                match is null
                || (
                    job.Payload.ValueKind != JsonValueKind.Undefined
                    && job.Payload.Deserialize<TPayload>(JsonSerializerOptions.Web) is { } payload
                    && match(payload)
                )
            )
            {
                return job;
            }
        }

        var seen = jobs.Count == 0 ? "none" : string.Join("; ", jobs.Select(j => $"{j.Id} {j.Status} {j.Payload.GetRawText()}"));
        throw new TestKitAssertionException(
            "expected a job of kind "
                + $"'{kind}'{(status is null ? string.Empty : $" in status {status}")}{(match is null ? string.Empty : " matching the predicate")}; "
                + $"jobs of that kind: {seen}"
        );
    }

    /// <summary>Asserts that no job exists (of <paramref name="kind"/>, when given).</summary>
    /// <exception cref="TestKitAssertionException">Some do; the message lists them.</exception>
    public async Task AssertNoneScheduledAsync(string? kind = null)
    {
        var jobs = await JobsAsync(kind).ConfigureAwait(false);
        if (jobs.Count > 0)
        {
            throw new TestKitAssertionException(
                $"expected no jobs{(kind is null ? string.Empty : $" of kind '{kind}'")}, found "
                    + $"{jobs.Count}: {string.Join("; ", jobs.Take(10).Select(j => $"{j.Id} {j.Kind} {j.Status}"))}"
            );
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _node.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _services.DisposeAsync().ConfigureAwait(false);
    }
}
