using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Jobs.Client.Http;

/// <summary>Registers the remote <see cref="IJobsClient"/> with IHttpClientFactory.</summary>
public static class JobsHttpClientServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="IJobsClient"/> (and its narrower interfaces) talking to a node over HTTP. Options come from <paramref name="configuration"/>
    /// (keys BaseAddress, TryTimeout, MaxRetries, RetryDelay, MaxRetryDelay; for example the <c>jobs.client</c>
    /// section of a HOCON file added with AddHoconFile), then from <paramref name="configure"/>.
    /// </summary>
    public static IHttpClientBuilder AddJobsHttpClient(
        this IServiceCollection services,
        IConfiguration? configuration = null,
        Action<HttpJobsClientOptions>? configure = null
    )
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<HttpJobsClientOptions>();
        if (configuration is not null)
        {
            options.Bind(configuration);
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.Validate(o => o.BaseAddress is { IsAbsoluteUri: true }, "HttpJobsClientOptions.BaseAddress must be an absolute URI");
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<HttpJobsClientOptions>>().Value);
        services.AddJobsClientInterfaces();
        return services.AddHttpClient<IJobsClient, HttpJobsClient>(
            (sp, http) => http.BaseAddress = sp.GetRequiredService<HttpJobsClientOptions>().BaseAddress
        );
    }
}
