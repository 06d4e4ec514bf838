using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Jobs.Host.Tests;

/// <summary>The stock node over real HTTP on loopback: sample handlers, the v1 API, and its errors.</summary>
public sealed class HostApiTests : IAsyncLifetime
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

    [Fact]
    public async Task Schedule_Echo_Created_ThenSucceeds_WithResult()
    {
        var response = await _http.PostAsJsonAsync("/api/v1/jobs", new { kind = "echo", payload = new { text = "over http" } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("jobId").GetString()!;
        Assert.Equal($"/api/v1/jobs/{id}", response.Headers.Location!.OriginalString);

        var job = await WaitForStatusAsync(id, "succeeded");
        Assert.Equal("over http", job.GetProperty("result").GetProperty("echo").GetString());
        Assert.Equal("api-test", job.GetProperty("startedBy").GetString());
    }

    [Fact]
    public async Task Schedule_SameJobId_Twice_SecondIsOk_AlreadyExisted()
    {
        var body = new
        {
            kind = "echo",
            jobId = "fixed-id",
            payload = new { text = "x" },
        };
        Assert.Equal(HttpStatusCode.Created, (await _http.PostAsJsonAsync("/api/v1/jobs", body)).StatusCode);
        var again = await _http.PostAsJsonAsync("/api/v1/jobs", body);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.True((await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("alreadyExisted").GetBoolean());
    }

    [Fact]
    public async Task FailNTimes_RetriesThenSucceeds_AttemptsVisible()
    {
        var response = await _http.PostAsJsonAsync("/api/v1/jobs", new { kind = "fail-n-times", payload = new { times = 2 } });
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("jobId").GetString()!;
        var job = await WaitForStatusAsync(id, "succeeded");
        var outcomes = job.GetProperty("attempts").EnumerateArray().Select(a => a.GetProperty("outcome").GetString()!).ToArray();
        Assert.Equal(["failed", "failed", "succeeded"], outcomes);
        Assert.Contains("failing on purpose", job.GetProperty("attempts")[0].GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HttpGet_Sample_FetchesAUrl()
    {
        var url = new Uri(_http.BaseAddress!, "/api/v1/node").ToString();
        var response = await _http.PostAsJsonAsync("/api/v1/jobs", new { kind = "http-get", payload = new { url } });
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("jobId").GetString()!;
        var job = await WaitForStatusAsync(id, "succeeded");
        Assert.Equal(200, job.GetProperty("result").GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Cancel_Delayed_ThenConflictOnSecondCancel_ListAndCountByStatus()
    {
        var response = await _http.PostAsJsonAsync(
            "/api/v1/jobs",
            new
            {
                kind = "sleep",
                payload = new { milliseconds = 1 },
                delaySeconds = 3600,
            }
        );
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("jobId").GetString()!;
        Assert.Equal("scheduled", (await GetAsync(id)).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.NoContent, (await _http.PostAsync($"/api/v1/jobs/{id}/cancel", null)).StatusCode);

        var conflict = await _http.PostAsync($"/api/v1/jobs/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        var problem = await conflict.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("job-state-conflict", problem.GetProperty("code").GetString());

        var page = await _http.GetFromJsonAsync<JsonElement>("/api/v1/jobs?status=cancelled");
        Assert.Contains(page.GetProperty("items").EnumerateArray(), i => i.GetProperty("id").GetString() == id);
        var badStatus = await _http.GetAsync("/api/v1/jobs?status=done");
        Assert.Equal(HttpStatusCode.BadRequest, badStatus.StatusCode);
        Assert.Equal("status", (await badStatus.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        var counts = await _http.GetFromJsonAsync<JsonElement>("/api/v1/counts");
        Assert.Equal(1, counts.GetProperty("cancelled").GetInt32());
    }

    [Fact]
    public async Task Errors_AreProblemDetails_NamingTheProblem()
    {
        var unknown = await _http.PostAsJsonAsync("/api/v1/jobs", new { kind = "nope" });
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType!.MediaType);
        var problem = await unknown.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("kind", problem.GetProperty("field").GetString());
        Assert.Contains("'nope'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var malformed = await _http.PostAsync("/api/v1/jobs", new StringContent("{\"kind\":", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        var bad = await malformed.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("bad-request", bad.GetProperty("code").GetString());
        Assert.Contains("not valid JSON", bad.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var missing = await _http.GetAsync("/api/v1/jobs/does-not-exist");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("job-not-found", (await missing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());

        var delay = await _http.PostAsJsonAsync("/api/v1/jobs", new { kind = "echo", delaySeconds = -5 });
        Assert.Equal("delaySeconds", (await delay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        Assert.Equal(0, (await _http.GetFromJsonAsync<JsonElement>("/api/v1/counts")).EnumerateObject().Sum(p => p.Value.GetInt32()));
    }

    [Fact]
    public async Task Node_ReportsStatistics()
    {
        var response = await _http.PostAsJsonAsync("/api/v1/jobs", new { kind = "echo", payload = new { text = "s" } });
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("jobId").GetString()!;
        await WaitForStatusAsync(id, "succeeded");
        var node = await _http.GetFromJsonAsync<JsonElement>("/api/v1/node");
        Assert.Equal("api-test", node.GetProperty("node").GetString());
        Assert.True(node.GetProperty("succeeded").GetInt64() >= 1);
    }

    private async Task<JsonElement> GetAsync(string id) => await _http.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{id}");

    private async Task<JsonElement> WaitForStatusAsync(string id, string status)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        JsonElement job;
        while ((job = await GetAsync(id)).GetProperty("status").GetString() != status)
        {
            Assert.True(DateTime.UtcNow < deadline, $"job {id} is {job.GetProperty("status")}, not {status}: {job}");
            await Task.Delay(50);
        }

        return job;
    }
}
