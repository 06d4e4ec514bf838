using System.Net;
using System.Net.Http.Json;
using System.Text;
using Jobs.Client;
using Jobs.Client.Http;
using Jobs.Hocon;

namespace Jobs.Host.Tests;

/// <summary>
/// Every row of the bad-input list through a real Kestrel on loopback: the right status, a message naming the
/// problem, and nothing stored.
/// </summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private TestHost _host = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _host = await TestHost.StartAsync(
            extraConfig: """
            jobs.limits { max-payload = 1KiB, max-batch = 5 }
            jobs.http.max-request-size = 64KiB
            """
        );
        _http = new HttpClient { BaseAddress = _host.Address };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _host.DisposeAsync();
    }

    public static TheoryData<string, string, int, string, string?> Cases =>
        new()
        {
            // name, body, status, code, field
            { "unknown kind", """{"kind":"no-such-kind"}""", 400, "invalid-request", "kind" },
            { "missing kind", """{"payload":{}}""", 400, "invalid-request", "kind" },
            { "payload not JSON", """{"kind":"echo","payload": nope}""", 400, "bad-request", null },
            { "payload too deep", $$"""{"kind":"echo","payload":{{new string('[', 100)}}{{new string(']', 100)}}}""", 400, "bad-request", null },
            {
                "payload over the limit",
                """{"kind":"echo","payload":{"text":"X"}}""".Replace("X", new string('x', 2000), StringComparison.Ordinal),
                413,
                "too-large",
                "payload"
            },
            { "NUL in kind", """{"kind":"ec\u0000ho"}""", 400, "invalid-request", "kind" },
            { "NUL in payload", """{"kind":"echo","payload":{"text":"a\u0000b"}}""", 400, "invalid-request", "payload" },
            { "NUL in job id", """{"kind":"echo","jobId":"a\u0000b"}""", 400, "invalid-request", "jobId" },
            { "huge delay", """{"kind":"echo","delaySeconds":1e300}""", 400, "invalid-request", "delaySeconds" },
            { "delay past 100 years", """{"kind":"echo","delaySeconds":1e10}""", 400, "invalid-request", "delaySeconds" },
            { "negative delay", """{"kind":"echo","delaySeconds":-1}""", 400, "invalid-request", "delaySeconds" },
            { "date in year 9999", """{"kind":"echo","runAt":"9999-06-01T00:00:00Z"}""", 400, "invalid-request", "runAt" },
            { "date past year 9999", """{"kind":"echo","runAt":"10000-01-01T00:00:00Z"}""", 400, "bad-request", "runAt" },
            { "runAt and delay", """{"kind":"echo","runAt":"2030-01-01T00:00:00Z","delaySeconds":5}""", 400, "invalid-request", "runAt" },
            { "zero attempts", """{"kind":"echo","maxAttempts":0}""", 400, "invalid-request", "maxAttempts" },
            { "absurd attempts", """{"kind":"echo","maxAttempts":1000000000}""", 400, "invalid-request", "maxAttempts" },
            { "zero timeout", """{"kind":"echo","timeoutSeconds":0}""", 400, "invalid-request", "timeoutSeconds" },
            { "negative timeout", """{"kind":"echo","timeoutSeconds":-3}""", 400, "invalid-request", "timeoutSeconds" },
            { "over-long queue", $$"""{"kind":"echo","queue":"{{new string('q', 100)}}"}""", 400, "invalid-request", "queue" },
            { "odd queue name", """{"kind":"echo","queue":"a b/c"}""", 400, "invalid-request", "queue" },
            { "unknown queue", """{"kind":"echo","queue":"elsewhere"}""", 400, "invalid-request", "queue" },
            { "over-long job id", $$"""{"kind":"echo","jobId":"{{new string('j', 200)}}"}""", 400, "invalid-request", "jobId" },
            { "odd job id", """{"kind":"echo","jobId":"../../etc"}""", 400, "invalid-request", "jobId" },
            { "absurd priority", """{"kind":"echo","priority":2000000000}""", 400, "invalid-request", "priority" },
            { "wrong type", """{"kind":"echo","maxAttempts":"three"}""", 400, "bad-request", "maxAttempts" },
            { "malformed JSON", """{"kind":""", 400, "bad-request", null },
            { "not an object", """[1,2,3]""", 400, "bad-request", null },
            { "over-long unique key", $$"""{"kind":"echo","uniqueKey":"{{new string('k', 300)}}"}""", 400, "invalid-request", "uniqueKey" },
            { "unique key and job id", """{"kind":"echo","uniqueKey":"k","jobId":"j"}""", 400, "invalid-request", "uniqueKey" },
            { "unique period without key", """{"kind":"echo","uniquePeriodSeconds":60}""", 400, "invalid-request", "uniquePeriodSeconds" },
            { "unknown conflict mode", """{"kind":"echo","uniqueKey":"k","onConflict":"merge"}""", 400, "bad-request", "onConflict" },
        };

    public static TheoryData<string, string, string?> RecurringCases =>
        new()
        {
            // name, body, field
            { "invalid cron", """{"kind":"echo","cron":"61 * * * *"}""", "cron" },
            { "cron with too many fields", """{"kind":"echo","cron":"* * * * * * *"}""", "cron" },
            { "cron that never fires", """{"kind":"echo","cron":"0 0 31 2 *"}""", "cron" },
            { "unknown macro", """{"kind":"echo","cron":"@fortnightly"}""", "cron" },
            { "every below a second", """{"kind":"echo","everySeconds":0.1}""", "everySeconds" },
            { "invalid zone", """{"kind":"echo","cron":"@daily","timeZone":"Mars/Olympus"}""", "timeZone" },
            { "zone path traversal", """{"kind":"echo","cron":"@daily","timeZone":"../../etc/passwd"}""", "timeZone" },
            { "cron and every", """{"kind":"echo","cron":"@daily","everySeconds":60}""", "cron" },
            { "no schedule", """{"kind":"echo"}""", "cron" },
            { "unknown named schedule", """{"kind":"echo","named":"nope"}""", "named" },
            { "end before start", """{"kind":"echo","cron":"@daily","startAt":"2030-01-02T00:00:00Z","endAt":"2030-01-01T00:00:00Z"}""", "endAt" },
            { "zero limit", """{"kind":"echo","cron":"@daily","limit":0}""", "limit" },
            { "unknown kind", """{"kind":"nope","cron":"@daily"}""", "kind" },
        };

    [Theory]
    [MemberData(nameof(RecurringCases))]
    public async Task Recurring_BadInput_Is400_NamesTheField_StoresNothing(string name, string body, string? field)
    {
        var response = await _http.PutAsync("/api/v1/recurring/bad-one", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.True(
            response.StatusCode == System.Net.HttpStatusCode.BadRequest,
            $"{name}: got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}"
        );
        var problem = await response.Content.ReadFromJsonAsync<ProblemBody>(JobsWire.Options);
        Assert.Equal(field, problem!.Field);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await _http.GetAsync("/api/v1/recurring/bad-one")).StatusCode);
        Assert.Equal("[]", await _http.GetStringAsync("/api/v1/recurring"));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Schedule_BadInput_RightStatus_NamesTheProblem_StoresNothing(string name, string body, int status, string code, string? field)
    {
        var response = await _http.PostAsync("/api/v1/jobs", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.True(
            status == (int)response.StatusCode,
            $"{name}: expected {status}, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}"
        );
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<ProblemBody>(JobsWire.Options);
        Assert.Equal(code, problem!.Code);
        Assert.Equal(field, problem.Field);
        Assert.False(string.IsNullOrWhiteSpace(problem.Detail));
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task TypeNamesInPayload_AreNeverUsed_PayloadStaysData()
    {
        var body = """{"kind":"echo","payload":{"$type":"System.IO.FileInfo, System.IO.FileSystem","text":"just data"}}""";
        var response = await _http.PostAsync("/api/v1/jobs", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<ScheduleResult>(JobsWire.Options))!.JobId;
        var client = new HttpJobsClient(new HttpClient { BaseAddress = _host.Address }, new HttpJobsClientOptions());
        JobInfo info;
        while ((info = await client.GetAsync(id)).Status is not (JobStatus.Succeeded or JobStatus.Failed))
        {
            await Task.Delay(50);
        }

        Assert.Equal(JobStatus.Succeeded, info.Status);
        Assert.Equal("just data", info.Result!.Value.GetProperty("echo").GetString());
        Assert.Equal("System.IO.FileInfo, System.IO.FileSystem", info.Payload.GetProperty("$type").GetString());
    }

    [Fact]
    public async Task WrongContentType_Is415()
    {
        var response = await _http.PostAsync("/api/v1/jobs", new StringContent("""{"kind":"echo"}""", Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("unsupported-media-type", (await response.Content.ReadFromJsonAsync<ProblemBody>(JobsWire.Options))!.Code);
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task BodyOverTheRequestLimit_Is413()
    {
        var big = """{"kind":"echo","payload":{"text":"X"}}""".Replace("X", new string('x', 100 * 1024), StringComparison.Ordinal);
        var response = await _http.PostAsync("/api/v1/jobs", new StringContent(big, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task BatchOverTheCap_Is413_AndStoresNothing()
    {
        var items = Enumerable.Range(0, 6).Select(i => new { kind = "echo", payload = new { text = $"b{i}" } });
        var response = await _http.PostAsJsonAsync("/api/v1/jobs/batch", items);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<ProblemBody>(JobsWire.Options);
        Assert.Equal("requests", problem!.Field);
        Assert.Contains("at most 5", problem.Detail, StringComparison.Ordinal);
        await AssertNothingStoredAsync();
    }

    [Fact]
    public async Task UnknownAndDestroyedIds_Are404()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync("/api/v1/jobs/never-was")).StatusCode);
        var created = await _http.PostAsJsonAsync(
            "/api/v1/jobs",
            new
            {
                kind = "echo",
                payload = new { text = "x" },
                jobId = "doomed",
                delaySeconds = 3600,
            }
        );
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _http.DeleteAsync("/api/v1/jobs/doomed")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync("/api/v1/jobs/doomed")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _http.PostAsync("/api/v1/jobs/doomed/cancel", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _http.DeleteAsync("/api/v1/jobs/doomed")).StatusCode);
    }

    [Fact]
    public async Task BadQueryParameters_Are400()
    {
        var page = await _http.GetAsync("/api/v1/jobs?limit=100000");
        Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
        Assert.Equal("limit", (await page.Content.ReadFromJsonAsync<ProblemBody>(JobsWire.Options))!.Field);
        var cursor = await _http.GetAsync("/api/v1/jobs?cursor=%25%25");
        Assert.Equal("cursor", (await cursor.Content.ReadFromJsonAsync<ProblemBody>(JobsWire.Options))!.Field);
        var limit = await _http.GetAsync("/api/v1/jobs?limit=abc");
        Assert.Equal(HttpStatusCode.BadRequest, limit.StatusCode);
    }

    private async Task AssertNothingStoredAsync()
    {
        var counts = await _http.GetFromJsonAsync<Dictionary<string, long>>("/api/v1/counts");
        Assert.Equal(0, counts!.Values.Sum());
    }
}

/// <summary>API keys, the refusal to listen remotely without them, and the per-client rate.</summary>
public sealed class SecurityTests
{
    private const string Key = "s3cret-key-for-tests";

    [Fact]
    public async Task ApiKeys_Required_WhenConfigured()
    {
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(Key)));
        await using var host = await TestHost.StartAsync(extraConfig: $$"""jobs.http.auth.api-keys = [ { name = "tests", sha256 = "{{hash}}" } ]""");
        using var http = new HttpClient { BaseAddress = host.Address };

        var none = await http.GetAsync("/api/v1/node");
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("Bearer", none.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal("unauthorized", (await none.Content.ReadFromJsonAsync<ProblemBody>(JobsWire.Options))!.Code);

        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/api/v1/node");
        wrong.Headers.Authorization = new("Bearer", Key + "x");
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(wrong)).StatusCode);

        using var header = new HttpRequestMessage(HttpMethod.Get, "/api/v1/node");
        header.Headers.Add("X-Api-Key", Key);
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(header)).StatusCode);

        var client = new HttpJobsClient(new HttpClient { BaseAddress = host.Address }, new HttpJobsClientOptions { ApiKey = Key });
        Assert.Equal("api-test", (await client.GetNodeAsync()).Node);
        var anonymous = new HttpJobsClient(new HttpClient { BaseAddress = host.Address }, new HttpJobsClientOptions());
        Assert.Equal("unauthorized", (await Assert.ThrowsAsync<JobsException>(() => anonymous.GetNodeAsync())).ErrorCode);
    }

    [Fact]
    public async Task ReadOnlyKey_MayRead_ButNotChange_403()
    {
        const string ReadOnly = "read-only-key";
        string Hash(string key) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(key)));
        await using var host = await TestHost.StartAsync(
            extraConfig: $$"""
            jobs.http.auth.api-keys = [
              { name = "writer", sha256 = "{{Hash(Key)}}" },
              { name = "viewer", sha256 = "{{Hash(ReadOnly)}}", read-only = true }
            ]
            """
        );
        var viewer = new HttpJobsClient(new HttpClient { BaseAddress = host.Address }, new HttpJobsClientOptions { ApiKey = ReadOnly });
        Assert.Equal("api-test", (await viewer.GetNodeAsync()).Node);
        var refused = await Assert.ThrowsAsync<JobsException>(() => viewer.ScheduleAsync(new ScheduleRequest { Kind = "echo" }));
        Assert.Equal("forbidden", refused.ErrorCode);
        Assert.Contains("'viewer' is read-only", refused.Message, StringComparison.Ordinal);
        var writer = new HttpJobsClient(new HttpClient { BaseAddress = host.Address }, new HttpJobsClientOptions { ApiKey = Key });
        Assert.False((await writer.ScheduleAsync(new ScheduleRequest { Kind = "noop" })).AlreadyExisted);
        Assert.Equal(1, (await viewer.CountAsync(new JobQuery())).Values.Sum());
    }

    [Fact]
    public async Task Https_WithAConfiguredCertificate()
    {
        var directory = Directory.CreateTempSubdirectory("jobs-tls-").FullName;
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest(
            "CN=127.0.0.1",
            rsa,
            System.Security.Cryptography.HashAlgorithmName.SHA256,
            System.Security.Cryptography.RSASignaturePadding.Pkcs1
        );
        var names = new System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var pfx = Path.Combine(directory, "node.pfx");
        await File.WriteAllBytesAsync(pfx, certificate.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pfx, "pw"));

        await using var host = await TestHost.StartAsync(
            scheme: "https",
            extraConfig: $$"""jobs.http.https { certificate-path = "{{pfx}}", certificate-password = "pw" }"""
        );
        Assert.Equal("https", host.Address.Scheme);
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) =>
            presented is not null && presented.GetCertHashString() == certificate.GetCertHashString();
        var client = new HttpJobsClient(new HttpClient(handler) { BaseAddress = host.Address }, new HttpJobsClientOptions());
        Assert.Equal("api-test", (await client.GetNodeAsync()).Node);
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public void NonLoopbackListen_WithoutAuth_IsRefused_UnlessAllowedExplicitly()
    {
        var directory = Directory.CreateTempSubdirectory("jobs-listen-").FullName;
        try
        {
            var config = Path.Combine(directory, "node.conf");
            File.WriteAllText(config, "jobs.persistence.backend = memory");
            var error = Assert.Throws<ConfigException>(() => JobsHost.Build(new NodeOptions { ConfigFile = config, Listen = "http://0.0.0.0:0" }));
            Assert.Contains("without authentication", error.Message, StringComparison.Ordinal);
            Assert.Equal("jobs.http.listen", error.Path);

            File.WriteAllText(config, "jobs.persistence.backend = memory\njobs.http.auth.allow-unauthenticated-remote = on");
            using var allowed = (IDisposable)JobsHost.Build(new NodeOptions { ConfigFile = config, Listen = "http://0.0.0.0:0" });
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void HttpSettings_BadValues_NameTheKey()
    {
        var error = Assert.Throws<ConfigException>(() =>
            HttpSettings.FromConfig(ConfigFactory.Load(null, """jobs.http.auth.api-keys = [ { sha256 = "abc" } ]"""))
        );
        Assert.Contains("jobs.http.auth.api-keys[0].sha256", error.Path, StringComparison.Ordinal);
        Assert.True(HttpSettings.IsLoopback("http://localhost:5080;http://[::1]:5081"));
        Assert.False(HttpSettings.IsLoopback("http://*:5080"));
    }

    [Fact]
    public async Task Flood_Gets429_NodeStaysUp_AndRecovers()
    {
        await using var host = await TestHost.StartAsync(extraConfig: "jobs.http { requests-per-second = 5, burst = 5 }");
        using var http = new HttpClient { BaseAddress = host.Address };
        var responses = await Task.WhenAll(Enumerable.Range(0, 60).Select(_ => http.GetAsync("/api/v1/node")));
        var limited = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.InRange(limited.Count, 40, 60);
        Assert.All(limited, r => Assert.Equal(TimeSpan.FromSeconds(1), r.Headers.RetryAfter!.Delta));
        await Task.Delay(1500);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/v1/node")).StatusCode);
    }

    [Fact]
    public async Task SustainedFlood_OfSchedules_KeepsMemoryBounded_NothingStoredPastTheRate()
    {
        await using var host = await TestHost.StartAsync(extraConfig: "jobs.http { requests-per-second = 20, burst = 20 }");
        using var http = new HttpClient { BaseAddress = host.Address };
        var body = """{"kind":"echo","payload":{"text":"X"},"delaySeconds":3600}""".Replace("X", new string('x', 4000), StringComparison.Ordinal);
        async Task<int> FloodAsync(int requests)
        {
            var limited = 0;
            for (var wave = 0; wave < requests / 200; wave++)
            {
                var responses = await Task.WhenAll(
                    Enumerable.Range(0, 200).Select(_ => http.PostAsync("/api/v1/jobs", new StringContent(body, Encoding.UTF8, "application/json")))
                );
                limited += responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests);
                foreach (var response in responses)
                {
                    response.Dispose();
                }
            }

            return limited;
        }

        await FloodAsync(1000); // warm up: JIT, pools, buffers
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var limited = await FloodAsync(6000);
        var after = GC.GetTotalMemory(forceFullCollection: true);
        Assert.InRange(limited, 5000, 6000); // the rate, not the flood, decides what gets in
        Assert.True(after - before < 64L * 1024 * 1024, $"managed memory grew by {(after - before) / 1024 / 1024} MiB over 6,000 rejected requests");
        var scheduled = (await host.Client.CountAsync(new Jobs.Client.JobQuery()))[Jobs.Client.JobStatus.Scheduled];
        Assert.InRange(scheduled, 1, 1000 + 6000 - limited);
    }
}
