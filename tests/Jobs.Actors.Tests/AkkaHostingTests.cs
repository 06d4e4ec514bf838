using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using Jobs.Actors.Hosting;
using Jobs.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Jobs.Actors.Tests;

/// <summary>
/// The job system inside an application's own Akka.Hosting actor system: <c>AddJobs(jobs => jobs.UseAkkaHosting())</c>
/// with <c>AddAkka(..., (akka, sp) => akka.WithJobs(sp))</c>. Real Akka.Hosting, real generic host.
/// </summary>
public sealed class AkkaHostingTests
{
    [Fact]
    public async Task JobSystem_RunsInTheApplicationsActorSystem_AndRegistersItsActors()
    {
        var directory = Directory.CreateTempSubdirectory("jobs-hosting-").FullName;
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton(new HandlerLog());
        builder.Services.AddJobs(jobs => jobs
            .UseConfigFile(null, $"jobs.persistence {{ backend = sqlite, sqlite.path = \"{Path.Combine(directory, "jobs.db")}\" }}")
            .AddHandler<EchoHandler, EchoPayload>("echo")
            .UseAkkaHosting());
        builder.Services.AddAkka("app", (akka, services) => akka
            .AddHocon("akka.loglevel = WARNING", HoconAddMode.Prepend)
            .WithJobs(services));
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var client = host.Services.GetRequiredService<IJobsClient>();
            var id = (await client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoPayload("hosted")))).JobId;
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while ((await client.GetAsync(id)).Status != JobStatus.Succeeded)
            {
                Assert.True(DateTime.UtcNow < deadline, "the job did not succeed in the hosted actor system");
                await Task.Delay(20);
            }

            var system = host.Services.GetRequiredService<ActorSystem>();
            Assert.Equal("app", system.Name);
            Assert.Same(system, host.Services.GetRequiredService<JobsNode>().System);
            Assert.Equal(MemberStatus.Up, Cluster.Get(system).SelfMember.Status);
            var region = await host.Services.GetRequiredService<IRequiredActor<JobShardRegion>>().GetAsync();
            Assert.Equal("/system/sharding/job", region.Path.ToStringWithoutAddress());
            var info = await region.Ask<JobInfo>(new Protocol.GetJob(id), TimeSpan.FromSeconds(5));
            Assert.Equal(JobStatus.Succeeded, info.Status);
        }
        finally
        {
            await host.StopAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void WithJobs_WithoutUseAkkaHosting_SaysWhatIsMissing()
    {
        var services = new ServiceCollection();
        services.AddJobs(_ => { });
        using var provider = services.BuildServiceProvider();
        var error = Assert.Throws<InvalidOperationException>(() => new AkkaConfigurationBuilder(new ServiceCollection(), "app").WithJobs(provider));
        Assert.Contains("UseAkkaHosting", error.Message, StringComparison.Ordinal);
    }
}
