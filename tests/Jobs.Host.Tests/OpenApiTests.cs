using System.Text.Json.Nodes;

namespace Jobs.Host.Tests;

/// <summary>The node serves an OpenAPI document for /api/v1, and docs/openapi.json is that document.</summary>
public sealed class OpenApiTests
{
    [Fact]
    public async Task ServedDocument_DescribesEveryEndpoint_AndMatchesTheCommittedCopy()
    {
        await using var host = await TestHost.StartAsync();
        using var http = new HttpClient { BaseAddress = host.Address };
        var served = JsonNode.Parse(await http.GetStringAsync("/api/v1/openapi.json"))!.AsObject();
        served.Remove("servers"); // the address differs per run
        var paths = served["paths"]!.AsObject().Select(p => p.Key).ToHashSet();
        Assert.Superset(
            new HashSet<string>
            {
                "/api/v1/jobs",
                "/api/v1/jobs/batch",
                "/api/v1/jobs/{id}",
                "/api/v1/jobs/{id}/cancel",
                "/api/v1/jobs/{id}/reschedule",
                "/api/v1/counts",
                "/api/v1/node",
            },
            paths
        );
        Assert.NotNull(served["paths"]!["/api/v1/jobs/{id}"]!["get"]!["responses"]!["404"]);

        var committed = Path.Combine(RepositoryPaths.Root(), "docs", "openapi.json");
        var text = served.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n";
        if (Environment.GetEnvironmentVariable("JOBS_UPDATE_OPENAPI") == "1")
        {
            await File.WriteAllTextAsync(committed, text);
        }

        Assert.True(File.Exists(committed), "docs/openapi.json is missing; run this test with JOBS_UPDATE_OPENAPI=1 to write it");
        Assert.True(
            JsonNode.DeepEquals(JsonNode.Parse(await File.ReadAllTextAsync(committed)), served),
            "docs/openapi.json differs from the served document; run this test with JOBS_UPDATE_OPENAPI=1 and commit the result"
        );
    }
}
