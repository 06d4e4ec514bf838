using System.Net;
using System.Text.Json;
using Jobs.Client;
using Jobs.Client.Http;
using Jobs.Hocon;
using Jobs.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Host.Tests;

/// <summary>The HTTP client against a real node: every call, errors as the in-process types, idempotent retries.</summary>
public sealed class RemoteClientTests : IAsyncLifetime
{
    private TestHost _host = null!;

    public async Task InitializeAsync() => _host = await TestHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private HttpJobsClient Client(HttpMessageHandler? handler = null, int retries = 4) =>
        new(
            new HttpClient(handler ?? new SocketsHttpHandler()) { BaseAddress = _host.Address },
            new HttpJobsClientOptions { MaxRetries = retries, RetryDelay = TimeSpan.FromMilliseconds(20) }
        );

    [Fact]
    public async Task Recurring_Unique_AndQueues_OverHttp()
    {
        var client = Client();
        var set = await client.SetRecurringAsync(
            new RecurringScheduleRequest
            {
                Name = "nightly",
                Kind = "echo",
                Cron = "0 3 * * *",
                TimeZone = "Europe/London",
                Payload = JsonSerializer.SerializeToElement(new EchoJob("n")),
                Limit = 5,
                Overlap = OverlapPolicy.QueueOne,
            }
        );
        Assert.Equal("nightly", set.Name);
        Assert.Equal(RecurringState.Active, set.State);
        Assert.Equal(3, TimeZoneInfo.ConvertTime(set.NextOccurrence!.Value, TimeZoneInfo.FindSystemTimeZoneById("Europe/London")).Hour);
        Assert.Equal(OverlapPolicy.QueueOne, (await client.GetRecurringAsync("nightly")).Overlap);
        await client.PauseRecurringAsync("nightly");
        Assert.Equal(RecurringState.Paused, Assert.Single(await client.ListRecurringAsync()).State);
        await client.ResumeRecurringAsync("nightly");
        await client.DeleteRecurringAsync("nightly");
        await Assert.ThrowsAsync<RecurringNotFoundException>(() => client.GetRecurringAsync("nightly"));
        Assert.Equal(
            "cron",
            (
                await Assert.ThrowsAsync<JobValidationException>(() =>
                    client.SetRecurringAsync(
                        new RecurringScheduleRequest
                        {
                            Name = "x",
                            Kind = "echo",
                            Cron = "bad",
                        }
                    )
                )
            ).Field
        );

        var unique = ScheduleRequest.Create("echo", new EchoJob("u")) with { UniqueKey = "remote-key", Delay = TimeSpan.FromHours(1) };
        var first = await client.ScheduleAsync(unique);
        Assert.Equal("u:echo:remote-key", first.JobId);
        Assert.True((await client.ScheduleAsync(unique)).AlreadyExisted);
        var duplicate = await Assert.ThrowsAsync<DuplicateJobException>(() =>
            client.ScheduleAsync(unique with { OnConflict = UniqueConflict.Reject })
        );
        Assert.Equal(first.JobId, duplicate.JobId);
        Assert.True((await client.ScheduleAsync(unique with { OnConflict = UniqueConflict.Replace, Priority = 3 })).Replaced);
        Assert.Equal(3, (await client.GetAsync(first.JobId)).Priority);

        await client.PauseQueueAsync("default");
        Assert.True((await client.ListQueuesAsync()).Single(q => q.Name == "default").Paused);
        await client.ResumeQueueAsync("default");
        Assert.False((await client.ListQueuesAsync()).Single(q => q.Name == "default").Paused);
        Assert.Equal("queue", (await Assert.ThrowsAsync<JobValidationException>(() => client.PauseQueueAsync("nope"))).Field);
    }

