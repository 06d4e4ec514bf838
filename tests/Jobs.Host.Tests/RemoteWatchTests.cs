using System.Net;
using Jobs.Client;
using Jobs.Client.Http;
using Jobs.Testing;

namespace Jobs.Host.Tests;

/// <summary>Watch over server-sent events: one job to its end, cancellation, stream limits, and a node restart.</summary>
public sealed class RemoteWatchTests
{
    private static HttpJobsClient Client(Uri address, int retries = 4) =>
        new(
            new HttpClient { BaseAddress = address, Timeout = Timeout.InfiniteTimeSpan },
            new HttpJobsClientOptions
            {
                MaxRetries = retries,
                RetryDelay = TimeSpan.FromMilliseconds(50),
                MaxRetryDelay = TimeSpan.FromMilliseconds(300),
            }
        );

    [Fact]
    public async Task WatchOneJob_OverHttp_FromCurrentStateToTheEnd()
    {
        await using var host = await TestHost.StartAsync();
        var client = Client(host.Address);
        var id = (
            await client.ScheduleAsync(ScheduleRequest.Create("fail-n-times", new FailNTimesJob(1)) with { Delay = TimeSpan.FromMilliseconds(500) })
        ).JobId;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var seen = new List<JobTransition>();
        await foreach (var t in client.WatchAsync(new WatchQuery { JobId = id }, timeout.Token))
        {
            seen.Add(t);
        }

        Assert.Equal("current", seen[0].Change);
        Assert.Equal(JobStatus.Scheduled, seen[0].Status);
        Assert.Equal(
            [
                ("started", JobStatus.Running),
                ("attempt-ended", JobStatus.Scheduled),
                ("started", JobStatus.Running),
                ("attempt-ended", JobStatus.Succeeded),
            ],
            seen.Skip(1).Select(t => (t.Change, t.Status))
        );
        Assert.Equal(AttemptOutcome.Failed, seen[2].Outcome);
    }

    [Fact]
    public async Task WatchUnknownJob_Is404_AsJobNotFound()
    {
        await using var host = await TestHost.StartAsync();
        using var http = new HttpClient { BaseAddress = host.Address };
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("api/v1/jobs/nobody/watch")).StatusCode);
        await Assert.ThrowsAsync<JobNotFoundException>(async () =>
        {
            await foreach (var _ in Client(host.Address).WatchAsync(new WatchQuery { JobId = "nobody" })) { }
        });
    }

    [Fact]
    public async Task Cancelling_AWatch_FreesItsStream_ForTheNextWatcher()
    {
        await using var host = await TestHost.StartAsync(extraConfig: "jobs.http { max-streams = 1, stream-keep-alive = 100ms }");
        var client = Client(host.Address, retries: 20);
        using (var first = new CancellationTokenSource())
        {
            var enumerator = client.WatchAsync(new WatchQuery { Kind = "echo" }, first.Token).GetAsyncEnumerator(first.Token);
            var pending = enumerator.MoveNextAsync().AsTask();
            await WaitForOpenStreamAsync(host.Address);

            // The only stream is taken: another watcher is refused with 503.
            using var http = new HttpClient { BaseAddress = host.Address };
            var refused = await http.GetAsync("api/v1/watch");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);

            await first.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
            await enumerator.DisposeAsync();
        }

        // Once the server sees the disconnect, the slot is free again.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        using var again = new HttpClient { BaseAddress = host.Address, Timeout = Timeout.InfiniteTimeSpan };
        HttpResponseMessage response;
        while ((response = await again.GetAsync("api/v1/watch", HttpCompletionOption.ResponseHeadersRead)).StatusCode != HttpStatusCode.OK)
        {
            response.Dispose();
            Assert.True(DateTime.UtcNow < deadline, "the cancelled watch's stream was never released");
            await Task.Delay(100);
        }

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        response.Dispose();
    }

    [Fact]
    public async Task Watch_SurvivesANodeRestart_AndSeesTheJobFinish()
    {
        var port = Ports.Free();
        var directory = Directory.CreateTempSubdirectory("jobs-restart-watch-").FullName;
        var first = await TestHost.StartAsync(port, directory: directory);
        var client = Client(first.Address, retries: 40);
        var id = (
            await client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoJob("after restart")) with { Delay = TimeSpan.FromSeconds(3) })
        ).JobId;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(40));
        var seen = new List<JobTransition>();
        var watching = Task.Run(async () =>
        {
            await foreach (var t in client.WatchAsync(new WatchQuery { JobId = id }, timeout.Token))
            {
                lock (seen)
                {
                    seen.Add(t);
                }
            }
        });
        while (true)
        {
            lock (seen)
            {
                if (seen.Count > 0)
                {
                    break;
                }
            }

            await Task.Delay(20);
        }

        await first.StopAsync(); // the stream breaks; the client reconnects until the node is back
        await Task.Delay(300);
        await using (var second = await TestHost.StartAsync(port, directory: directory))
        {
            await watching.WaitAsync(TimeSpan.FromSeconds(30));
        }

        await first.DisposeAsync();
        Assert.Equal(JobStatus.Succeeded, seen[^1].Status);
        Assert.Equal(2, seen.Count(t => t.Change == "current")); // once at the start, once after reconnecting
    }

    private static async Task WaitForOpenStreamAsync(Uri address)
    {
        using var http = new HttpClient { BaseAddress = address };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var probe = await http.GetAsync("api/v1/watch", HttpCompletionOption.ResponseHeadersRead);
            var status = probe.StatusCode;
            probe.Dispose();
            if (status == HttpStatusCode.ServiceUnavailable)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, "the first watch never opened its stream");
            await Task.Delay(50);
        }
    }
}
