using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Jobs.Actors.Hosting;
using Jobs.Client;
using Jobs.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Host.Tests;

/// <summary>Metrics after a known workload (/metrics), trace continuity from Schedule to attempts, OTLP export, and the probes.</summary>
public sealed class ObservabilityTests
{
    private static async Task<JobInfo> WaitAsync(IJobsClient client, string id, Func<JobInfo, bool> done, string what)
    {
        for (var i = 0; i < 300; i++)
        {
            var info = await client.GetAsync(id);
            if (done(info))
            {
                return info;
            }

            await Task.Delay(50);
        }

        var last = await client.GetAsync(id);
        throw new TimeoutException($"{id} did not become {what}: {last.Status}, attempts {string.Join("; ", last.Attempts)}");
    }

    /// <summary>The samples of a scrape, by series ("name{labels}").</summary>
    private static Dictionary<string, double> Parse(string scrape)
    {
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        var typed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in scrape.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                typed.Add(line.Split(' ')[2]);
                continue;
            }

            if (line.StartsWith('#'))
            {
                continue;
            }

            var space = line.LastIndexOf(' ');
            var series = line[..space];
            var name = series.Split('{')[0];
            Assert.True(
                typed.Contains(name) || typed.Any(t => name.StartsWith(t + "_", StringComparison.Ordinal)),
                $"sample without a TYPE line: {line}"
            );
            samples[series] = double.Parse(line[(space + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture);
        }

        return samples;
    }

    /// <summary>The sum of a metric's series whose labels contain every one of <paramref name="labels"/>.</summary>
    private static double Sum(Dictionary<string, double> samples, string name, params string[] labels) =>
        samples.Where(s => s.Key.Split('{')[0] == name && labels.All(l => s.Key.Contains(l, StringComparison.Ordinal))).Sum(s => s.Value);

