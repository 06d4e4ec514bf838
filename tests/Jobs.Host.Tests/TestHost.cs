using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Host.Tests;

/// <summary>A stock node on a temporary SQLite file, listening on a loopback port.</summary>
public sealed class TestHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _directory;

    private TestHost(WebApplication app, string directory, Uri address)
    {
        _app = app;
        _directory = directory;
        Address = address;
    }

    public Uri Address { get; }

    /// <summary>The host's services (its job node among them).</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>The node's own (in-process) client.</summary>
    public Jobs.Client.IJobsClient Client => _app.Services.GetRequiredService<Jobs.Client.IJobsClient>();

    public static async Task<TestHost> StartAsync(
        int port = 0,
        string? extraConfig = null,
        string? directory = null,
        string scheme = "http",
        string host = "127.0.0.1"
    )
    {
        directory ??= Directory.CreateTempSubdirectory("jobs-host-").FullName;
        var config = Path.Combine(directory, "node.conf");
        await File.WriteAllTextAsync(
            config,
            $$"""
            include "reference.conf"
            jobs.node.name = api-test
            jobs.persistence { backend = sqlite, sqlite.path = "{{Path.Combine(directory, "jobs.db")}}" }
            jobs.defaults.backoff { min = 100ms, jitter = 0 }
            jobs.scheduler.max-sleep = 200ms
            {{extraConfig ?? string.Empty}}
            """
        );
        var app = JobsHost.Build(new NodeOptions { ConfigFile = config, Listen = $"{scheme}://{host}:{port}" });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new TestHost(app, directory, new Uri(address + "/"));
    }

    public async Task StopAsync() => await _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException) { }
    }
}