    [Fact]
    public async Task ConditionalChanges_Answer412_WhenTheJobChangedSinceItWasRead()
    {
        var client = Client();
        await client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoJob("c")) with { JobId = "conditional", Delay = TimeSpan.FromHours(1) });
        var seen = await client.GetAsync("conditional");
        using var http = new HttpClient { BaseAddress = _host.Address };
        var get = await http.GetAsync("/api/v1/jobs/conditional");
        Assert.Equal(HttpJobsClient.ETag(seen.Revision), get.Headers.ETag!.ToString());

        await client.RescheduleAsync("conditional", DateTimeOffset.UtcNow.AddHours(2), seen.Revision); // at the revision seen: done
        var stale = await Assert.ThrowsAsync<JobPreconditionFailedException>(() => client.CancelAsync("conditional", seen.Revision));
        Assert.Equal(seen.Revision, stale.ExpectedRevision);
        Assert.Equal(seen.Revision + 1, stale.ActualRevision);
        Assert.Equal(JobStatus.Scheduled, (await client.GetAsync("conditional")).Status);
        await Assert.ThrowsAsync<JobPreconditionFailedException>(() => client.DestroyAsync("conditional", seen.Revision));

        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/jobs/conditional/cancel");
        request.Headers.TryAddWithoutValidation("If-Match", HttpJobsClient.ETag(seen.Revision));
        var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.PreconditionFailed, response.StatusCode);
        var malformed = new HttpRequestMessage(HttpMethod.Post, "/api/v1/jobs/conditional/cancel");
        malformed.Headers.TryAddWithoutValidation("If-Match", "yesterday");
        Assert.Equal(HttpStatusCode.BadRequest, (await http.SendAsync(malformed)).StatusCode);

        await client.CancelAsync("conditional", seen.Revision + 1);
        Assert.Equal(JobStatus.Cancelled, (await client.GetAsync("conditional")).Status);
    }

    [Fact]
    public async Task EveryCall_EndToEnd()
    {
        var client = Client();
        var scheduled = await client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoJob("remote")));
        Assert.False(scheduled.AlreadyExisted);
        Assert.Matches("^[0-9a-f]{32}$", scheduled.JobId); // generated by the client
        var done = await WaitForAsync(client, scheduled.JobId, JobStatus.Succeeded);
        Assert.Equal("remote", done.Result!.Value.GetProperty("echo").GetString());
        Assert.Equal(AttemptOutcome.Succeeded, Assert.Single(done.Attempts).Outcome);

        var later = await client.ScheduleAsync(
            ScheduleRequest.Create("echo", new EchoJob("later")) with
            {
                Delay = TimeSpan.FromHours(1),
                Priority = 7,
                JobId = "later-1",
            }
        );
        Assert.Equal("later-1", later.JobId);
        var runAt = DateTimeOffset.UtcNow.AddHours(2);
        await client.RescheduleAsync("later-1", runAt);
        var info = await client.GetAsync("later-1");
        Assert.Equal(JobStatus.Scheduled, info.Status);
        Assert.Equal(runAt.ToUnixTimeMilliseconds(), info.DueAt.ToUnixTimeMilliseconds());
        Assert.Equal(7, info.Priority);

        var page = await client.ListAsync(new JobQuery { Status = JobStatus.Scheduled, Limit = 10 });
        Assert.Equal("later-1", Assert.Single(page.Items).Id);
        var counts = await client.CountAsync(new JobQuery { Kind = "echo" });
        Assert.Equal(1, counts[JobStatus.Succeeded]);
        Assert.Equal(1, counts[JobStatus.Scheduled]);

        await client.CancelAsync("later-1");
        Assert.Equal(JobStatus.Cancelled, (await client.GetAsync("later-1")).Status);
        await client.DestroyAsync("later-1");
        await Assert.ThrowsAsync<JobNotFoundException>(() => client.GetAsync("later-1"));

        var many = await client.ScheduleManyAsync([
            ScheduleRequest.Create("echo", new EchoJob("a")),
            new ScheduleRequest { Kind = "missing" },
            ScheduleRequest.Create("sleep", new SleepJob(1)),
        ]);
        Assert.NotNull(many[0].Result);
        Assert.Equal("kind", Assert.IsType<JobValidationException>(many[1].Error).Field);
        Assert.NotNull(many[2].Result);

        var node = await client.GetNodeAsync();
        Assert.Equal("api-test", node.Node);
    }

    [Fact]
    public async Task Errors_ArriveAsTheInProcessExceptionTypes()
    {
        var client = Client();
        var invalid = await Assert.ThrowsAsync<JobValidationException>(() =>
            client.ScheduleAsync(new ScheduleRequest { Kind = "echo", Timeout = TimeSpan.Zero })
        );
        Assert.Equal("timeout", invalid.Field);
        Assert.StartsWith("timeout: ", invalid.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("timeout: timeout:", invalid.Message, StringComparison.Ordinal);

        var missing = await Assert.ThrowsAsync<JobNotFoundException>(() => client.CancelAsync("nobody"));
        Assert.Equal("nobody", missing.JobId);

        var id = (await client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoJob("x")))).JobId;
        await WaitForAsync(client, id, JobStatus.Succeeded);
        var conflict = await Assert.ThrowsAsync<JobStateConflictException>(() => client.RescheduleAsync(id, DateTimeOffset.UtcNow));
        Assert.Equal(JobStatus.Succeeded, conflict.Status);
        Assert.Equal("reschedule", conflict.Operation);
    }

    [Fact]
    public async Task Schedule_ReplyLost_RetryFindsTheSameJob_NoDuplicate()
    {
        var lossy = new LoseFirstReply(new SocketsHttpHandler());
        var client = Client(lossy);
        var result = await client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoJob("once")));
        Assert.Equal(2, lossy.Sends); // the first reply was lost after the node stored the job
        Assert.False(result.AlreadyExisted); // this call created it
        await WaitForAsync(client, result.JobId, JobStatus.Succeeded);
        var counts = await Client().CountAsync(new JobQuery());
        Assert.Equal(1, counts.Values.Sum());
    }

    [Fact]
    public async Task Cancel_ReplyLost_RetrySucceeds()
    {
        var id = (await Client().ScheduleAsync(ScheduleRequest.Create("echo", new EchoJob("x")) with { Delay = TimeSpan.FromHours(1) })).JobId;
        var lossy = new LoseFirstReply(new SocketsHttpHandler());
        await Client(lossy).CancelAsync(id);
        Assert.Equal(2, lossy.Sends);
        Assert.Equal(JobStatus.Cancelled, (await Client().GetAsync(id)).Status);
    }

    [Fact]
    public async Task NodeDown_NotRetriedForever_ThenNodeUp_RetriesReachIt()
    {
        var port = Ports.Free();
        var options = new HttpJobsClientOptions { MaxRetries = 2, RetryDelay = TimeSpan.FromMilliseconds(10) };
        var down = new HttpJobsClient(new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") }, options);
        var error = await Assert.ThrowsAsync<JobsException>(() => down.GetAsync("x"));
        Assert.Equal("unavailable", error.ErrorCode);
        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);

        // A node that comes up while the client retries (as after a restart) is reached.
        var patient = new HttpJobsClient(
            new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") },
            new HttpJobsClientOptions
            {
                MaxRetries = 50,
                RetryDelay = TimeSpan.FromMilliseconds(100),
                MaxRetryDelay = TimeSpan.FromMilliseconds(200),
            }
        );
        var scheduling = patient.ScheduleAsync(ScheduleRequest.Create("echo", new EchoJob("after restart")));
        await Task.Delay(500);
        await using var late = await TestHost.StartAsync(port);
        var result = await scheduling.WaitAsync(TimeSpan.FromSeconds(30));
        await WaitForAsync(patient, result.JobId, JobStatus.Succeeded);
    }

    [Fact]
    public async Task Registration_WithHttpClientFactory_BindsConfiguration()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["BaseAddress"] = _host.Address.ToString(), ["MaxRetries"] = "1" })
            .Build();
        var services = new ServiceCollection();
        services.AddJobsHttpClient(configuration);
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<IJobsClient>();
        Assert.IsType<HttpJobsClient>(client);
        Assert.Equal(1, provider.GetRequiredService<HttpJobsClientOptions>().MaxRetries);
        var id = (await client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoJob("di")))).JobId;
        await WaitForAsync(client, id, JobStatus.Succeeded);

        // The narrower interfaces are the same client seen through one role each.
        var scheduled = await provider
            .GetRequiredService<IJobSchedulingClient>()
            .ScheduleAsync(ScheduleRequest.Create("echo", new EchoJob("narrow")));
        Assert.Equal("echo", (await provider.GetRequiredService<IJobMonitoringClient>().GetAsync(scheduled.JobId)).Kind);
        Assert.Contains(await provider.GetRequiredService<IJobsAdministrationClient>().ListQueuesAsync(), q => q.Name == "default");
        Assert.Empty(await provider.GetRequiredService<IRecurringJobsClient>().ListRecurringAsync());
    }

    [Fact]
    public async Task Members_AreTheClusterAsTheNodeSeesIt()
    {
        var member = Assert.Single(await Client().GetMembersAsync());
        Assert.Equal(("Up", true, true, true), (member.Status, member.Reachable, member.Self, member.Scheduler));
        Assert.StartsWith("akka.tcp://", member.Address, StringComparison.Ordinal);
        Assert.Equal(0, member.Running);
    }

    [Fact]
    public async Task Registration_OptionsFromAHoconFile()
    {
        var file = Path.Combine(Path.GetTempPath(), $"client-{Guid.NewGuid():N}.conf");
        await File.WriteAllTextAsync(
            file,
            $$"""
            # Option names as the properties of HttpJobsClientOptions; durations as hh:mm:ss.
            jobs.client { BaseAddress = "{{_host.Address}}", MaxRetries = 2, TryTimeout = "00:00:05" }
            """
        );
        try
        {
            var configuration = new ConfigurationBuilder().AddHoconFile(file).Build();
            var services = new ServiceCollection();
            services.AddJobsHttpClient(configuration.GetSection("jobs:client"));
            await using var provider = services.BuildServiceProvider();
            var options = provider.GetRequiredService<HttpJobsClientOptions>();
            Assert.Equal(2, options.MaxRetries);
            Assert.Equal(TimeSpan.FromSeconds(5), options.TryTimeout);
            Assert.Equal("api-test", (await ((HttpJobsClient)provider.GetRequiredService<IJobsClient>()).GetNodeAsync()).Node);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static async Task<JobInfo> WaitForAsync(IJobsClient client, string id, JobStatus status)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        JobInfo info;
        while ((info = await client.GetAsync(id)).Status != status)
        {
            Assert.True(DateTime.UtcNow < deadline, $"job {id} is {info.Status}, not {status}");
            await Task.Delay(50);
        }

        return info;
    }

    /// <summary>Delivers the first request to the node, then loses its reply as a reset connection would.</summary>
    private sealed class LoseFirstReply(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        public int Sends { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (++Sends == 1)
            {
                response.Dispose();
                throw new HttpRequestException(HttpRequestError.ResponseEnded, "the connection was reset before the reply arrived");
            }

            return response;
        }
    }
}
