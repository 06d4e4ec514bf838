using Jobs.Hocon;

namespace Jobs.Runtime.Actors;

/// <summary>Reads <see cref="ActorSystemSettings"/> from the <c>jobs.runtime</c> section of a configuration.</summary>
public static class ActorSystemSettingsConfig
{
    /// <summary>The configuration section these settings live in.</summary>
    public const string Section = "jobs.runtime";

    /// <summary>Parses and validates the settings; a bad value throws <see cref="ConfigException"/> naming its key.</summary>
    public static ActorSystemSettings FromConfig(Config config, ActorSystemSettings? template = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var section = config.GetConfig(Section);
        var settings = (template ?? new ActorSystemSettings()) with
        {
            Throughput = Positive(section, "throughput", section.GetInt("throughput")),
            DefaultAskTimeout = Positive(section, "ask-timeout", section.GetDuration("ask-timeout")),
            ShutdownDeadline = Positive(section, "shutdown-deadline", section.GetDuration("shutdown-deadline")),
            ShutdownPhaseTimeout = Positive(section, "shutdown-phase-timeout", section.GetDuration("shutdown-phase-timeout")),
            LogDeadLetters = NonNegative(section, "log-dead-letters", section.GetInt("log-dead-letters")),
        };
        return settings.Validate();
    }

    /// <summary>The actor system name configured at <c>jobs.runtime.system-name</c>.</summary>
    public static string SystemName(Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.GetString(Section + ".system-name");
    }

    private static int Positive(Config section, string key, int value) =>
        value > 0 ? value : throw new ConfigException($"must be positive but is {value}", section.GetValue(key).Origin, $"{Section}.{key}");

    private static int NonNegative(Config section, string key, int value) =>
        value >= 0 ? value : throw new ConfigException($"must be zero or more but is {value}", section.GetValue(key).Origin, $"{Section}.{key}");

    private static TimeSpan Positive(Config section, string key, TimeSpan value) =>
        value > TimeSpan.Zero ? value : throw new ConfigException($"must be a positive duration but is {value}", section.GetValue(key).Origin, $"{Section}.{key}");
}