    [Fact]
    public async Task Metrics_AfterAKnownWorkload_CountEveryOutcome()
    {
        await using var host = await TestHost.StartAsync(extraConfig: "jobs.telemetry.gauge-interval = 50ms");
        var client = host.Client;
        using var http = new HttpClient { BaseAddress = host.Address };

        // A long job first, to see the running gauge.
        await client.ScheduleAsync(ScheduleRequest.Create("sleep", new SleepJob(60_000)) with { JobId = "m-long" });
        await WaitAsync(client, "m-long", j => j.Status == JobStatus.Running, "running");
        for (var i = 0; ; i++)
        {
            var running = Sum(Parse(await http.GetStringAsync("/metrics")), "jobs_running", "job_queue=\"default\"");
            if (running == 1)
            {
                break;
            }

            Assert.True(i < 100, $"the running gauge stayed at {running}");
            await Task.Delay(50);
        }

        foreach (var i in Enumerable.Range(0, 3))
        {
            await client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoJob("m" + i)) with { JobId = "m-echo-" + i });
        }

        await client.ScheduleAsync(ScheduleRequest.Create("fail-n-times", new FailNTimesJob(1)) with { JobId = "m-retry", MaxAttempts = 3 });
        await client.ScheduleAsync(ScheduleRequest.Create("fail-n-times", new FailNTimesJob(5)) with { JobId = "m-fail", MaxAttempts = 2 });
        await client.ScheduleAsync(
            ScheduleRequest.Create("sleep", new SleepJob(30_000)) with
            {
                JobId = "m-timeout",
                Timeout = TimeSpan.FromMilliseconds(200),
            }
        );
        foreach (var id in new[] { "m-echo-0", "m-echo-1", "m-echo-2", "m-retry" })
        {
            await WaitAsync(client, id, j => j.Status == JobStatus.Succeeded, "succeeded");
        }

        await WaitAsync(client, "m-fail", j => j.Status == JobStatus.Failed, "failed");
        await WaitAsync(client, "m-timeout", j => j.Status == JobStatus.Failed, "failed");
        await client.CancelAsync("m-long");
        await WaitAsync(client, "m-long", j => j.Status == JobStatus.Cancelled, "cancelled");

        var response = await http.GetAsync("/metrics");
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        var samples = Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(7, Sum(samples, "jobs_scheduled_total"));
        Assert.Equal(3, Sum(samples, "jobs_scheduled_total", "job_kind=\"echo\"", "job_queue=\"default\""));
        // Attempts: 1 long + 3 echo + 2 m-retry + 2 m-fail + 4 m-timeout (timeouts have their own budget,
        // jobs.defaults.max-timeout-retries = 3, so 1 + 3 attempts; each retry counts as retried).
        Assert.Equal(12, Sum(samples, "jobs_started_total"));
        Assert.Equal(4, Sum(samples, "jobs_succeeded_total"));
        Assert.Equal(5, Sum(samples, "jobs_retried_total"));
        Assert.Equal(2, Sum(samples, "jobs_failed_total"));
        Assert.Equal(4, Sum(samples, "jobs_timed_out_total"));
        Assert.Equal(1, Sum(samples, "jobs_cancelled_total"));
        Assert.Equal(0, Sum(samples, "jobs_recovered_total"));
        Assert.Equal(12, Sum(samples, "jobs_start_delay_milliseconds_count"));
        Assert.Equal(3, Sum(samples, "jobs_attempt_duration_milliseconds_count", "job_kind=\"echo\"", "job_outcome=\"Succeeded\""));
        Assert.Equal(3, Sum(samples, "jobs_attempts_total", "job_outcome=\"Failed\""));
        Assert.Equal(4, Sum(samples, "jobs_attempts_total", "job_outcome=\"TimedOut\""));
        Assert.Equal(1, Sum(samples, "jobs_attempts_total", "job_outcome=\"Cancelled\""));

        // Buckets are cumulative and end at the count.
        var timeout = samples
            .Where(s =>
                s.Key.StartsWith("jobs_attempt_duration_milliseconds_bucket{", StringComparison.Ordinal)
                && s.Key.Contains("job_outcome=\"TimedOut\"", StringComparison.Ordinal)
            )
            .Select(s => s.Value)
            .ToList();
        Assert.Equal(timeout.Order(), timeout);
        Assert.Equal(
            4,
            samples
                .Single(s =>
                    s.Key.Contains("job_outcome=\"TimedOut\"", StringComparison.Ordinal)
                    && s.Key.Contains("le=\"+Inf\"", StringComparison.Ordinal)
                    && s.Key.StartsWith("jobs_attempt_duration", StringComparison.Ordinal)
                )
                .Value
        );
        Assert.Equal(
            0,
            samples
                .Single(s =>
                    s.Key.StartsWith("jobs_attempt_duration_milliseconds_bucket{", StringComparison.Ordinal)
                    && s.Key.Contains("job_outcome=\"TimedOut\"", StringComparison.Ordinal)
                    && s.Key.Contains("le=\"100\"", StringComparison.Ordinal)
                )
                .Value
        );
        Assert.All(samples.Keys, k => Assert.Contains("jobs_node=\"api-test\"", k, StringComparison.Ordinal));

        // The running gauge drops once the long job has ended.
        for (var i = 0; Sum(Parse(await http.GetStringAsync("/metrics")), "jobs_running") != 0; i++)
        {
            Assert.True(i < 100, "the running gauge did not drop to 0");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Metrics_OfTwoNodesInOneProcess_DoNotMix()
    {
        await using var first = await TestHost.StartAsync();
        await using var second = await TestHost.StartAsync();
        await first.Client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoJob("one")) with { JobId = "mix-1" });
        await WaitAsync(first.Client, "mix-1", j => j.Status == JobStatus.Succeeded, "succeeded");
        using var http = new HttpClient();
        Assert.Equal(1, Sum(Parse(await http.GetStringAsync(new Uri(first.Address, "metrics"))), "jobs_succeeded_total"));
        Assert.Equal(0, Sum(Parse(await http.GetStringAsync(new Uri(second.Address, "metrics"))), "jobs_succeeded_total"));
    }

    [Fact]
    public async Task Metrics_WithApiKeys_NeedAKey()
    {
        const string key = "metrics-key-0123456789";
        var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(key)));
        await using var host = await TestHost.StartAsync(
            extraConfig: $$"""jobs.http.auth.api-keys = [{ name = scraper, sha256 = "{{hash}}", read-only = on }]"""
        );
        using var http = new HttpClient { BaseAddress = host.Address };
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode); // probes need no key
        http.DefaultRequestHeaders.Authorization = new("Bearer", key);
        Assert.Contains("# TYPE jobs_scheduled_total counter", await http.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Traces_AttemptContinuesTheScheduleSpan_ThroughTheStoredContext()
    {
        using var caller = new ActivitySource("Jobs.Tests.Caller");
        using var recorder = new ActivityRecorder(JobsTelemetry.Name, caller.Name);
        await using var host = await TestHost.StartAsync();
        var id = "traced-" + Guid.NewGuid().ToString("N");
        ActivityTraceId callerTrace;
        using (var request = caller.StartActivity("incoming request"))
        {
            callerTrace = request!.TraceId;

            // Fails once, so two attempts continue the same trace.
            await host.Client.ScheduleAsync(ScheduleRequest.Create("fail-n-times", new FailNTimesJob(1)) with { JobId = id, MaxAttempts = 2 });
        }

        await WaitAsync(host.Client, id, j => j.Status == JobStatus.Succeeded, "succeeded");
        Activity[] attempts = [];
        for (var i = 0; i < 100 && attempts.Length < 2; i++)
        {
            attempts = [.. recorder.OfJobs(id).Where(a => a.OperationName == "job fail-n-times")];
            await Task.Delay(20);
        }

        var schedule = Assert.Single(recorder.OfJobs(id), a => a.OperationName == "schedule fail-n-times");
        Assert.Equal(ActivityKind.Producer, schedule.Kind);
        Assert.Equal(callerTrace, schedule.TraceId); // the caller's trace goes on
        Assert.Equal(2, attempts.Length);
        Assert.All(attempts, attempt =>
        {
            Assert.Equal(ActivityKind.Consumer, attempt.Kind);
            Assert.Equal(schedule.TraceId, attempt.TraceId);
            Assert.Equal(schedule.SpanId, attempt.ParentSpanId);
            var link = Assert.Single(attempt.Links);
            Assert.Equal(schedule.SpanId, link.Context.SpanId);
        });
        Assert.Contains(attempts, a => a.Status == ActivityStatusCode.Error);
        Assert.Contains(attempts, a => a.Status != ActivityStatusCode.Error);
    }

    [Fact]
    public async Task Traces_OverTheRemoteApi_ContinueTheCallersTrace()
    {
        using var caller = new ActivitySource("Jobs.Tests.RemoteCaller");
        using var recorder = new ActivityRecorder(JobsTelemetry.Name, caller.Name);
        await using var host = await TestHost.StartAsync();
        var client = new Jobs.Client.Http.HttpJobsClient(new HttpClient { BaseAddress = host.Address }, new Jobs.Client.Http.HttpJobsClientOptions());
        var id = "remote-traced-" + Guid.NewGuid().ToString("N");
        ActivityTraceId callerTrace;
        using (var request = caller.StartActivity("client operation"))
        {
            callerTrace = request!.TraceId;
            await client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoJob("remote")) with { JobId = id }); // traceparent header
        }

        await WaitAsync(host.Client, id, j => j.Status == JobStatus.Succeeded, "succeeded");
        Activity? attempt = null;
        for (var i = 0; i < 100 && attempt is null; i++)
        {
            attempt = recorder.OfJobs(id).FirstOrDefault(a => a.OperationName == "job echo");
            await Task.Delay(20);
        }

        var schedule = Assert.Single(recorder.OfJobs(id), a => a.OperationName == "schedule echo");
        Assert.Equal(callerTrace, schedule.TraceId);
        Assert.NotNull(attempt);
        Assert.Equal(callerTrace, attempt.TraceId);
        Assert.Equal(schedule.SpanId, attempt.ParentSpanId);
    }

    [Fact]
    public async Task Otlp_OverHttp_ExportsSpansAndMetrics()
    {
        var bodies = new ConcurrentQueue<(string Path, byte[] Body)>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var collector = builder.Build();
        collector.MapPost("/v1/{signal}", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            bodies.Enqueue((context.Request.Path, body.ToArray()));
            context.Response.ContentType = "application/x-protobuf";
        });
        await collector.StartAsync();
        var address = collector.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();

        var id = "otlp-" + Guid.NewGuid().ToString("N");
        await using (
            var host = await TestHost.StartAsync(
                extraConfig: $$"""
                jobs.telemetry.otlp {
                  endpoint = "{{address}}", protocol = "http/protobuf", export-interval = 200ms, service-name = "jobs-otlp-test"
                }
                """
            )
        )
        {
            await host.Client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoJob("exported")) with { JobId = id });
            await WaitAsync(host.Client, id, j => j.Status == JobStatus.Succeeded, "succeeded");
            var deadline = DateTime.UtcNow.AddSeconds(30); // a starved machine exports late
            while (DateTime.UtcNow < deadline && !(Has("/v1/traces", id) && Has("/v1/metrics", "jobs.succeeded")))
            {
                await Task.Delay(50);
            }
        }

        Assert.True(Has("/v1/traces", id), "no exported span carried the job id");
        Assert.True(Has("/v1/traces", "schedule echo") && Has("/v1/traces", "job echo"), "the schedule and attempt spans were not exported");
        Assert.True(Has("/v1/metrics", "jobs.succeeded"), "the jobs.succeeded counter was not exported");
        Assert.True(Has("/v1/metrics", "jobs-otlp-test"), "the resource's service.name was not exported");

        // Protobuf strings are raw UTF-8, so a value is found as its bytes.
        bool Has(string path, string text) => bodies.Any(b => b.Path == path && b.Body.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0);
    }

    [Fact]
    public async Task Probes_OnAHealthyNode_ListEveryCheck()
    {
        await using var host = await TestHost.StartAsync(extraConfig: "jobs.queues { default { workers = 2 }, mail { workers = 1 } }");
        using var http = new HttpClient { BaseAddress = host.Address };
        Assert.Equal("live\n", await http.GetStringAsync("/healthz"));
        var ready = await http.GetAsync("/readyz");
        var body = await ready.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("ready\nnode: ok\ncluster: ok\njournal: ok\nscheduler: ok\npool:default: ok\npool:mail: ok\n", body);
        Assert.Equal(body, await http.GetStringAsync("/health/ready"));
        Assert.Equal("live\n", await http.GetStringAsync("/health/live"));
    }

    [Fact]
    public async Task Probes_WithPostgresStopped_AreNotReady_AndRecover()
    {
        await using var server = await PostgresServer.StartDedicatedAsync();
        var connection = await server.CreateDatabaseAsync("health");
        await using var host = await TestHost.StartAsync(
            extraConfig: $$"""jobs.persistence { backend = postgresql, postgresql.connection-string = "{{connection}}" }"""
        );
        using var http = new HttpClient { BaseAddress = host.Address };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);

        await server.StopImmediateAsync();
        var down = await http.GetAsync("/readyz");
        var body = await down.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        Assert.StartsWith("not ready\n", body, StringComparison.Ordinal);
        Assert.Contains("journal: failing (", body, StringComparison.Ordinal);
        Assert.Contains("scheduler: ok", body, StringComparison.Ordinal);
        Assert.DoesNotContain("Password", body, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode); // alive: a restart would not help

        await server.RestartAsync();
        for (var i = 0; (await http.GetAsync("/readyz")).StatusCode != HttpStatusCode.OK; i++)
        {
            Assert.True(i < 100, "the node did not become ready after the database came back");
            await Task.Delay(100);
        }

        await host.Client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoJob("after")) with { JobId = "after-outage" });
        await WaitAsync(host.Client, "after-outage", j => j.Status == JobStatus.Succeeded, "succeeded");
    }
}
