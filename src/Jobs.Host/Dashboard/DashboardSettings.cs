using Jobs.Hocon;

namespace Jobs.Host.Dashboard;

/// <summary>The <c>jobs.dashboard</c> settings.</summary>
public sealed record DashboardSettings
{
    /// <summary>Serve the dashboard at all.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>No state-changing actions: pages only.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>Payload properties whose names contain one of these (case-insensitive) are shown as "***".</summary>
    public IReadOnlyList<string> RedactKeys { get; init; } = ["password", "secret", "token", "apikey", "api_key", "authorization", "credential"];

    /// <summary>How long a dashboard login lasts.</summary>
    public TimeSpan SessionLifetime { get; init; } = TimeSpan.FromHours(8);

    /// <summary>
    /// The secret that signs dashboard sessions and form tokens, shared by every node behind one address; null means a
    /// random secret per process (logins and open forms end when the process restarts).
    /// </summary>
    public string? Secret { get; init; }

    /// <summary>Reads <c>jobs.dashboard</c>; a bad value names its key.</summary>
    public static DashboardSettings FromConfig(Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var section = config.GetConfig("jobs.dashboard");
        var lifetime = section.GetDuration("session-lifetime");
        if (lifetime <= TimeSpan.Zero)
        {
            throw new ConfigException(
                $"must be positive but is {lifetime}",
                section.GetValue("session-lifetime").Origin,
                "jobs.dashboard.session-lifetime"
            );
        }

        var secret = section.GetString("secret");
        if (secret.Length is > 0 and < 32)
        {
            throw new ConfigException(
                $"must be at least 32 characters (it signs sessions and form tokens) but has {secret.Length}",
                section.GetValue("secret").Origin,
                "jobs.dashboard.secret"
            );
        }

        return new DashboardSettings
        {
            Secret = secret.Length > 0 ? secret : null,
            Enabled = section.GetBoolean("enabled"),
            ReadOnly = section.GetBoolean("read-only"),
            RedactKeys = [.. section.GetStringList("redact-keys").Where(k => k.Length > 0)],
            SessionLifetime = lifetime,
        };
    }
}
