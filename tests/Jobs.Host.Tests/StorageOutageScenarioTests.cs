using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Jobs.Actors.Hosting;
using Jobs.Client;
using Jobs.Testing;
using Jobs.Testing.Faults;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Host.Tests;

/// <summary>
/// Fault scenario 7 (docs/reliability.md): the database goes away for a while under steady load through the HTTP
/// API. The node must stay up and answer (503 with Retry-After, never a hang or a 500), come back within seconds of
/// the database's return, and lose nothing it acknowledged.
/// </summary>
[Trait("suite", "faults")]
public sealed class StorageOutageScenarioTests
{
    [Fact]
    public async Task Scenario7_PostgresDownUnderSteadyLoad_TheApiAnswers503_TheNodeStaysUp_AndIsBackWithinSeconds()
    {
        var outage = FaultReport.Full ? TimeSpan.FromSeconds(30) : TimeSpan.FromSeconds(12);
        await using var server = await PostgresServer.StartDedicatedAsync();
        var database = await server.CreateDatabaseAsync("outage");
        await using var host = await TestHost.StartAsync(
            extraConfig: $$"""
            jobs.node.name = outage-node
            jobs.persistence { backend = postgresql, postgresql.connection-string = "{{database}}" }
            jobs.defaults { max-attempts = 5, backoff { min = 100ms, max = 1s, jitter = 0 } }
            """
        );
        var node = host.Services.GetRequiredService<JobsNode>();
        var system = node.System!;
        using var http = new HttpClient { BaseAddress = host.Address, Timeout = TimeSpan.FromSeconds(15) };
        var history = new History();
        var clock = Stopwatch.StartNew();
        var answers = new ConcurrentQueue<(TimeSpan At, string What, HttpStatusCode Status, TimeSpan Took, bool RetryAfter)>();
        using var stop = new CancellationTokenSource();

        async Task<HttpStatusCode> SendAsync(string what, HttpRequestMessage request)
        {
            var at = clock.Elapsed;
            var watch = Stopwatch.StartNew();
            using var response = await http.SendAsync(request);
            answers.Enqueue((at, what, response.StatusCode, watch.Elapsed, response.Headers.RetryAfter is not null));
            return response.StatusCode;
        }

        // Steady load: a 50 ms job every 25 ms; and the probes and a read every 250 ms.
        var producing = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var id = "s7-" + i.ToString(CultureInfo.InvariantCulture);
                await PostAsync(id, SendAsync, history);
                await Task.Delay(25);
            }
        });
        var probing = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                foreach (var path in new[] { "/healthz", "/readyz", "/api/v1/counts" })
                {
                    await SendAsync("GET " + path, new HttpRequestMessage(HttpMethod.Get, path));
                }

                await Task.Delay(250);
            }
        });

        await Task.Delay(TimeSpan.FromSeconds(5));
        var stoppedAt = clock.Elapsed;
        await server.StopImmediateAsync();
        history.Add(HistoryKind.Fault, string.Empty, "outage-node", detail: "database stopped");
        await Task.Delay(outage);
        var restartedAt = clock.Elapsed; // from here on the database may answer (starting takes a moment)
        await server.RestartAsync();
        history.Add(HistoryKind.FaultEnded, string.Empty, "outage-node", detail: "database back");
        await Task.Delay(TimeSpan.FromSeconds(8));
        await stop.CancelAsync();
        await Task.WhenAll(producing, probing);

        // Calls that got no definite answer are settled by asking again with the same id (201 or 200: it exists).
        var unsettled = history
            .Events.Where(e => e.Kind == HistoryKind.Unknown)
            .Select(e => e.JobId)
            .Except(history.Events.Where(e => e.Kind == HistoryKind.Acknowledged).Select(e => e.JobId))
            .Distinct()
            .ToList();
        foreach (var id in unsettled)
        {
            for (var attempt = 0; !await PostAsync(id, SendAsync, history); attempt++)
            {
                Assert.True(attempt < 50, $"{id} was never acknowledged after the database came back");
                await Task.Delay(200);
            }
        }

        // Every acknowledged job ran; what ran twice had an attempt in flight while the database was away.
        await history.RecordFinalStatesAsync(host.Client, TimeSpan.FromMinutes(2), info =>
        {
            // Handler starts and ends as the store recorded them (each start is durable before its handler runs).
            foreach (var attempt in info.Attempts)
            {
                history.Add(new HistoryEvent(attempt.StartedAt, HistoryKind.Started, info.Id, "outage-node", attempt.Number));
                if (attempt.EndedAt is { } ended && attempt.Outcome == AttemptOutcome.Succeeded)
                {
                    history.Add(new HistoryEvent(ended, HistoryKind.Finished, info.Id, "outage-node", attempt.Number));
                }
            }
        });
        var check = TotalQueueChecker.Check(history);
        var all = answers.ToList();
        var during = all.Where(a => a.At > stoppedAt + TimeSpan.FromSeconds(1) && a.At + a.Took < restartedAt).ToList();
        var firstBack = all.Where(a => a.What == "POST" && a.At >= restartedAt && a.Status is HttpStatusCode.Created or HttpStatusCode.OK)
            .Select(a => a.At + a.Took - restartedAt)
            .DefaultIfEmpty(TimeSpan.MaxValue)
            .Min();
        var posts503 = during.Count(a => a.What == "POST" && a.Status == HttpStatusCode.ServiceUnavailable);
        FaultReport.Write(
            "7 PostgreSQL down under steady load",
            check,
            $"outage {outage.TotalSeconds:F0} s: {during.Count} calls meanwhile, {posts503} POSTs answered 503, slowest answer "
                + $"{during.Select(a => a.Took.TotalMilliseconds).DefaultIfEmpty().Max():F0} ms; first "
                + $"acknowledged POST {firstBack.TotalSeconds:F1} s after the database was restarted"
        );
        Assert.True(check.Valid, check.ToString());

        // Meanwhile: the node was alive, not ready, and every call that needs the database answered 503 quickly.
        Assert.NotEmpty(during);
        Assert.All(all, a =>
            Assert.True(
                a.Status is HttpStatusCode.OK or HttpStatusCode.Created or HttpStatusCode.ServiceUnavailable,
                $"{a.What} at {a.At.TotalSeconds:F1} s answered {(int)a.Status}"
            )
        );
        Assert.All(all.Where(a => a.What == "GET /healthz"), a => Assert.Equal(HttpStatusCode.OK, a.Status));
        Assert.Contains(during, a => a.What == "GET /readyz" && a.Status == HttpStatusCode.ServiceUnavailable);
        Assert.All(during.Where(a => a.What != "GET /healthz"), a =>
            Assert.True(
                a.Status == HttpStatusCode.ServiceUnavailable && (a.What == "GET /readyz" || a.RetryAfter),
                $"{a.What} at {a.At.TotalSeconds:F1} s answered {(int)a.Status} during the outage"
            )
        );
        Assert.All(during, a => Assert.True(a.Took < TimeSpan.FromSeconds(8), $"{a.What} took {a.Took.TotalSeconds:F1} s during the outage"));
        Assert.True(posts503 >= 5, $"only {posts503} POSTs were answered during the outage");

        // No crash loop: the same actor system ran all along, and the node was back within seconds.
        Assert.Same(system, node.System);
        Assert.False(system.WhenTerminated.IsCompleted);
        Assert.True(
            firstBack < TimeSpan.FromSeconds(10),
            $"the first POST acknowledged after the database was restarted took {firstBack.TotalSeconds:F1} s"
        );
        Assert.All(all.Where(a => a.At > restartedAt + firstBack + TimeSpan.FromSeconds(1)), a =>
            Assert.True(
                a.Status is HttpStatusCode.OK or HttpStatusCode.Created,
                $"{a.What} at {a.At.TotalSeconds:F1} s answered {(int)a.Status} after the database was back"
            )
        );
    }

    /// <summary>POSTs a 50 ms sleep job with id <paramref name="id"/>, recording the call; true when acknowledged (201 new, 200 existing).</summary>
    private static async Task<bool> PostAsync(string id, Func<string, HttpRequestMessage, Task<HttpStatusCode>> send, History history)
    {
        history.Add(HistoryKind.Attempted, id);
        var body = $$"""{"kind":"sleep","payload":{"milliseconds":50},"jobId":"{{id}}"}""";
        try
        {
            var status = await send(
                "POST",
                new HttpRequestMessage(HttpMethod.Post, "/api/v1/jobs") { Content = new StringContent(body, Encoding.UTF8, "application/json") }
            );
            if (status is HttpStatusCode.Created or HttpStatusCode.OK)
            {
                history.Add(HistoryKind.Acknowledged, id);
                return true;
            }

            history.Add(HistoryKind.Unknown, id, detail: ((int)status).ToString(CultureInfo.InvariantCulture));
            return false;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            history.Add(HistoryKind.Unknown, id, detail: ex.Message);
            return false;
        }
    }
}
