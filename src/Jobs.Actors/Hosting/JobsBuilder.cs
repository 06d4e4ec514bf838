using System.Text.Json;
using Jobs.Actors.Handlers;
using Jobs.Hocon;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Actors.Hosting;

/// <summary>Configures the job system inside <c>services.AddJobs(jobs => ...)</c>: handlers, configuration, options.</summary>
public sealed class JobsBuilder
{
    internal JobsBuilder(IServiceCollection services)
    {
        Services = services;
    }

    /// <summary>The service collection, for registering what handlers need.</summary>
    public IServiceCollection Services { get; }

    internal HandlerRegistry Handlers { get; } = new();

    internal Config? Config { get; private set; }

    internal string? ConfigFile { get; private set; }

    internal string? ConfigText { get; private set; }

    /// <summary>
    /// How payloads are deserialized for handlers, read when the node starts (so it may be set before or after
    /// AddHandler). Default: <see cref="JsonSerializerOptions.Web"/>.
    /// </summary>
    public JsonSerializerOptions PayloadSerializerOptions { get; set; } = JsonSerializerOptions.Web;

    /// <summary>Registers <typeparamref name="THandler"/> for jobs of <paramref name="kind"/> (default: the payload type's name).</summary>
    /// <exception cref="InvalidOperationException">The kind is already registered.</exception>
    public JobsBuilder AddHandler<THandler, TPayload>(string? kind = null, JobKindOptions? options = null)
        where THandler : class, IJobHandler<TPayload>
    {
        var name = kind ?? typeof(TPayload).Name;
        Handlers.Add(HandlerRegistration.For<THandler, TPayload>(name, options ?? new JobKindOptions(), () => PayloadSerializerOptions));
        Services.AddTransient<THandler>();
        return this;
    }

    internal List<(string Name, Func<DateTimeOffset, DateTimeOffset?> Next)> NamedSchedules { get; } = [];

    /// <summary>
    /// Registers a named schedule: <paramref name="next"/> maps an instant to the next
    /// occurrence after it (null: no more). It must be pure: the same input always gives the same output, because
    /// occurrences are identified by their time. Recurring schedules use it with <c>Named = name</c>.
    /// </summary>
    public JobsBuilder AddNamedSchedule(string name, Func<DateTimeOffset, DateTimeOffset?> next)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(next);
        if (NamedSchedules.Any(n => n.Name == name))
        {
            throw new InvalidOperationException($"a named schedule '{name}' is already registered");
        }

        NamedSchedules.Add((name, next));
        return this;
    }

    /// <summary>Uses this resolved configuration (its <c>jobs</c> tree) instead of loading one.</summary>
    public JobsBuilder UseConfig(Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        return this;
    }

    /// <summary>Loads configuration from a HOCON file (over the embedded reference.conf), optionally with overriding HOCON text.</summary>
    public JobsBuilder UseConfigFile(string? path, string? overrides = null)
    {
        ConfigFile = path;
        ConfigText = overrides;
        return this;
    }

    /// <summary>True once <see cref="UseAkkaHosting"/> was called: the job system runs in Akka.Hosting's actor system.</summary>
    internal bool HostedByAkka { get; private set; }

    /// <summary>
    /// Runs the job system inside the actor system that Akka.Hosting creates (<c>services.AddAkka(...)</c>) instead of
    /// one of its own: add <c>.WithJobs(serviceProvider)</c> to that Akka builder. The node's <c>akka { }</c> settings
    /// then go beneath the application's own.
    /// </summary>
    /// <returns>This builder.</returns>
    public JobsBuilder UseAkkaHosting()
    {
        HostedByAkka = true;
        return this;
    }

    internal Config ResolveConfig() => Config ?? ConfigFactory.Load(ConfigFile, ConfigText);
}
