using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Actors.Hosting;

/// <summary>Runs the job system in an actor system set up with Akka.Hosting.</summary>
public static class JobsAkkaHostingExtensions
{
    /// <summary>
    /// Starts the job system registered with <c>services.AddJobs(jobs => jobs.UseAkkaHosting()...)</c> in this actor
    /// system once it is created: the job system's Akka settings go beneath the application's (a cluster provider,
    /// the journal plugin, the event serializer), and its shard regions and scheduler are registered in the
    /// <see cref="IActorRegistry"/> (<see cref="JobShardRegion"/>, <see cref="RecurringShardRegion"/>,
    /// <see cref="JobScheduler"/>).
    /// </summary>
    /// <param name="akka">Akka.Hosting's builder.</param>
    /// <param name="services">The application's service provider (the overload of AddAkka that passes it).</param>
    /// <returns>The builder.</returns>
    public static AkkaConfigurationBuilder WithJobs(this AkkaConfigurationBuilder akka, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(akka);
        ArgumentNullException.ThrowIfNull(services);
        if (services.GetService<JobsBuilder>() is not { HostedByAkka: true })
        {
            throw new InvalidOperationException(
                "WithJobs needs services.AddJobs(jobs => jobs.UseAkkaHosting()...): the job system is registered there"
            );
        }

        var node = services.GetRequiredService<JobsNode>();
        akka.AddHocon(node.AkkaDefaults(), HoconAddMode.Append);
        akka.AddStartup((system, registry) => node.AttachAsync(system, registry));
        return akka;
    }
}

/// <summary>Key of the job entities' shard region in Akka.Hosting's <see cref="IActorRegistry"/>.</summary>
public sealed class JobShardRegion
{
    private JobShardRegion() { }
}

/// <summary>Key of the recurring schedules' shard region in Akka.Hosting's <see cref="IActorRegistry"/>.</summary>
public sealed class RecurringShardRegion
{
    private RecurringShardRegion() { }
}

/// <summary>Key of the proxy of the scheduler singleton in Akka.Hosting's <see cref="IActorRegistry"/>.</summary>
public sealed class JobScheduler
{
    private JobScheduler() { }
}
