using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Client;

/// <summary>Registers the narrower client interfaces beside a registered <see cref="IJobsClient"/>.</summary>
public static class JobsClientServiceCollectionExtensions
{
    /// <summary>
    /// Makes <see cref="IJobSchedulingClient"/>, <see cref="IJobMonitoringClient"/>, <see cref="IRecurringJobsClient"/>
    /// and <see cref="IJobsAdministrationClient"/> resolve to the registered <see cref="IJobsClient"/> (the node's
    /// registration and the HTTP client's call this; an application registering its own client can too).
    /// </summary>
    public static IServiceCollection AddJobsClientInterfaces(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddTransient<IJobSchedulingClient>(sp => sp.GetRequiredService<IJobsClient>());
        services.AddTransient<IJobMonitoringClient>(sp => sp.GetRequiredService<IJobsClient>());
        services.AddTransient<IRecurringJobsClient>(sp => sp.GetRequiredService<IJobsClient>());
        services.AddTransient<IJobsAdministrationClient>(sp => sp.GetRequiredService<IJobsClient>());
        return services;
    }
}
