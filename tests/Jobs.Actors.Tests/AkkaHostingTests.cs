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
        builder.Services.AddJobs(jobs =>
            jobs.UseConfigFile(null, $"jobs.persistence {{ backend = sqlite, sqlite.path = \"{Path.Combine(directory, "jobs.db")}\" }}")
                .AddHandler<EchoHandler, EchoPayload>("echo")
                .UseAkkaHosting()
        );
        builder.Services.AddAkka("app", (akka, services) => akka.AddHocon("akka.loglevel = WARNING", HoconAddMode.Prepend).WithJobs(services));
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var client = host.Services.GetRequiredService<IJobsClient>();
            Assert.Same(client, host.Services.GetRequiredService<IJobSchedulingClient>());
            Assert.Same(client, host.Services.GetRequiredService<IJobMonitoringClient>());
            Assert.Same(client, host.Services.GetRequiredService<IRecurringJobsClient>());
            Assert.Same(client, host.Services.GetRequiredService<IJobsAdministrationClient>());
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

            // An Akka application's door: typed messages and replies through the gateway.
            var gateway = await host.Services.GetRequiredService<IRequiredActor<Messages.JobsGateway>>().GetAsync();
            var scheduled = await gateway.Ask<ScheduleResult>(
                new Messages.ScheduleJob(ScheduleRequest.Create("echo", new EchoPayload("by message")) with { Delay = TimeSpan.FromHours(1) }),
                TimeSpan.FromSeconds(5)
            );
            Assert.Equal(JobStatus.Scheduled, (await gateway.Ask<JobInfo>(new Messages.GetJob(scheduled.JobId), TimeSpan.FromSeconds(5))).Status);
            Assert.Equal(
                new Messages.JobCancelled(scheduled.JobId),
                await gateway.Ask<Messages.JobCancelled>(new Messages.CancelJob(scheduled.JobId), TimeSpan.FromSeconds(5))
            );
            Assert.Equal(JobStatus.Cancelled, (await client.GetAsync(scheduled.JobId)).Status);
            await Assert.ThrowsAsync<JobNotFoundException>(() => gateway.Ask<JobInfo>(new Messages.GetJob("no-such-job"), TimeSpan.FromSeconds(5)));
            var invalid = await Assert.ThrowsAsync<JobValidationException>(() =>
                gateway.Ask<ScheduleResult>(new Messages.ScheduleJob(new ScheduleRequest { Kind = "no-such-kind" }), TimeSpan.FromSeconds(5))
            );
            Assert.Equal("kind", invalid.Field);
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
