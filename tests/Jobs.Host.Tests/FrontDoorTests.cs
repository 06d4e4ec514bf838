using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Jobs.Client;
using Jobs.Client.Http;
using Jobs.Testing;

namespace Jobs.Host.Tests;

/// <summary>
/// The front door over real HTTP: whatever is accepted can be read back and run, what cannot is refused at the door
/// naming the field, client errors are never 500s, and requests for other host names are refused.
/// </summary>
public sealed class FrontDoorTests : IAsyncLifetime
{
    private TestHost _host = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _host = await TestHost.StartAsync();
        _http = new HttpClient { BaseAddress = _host.Address };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _host.DisposeAsync();
    }

    private Task<HttpResponseMessage> PostJsonAsync(string path, string body) =>
        _http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));

    private static async Task<ProblemBody> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonSerializer.Deserialize<ProblemBody>(text, JobsWire.Options)!;
    }

    [Fact]
    public async Task PayloadTheHandlerCannotReceive_Is400_NamingThePayload_StoresNothing()
    {
        foreach (
            var body in new[]
            {
                """{"kind":"echo"}""", // Echo(string Text) needs its text
                """{"kind":"echo","payload":null}""",
                """{"kind":"echo","payload":{"text":null}}""",
                """{"kind":"echo","payload":{"text":"\ud800"}}""", // a lone surrogate: storable, never showable
                """{"kind":"echo","payload":{"\udc00":"x","text":"a"}}""",
                """{"kind":"sleep","payload":{"milliseconds":"soon"}}""",
            }
        )
        {
            var problem = await ProblemAsync(await PostJsonAsync("/api/v1/jobs", body), HttpStatusCode.BadRequest);
            Assert.Equal("payload", problem.Field);
            Assert.DoesNotContain("Jobs.Host", problem.Detail, StringComparison.Ordinal); // no CLR type names
            Assert.DoesNotContain("nullability annotation", problem.Detail, StringComparison.Ordinal);
        }

        Assert.Empty((await _host.Client.ListAsync(new JobQuery())).Items);
    }

    [Fact]
    public async Task PayloadlessKind_WithoutPayload_IsStored_ReadBack_AndRun()
    {
        var created = await PostJsonAsync("/api/v1/jobs", """{"kind":"noop","jobId":"bare"}""");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var job = await WaitAsync("bare", JobStatus.Succeeded);
        Assert.Equal(JsonValueKind.Object, job.Payload.ValueKind);
        Assert.Equal(1, job.AttemptCount);
        var listed = await _http.GetFromJsonAsync<JobPage>("/api/v1/jobs", JobsWire.Options);
        Assert.Equal("bare", Assert.Single(listed!.Items).Id);
        Assert.Contains("bare", await _http.GetStringAsync("/dashboard/jobs/bare"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RecurringByInterval_WithoutPayload_ListsAndReadsBack()
    {
        var put = await _http.PutAsync(
            "/api/v1/recurring/every15",
            new StringContent("""{"kind":"noop","everySeconds":900}""", Encoding.UTF8, "application/json")
        );
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync("/api/v1/recurring")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync("/api/v1/recurring/every15")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync("/dashboard/recurring")).StatusCode);

        var refused = await _http.PutAsync(
            "/api/v1/recurring/bad",
            new StringContent("""{"kind":"echo","everySeconds":900}""", Encoding.UTF8, "application/json")
        );
        Assert.Equal("payload", (await ProblemAsync(refused, HttpStatusCode.BadRequest)).Field);
    }

    [Fact]
    public async Task InvalidUtf8Body_Is400()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"kind":"echo","payload":{"text":"ab"}}""");
        bytes[Array.LastIndexOf(bytes, (byte)'a')] = 0xFF; // inside the text value
        var response = await _http.PostAsync("/api/v1/jobs", new ByteArrayContent(bytes) { Headers = { ContentType = new("application/json") } });
        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("UTF-8", problem.Detail, StringComparison.Ordinal);
        Assert.Empty((await _host.Client.ListAsync(new JobQuery())).Items);
    }

    [Fact]
    public async Task UnknownProperty_Is400_NamingIt()
    {
        var problem = await ProblemAsync(
            await PostJsonAsync("/api/v1/jobs", """{"kind":"echo","payload":{"text":"a"},"delay":5}"""),
            HttpStatusCode.BadRequest
        );
        Assert.Equal("delay", problem.Field);
        Assert.Contains("'delay'", problem.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(".NET", problem.Detail, StringComparison.Ordinal);
        var recurring = await _http.PutAsync(
            "/api/v1/recurring/typo",
            new StringContent("""{"kind":"noop","everySecond":60}""", Encoding.UTF8, "application/json")
        );
        Assert.Equal("everySecond", (await ProblemAsync(recurring, HttpStatusCode.BadRequest)).Field);
        Assert.Empty((await _host.Client.ListAsync(new JobQuery())).Items);
    }

    [Theory]
    [InlineData("""{"kind":"echo","payload":{"text":"a"},"delaySeconds":-1}""", "delaySeconds")]
    [InlineData("""{"kind":"echo","payload":{"text":"a"},"timeoutSeconds":0}""", "timeoutSeconds")]
    [InlineData("""{"kind":"echo","payload":{"text":"a"},"uniquePeriodSeconds":60}""", "uniquePeriodSeconds")]
    public async Task FieldErrors_UseTheRequestsNames(string body, string field)
    {
        var problem = await ProblemAsync(await PostJsonAsync("/api/v1/jobs", body), HttpStatusCode.BadRequest);
        Assert.Equal(field, problem.Field);
        Assert.StartsWith(field + ": ", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FrameworkBindingErrors_SayWhatIsWrong_WithoutFrameworkText()
    {
        var noBody = await ProblemAsync(await _http.PostAsync("/api/v1/jobs", null), HttpStatusCode.BadRequest);
        Assert.Equal("the request needs a JSON body", noBody.Detail);
        var limit = await ProblemAsync(await _http.GetAsync("/api/v1/jobs?limit=abc"), HttpStatusCode.BadRequest);
        Assert.Equal("limit", limit.Field);
        Assert.DoesNotContain("Nullable", limit.Detail, StringComparison.Ordinal);
        var wrongType = await ProblemAsync(
            await PostJsonAsync("/api/v1/jobs", """{"kind":"echo","maxAttempts":"three"}"""),
            HttpStatusCode.BadRequest
        );
        Assert.DoesNotContain("System.", wrongType.Detail, StringComparison.Ordinal);
        Assert.Equal("maxAttempts", wrongType.Field);
    }

    [Fact]
    public async Task BatchWithNullItem_ReportsThatItem_AndSchedulesTheRest()
    {
        var response = await PostJsonAsync("/api/v1/jobs/batch", """[{"kind":"echo","payload":{"text":"a"},"jobId":"b0"},null]""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var items = (await response.Content.ReadFromJsonAsync<BatchItem[]>(JobsWire.Options))!;
        Assert.Equal("b0", items[0].Result!.JobId);
        Assert.Null(items[1].Result);
        Assert.Equal("item", items[1].Error!.Field);
        Assert.Equal(400, items[1].Error!.Status);
    }

    [Fact]
    public async Task SameIdWithAnotherKind_Is409_WithTheExistingKind()
    {
        Assert.Equal(
            HttpStatusCode.Created,
            (await PostJsonAsync("/api/v1/jobs", """{"kind":"echo","payload":{"text":"a"},"jobId":"taken"}""")).StatusCode
        );
        var problem = await ProblemAsync(await PostJsonAsync("/api/v1/jobs", """{"kind":"noop","jobId":"taken"}"""), HttpStatusCode.Conflict);
        Assert.Equal("job-id-conflict", problem.Code);
        Assert.Equal("echo", problem.ExistingKind);
        Assert.Equal("noop", problem.RequestedKind);
        Assert.Equal(
            HttpStatusCode.OK,
            (await PostJsonAsync("/api/v1/jobs", """{"kind":"echo","payload":{"text":"b"},"jobId":"taken"}""")).StatusCode
        );

        // In a batch too, and through the HTTP client as a typed exception.
        var items = await (await PostJsonAsync("/api/v1/jobs/batch", """[{"kind":"noop","jobId":"taken"}]""")).Content.ReadFromJsonAsync<BatchItem[]>(
            JobsWire.Options
        );
        Assert.Equal("job-id-conflict", items![0].Error!.Code);
        var client = new HttpJobsClient(new HttpClient { BaseAddress = _host.Address }, new HttpJobsClientOptions());
        var ex = await Assert.ThrowsAsync<JobKindConflictException>(() =>
            client.ScheduleAsync(new ScheduleRequest { Kind = "noop", JobId = "taken" })
        );
        Assert.Equal("echo", ex.ExistingKind);
        Assert.Equal("echo", (await _host.Client.GetAsync("taken")).Kind);
    }

    [Fact]
    public async Task DashboardJobPage_ForAPathLikeId_Is404Page()
    {
        var response = await _http.GetAsync("/dashboard/jobs/..%2F..%2Fetc%2Fpasswd");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("<html", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LastError_IsClearedByALaterSuccess_AttemptsKeepTheirErrors()
    {
        await _host.Client.ScheduleAsync(ScheduleRequest.Create("fail-n-times", new FailNTimesJob(1)) with { JobId = "flaky" });
        var job = await WaitAsync("flaky", JobStatus.Succeeded);
        Assert.Null(job.LastError);
        Assert.NotNull(job.Attempts[0].Error);
    }

    [Theory]
    [InlineData("/api/v1/jobs")]
    [InlineData("/dashboard")]
    [InlineData("/metrics")]
    public async Task ForeignHostHeader_IsRefused_ProbesStayOpen(string path)
    {
        // A page on evil.example whose name was rebound to 127.0.0.1 sends "Host: evil.example".
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Host = "evil.example";
        var response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.MisdirectedRequest, response.StatusCode);
        Assert.Contains("jobs.http.allowed-hosts", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var local = new HttpRequestMessage(HttpMethod.Get, path);
        local.Headers.Host = "localhost:" + _host.Address.Port;
        Assert.NotEqual(HttpStatusCode.MisdirectedRequest, (await _http.SendAsync(local)).StatusCode);
        var probe = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        probe.Headers.Host = "evil.example";
        Assert.Equal(HttpStatusCode.OK, (await _http.SendAsync(probe)).StatusCode);
    }

    [Fact]
    public async Task AllowedHosts_LetsConfiguredNamesIn()
    {
        await using var host = await TestHost.StartAsync(extraConfig: """jobs.http.allowed-hosts = ["jobs.internal", "*.example.com"]""");
        using var http = new HttpClient { BaseAddress = host.Address };
        foreach (
            var (name, allowed) in new[]
            {
                ("jobs.internal", true),
                ("a.example.com", true),
                ("example.com", false),
                ("127.0.0.1", false),
                ("evil.example", false),
            }
        )
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/counts");
            request.Headers.Host = name;
            Assert.True(allowed == ((await http.SendAsync(request)).StatusCode == HttpStatusCode.OK), name);
        }
    }

    [Fact]
    public async Task AttackerChosenCsrfPair_IsRefused_RealTokenWorks()
    {
        await _host.Client.ScheduleAsync(
            ScheduleRequest.Create("sleep", new SleepJob(60_000)) with
            {
                JobId = "victim",
                Delay = TimeSpan.FromHours(1),
            }
        );
        var cookies = new CookieContainer();
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false })
        {
            BaseAddress = _host.Address,
        };

        // The old double-submit accepted any equal cookie and field: a cookie planted from a sibling site did it.
        var planted = new string('A', 43);
        cookies.Add(new Uri(_host.Address, "/dashboard/"), new Cookie("jobs_csrf", planted, "/dashboard"));
        var forged = await browser.PostAsync("/dashboard/jobs/victim/cancel", new FormUrlEncodedContent([KeyValuePair.Create("csrf", planted)]));
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        Assert.Equal(JobStatus.Scheduled, (await _host.Client.GetAsync("victim")).Status);

        // The token the page gives this browser (signed for its id) is accepted.
        var page = await browser.GetStringAsync("/dashboard/jobs/victim");
        var token = System.Text.RegularExpressions.Regex.Match(page, "name=\"csrf\" value=\"([^\"]+)\"").Groups[1].Value;
        Assert.NotEqual(planted, token);
        var real = await browser.PostAsync("/dashboard/jobs/victim/cancel", new FormUrlEncodedContent([KeyValuePair.Create("csrf", token)]));
        Assert.Equal(HttpStatusCode.Redirect, real.StatusCode);
        Assert.Equal(JobStatus.Cancelled, (await _host.Client.GetAsync("victim")).Status);
    }

    [Fact]
    public void HttpGetSample_RefusesLinkLocalAndMetadataAddresses()
    {
        foreach (
            var address in new[]
            {
                "169.254.169.254",
                "169.254.0.1",
                "fe80::1",
                "fd00:ec2::254",
                "100.100.100.200",
                "0.0.0.0",
                "::ffff:169.254.169.254",
            }
        )
        {
            Assert.False(SampleNetwork.IsAllowed(IPAddress.Parse(address)), address);
        }

        foreach (var address in new[] { "127.0.0.1", "10.1.2.3", "93.184.216.34", "::1", "2606:2800:220:1::1" })
        {
            Assert.True(SampleNetwork.IsAllowed(IPAddress.Parse(address)), address);
        }
    }

    [Fact]
    public async Task HttpGetSample_ToTheMetadataAddress_FailsWithoutConnecting()
    {
        await _host.Client.ScheduleAsync(
            ScheduleRequest.Create("http-get", new HttpGetJob("http://169.254.169.254/latest/meta-data/")) with
            {
                JobId = "ssrf",
                MaxAttempts = 1,
            }
        );
        var job = await WaitAsync("ssrf", JobStatus.Failed);
        Assert.Contains("link-local", job.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StorageDown_ApiAnswers503_WithRetryAfter_WithinSeconds()
    {
        await using var server = await PostgresServer.StartDedicatedAsync();
        var connection = await server.CreateDatabaseAsync("door");
        await using var host = await TestHost.StartAsync(
            extraConfig: $$"""jobs.persistence { backend = postgresql, postgresql.connection-string = "{{connection}}" }"""
        );
        using var http = new HttpClient { BaseAddress = host.Address };
        await host.Client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoJob("before")) with { JobId = "before" });
        await server.StopImmediateAsync();

        foreach (
            var (method, path, body) in new[]
            {
                ("GET", "/api/v1/counts", (string?)null),
                ("GET", "/api/v1/jobs", null),
                ("GET", "/api/v1/jobs/never-seen", null),
                ("POST", "/api/v1/jobs", """{"kind":"echo","payload":{"text":"during"},"jobId":"during"}"""),
            }
        )
        {
            var watch = Stopwatch.StartNew();
            var request = new HttpRequestMessage(new HttpMethod(method), path)
            {
                Content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json"),
            };
            var response = await http.SendAsync(request);
            watch.Stop();
            var problem = await ProblemAsync(response, HttpStatusCode.ServiceUnavailable);
            Assert.Equal("storage-failure", problem.Code);
            Assert.True(response.Headers.RetryAfter is not null, $"{method} {path}: no Retry-After");
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(8), $"{method} {path} took {watch.Elapsed}");
        }

        var dashboard = await http.GetAsync("/dashboard/jobs");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, dashboard.StatusCode);
        Assert.Contains("Storage unavailable", await dashboard.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        await server.RestartAsync();
        for (var i = 0; (await http.GetAsync("/api/v1/jobs/before")).StatusCode != HttpStatusCode.OK; i++)
        {
            Assert.True(i < 100, "the API did not answer after the database came back");
            await Task.Delay(100);
        }
    }

    private async Task<JobInfo> WaitAsync(string id, JobStatus status)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var job = await _host.Client.GetAsync(id);
            if (job.Status == status)
            {
                return job;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{id} is {job.Status}, not {status}");
            await Task.Delay(50);
        }
    }
}
