using Jobs.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Jobs.Actors.Hosting;

/// <summary>Adds the job system to a generic host (the role Akka.Hosting plays).</summary>
public static class JobsServiceCollectionExtensions
{
    /// <summary>
    /// Registers the job node (started and stopped with the host), <see cref="IJobsClient"/> with its narrower
    /// interfaces, and the handlers
    /// configured in <paramref name="configure"/>.
    /// </summary>
    public static IServiceCollection AddJobs(this IServiceCollection services, Action<JobsBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        var builder = new JobsBuilder(services);
        configure(builder);
        services.AddSingleton(builder);
        services.AddSingleton<JobsNode>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<JobsNode>());
        services.AddSingleton<IJobsClient>(sp => sp.GetRequiredService<JobsNode>().Client);
        services.AddJobsClientInterfaces();
        return services;
    }
}
