using Akka.Configuration;
using Jobs.Persistence.Journal;

namespace Jobs.Persistence.Plugin;

/// <summary>One plugin's settings (journal or snapshot store), read once from its HOCON; a bad value names its key.</summary>
internal sealed record PluginSettings(
    string Path,
    string Provider,
    string SqlitePath,
    string PostgresConnectionString,
    string PostgresSchema,
    string TablePrefix,
    JournalOptions Journal,
    int LegacySerializerId,
    bool RejectUnboundPayloads
)
{
    /// <summary>Identifies the database and tables: plugins with the same key share one journal (one writer).</summary>
    /// <summary>The store key of the journal an application provided (provider = "provided").</summary>
    public const string ProvidedKey = "provided";

    public string StoreKey =>
        Provider == "provided" ? ProvidedKey
        : Provider == "sqlite" ? $"sqlite|{System.IO.Path.GetFullPath(SqlitePath)}|{TablePrefix}"
        : $"postgresql|{PostgresConnectionString}|{PostgresSchema}|{TablePrefix}";

    /// <summary>Reads the plugin at <paramref name="path"/> from <paramref name="config"/>, over the plugin's defaults.</summary>
    public static PluginSettings From(Config config, string path)
    {
        ArgumentNullException.ThrowIfNull(config);
        var provider = config.GetString("provider", "sqlite").Trim().ToLowerInvariant();
        if (provider is not ("sqlite" or "postgresql" or "provided"))
        {
            throw new ConfigurationException($"{path}.provider must be \"sqlite\", \"postgresql\" or \"provided\", not \"{provider}\"");
        }

        var settings = new PluginSettings(
            path,
            provider,
            config.GetString("sqlite-path", "jobs.db"),
            config.GetString("postgresql-connection-string", string.Empty),
            config.GetString("postgresql-schema", "public"),
            config.GetString("table-prefix", "jobs_"),
            new JournalOptions
            {
                AutoMigrate = config.GetBoolean("auto-initialize", true),
                MaxBatchSize = config.GetInt("max-batch-size", 1000),
                QueueCapacity = config.GetInt("queue-capacity", 50_000),
                WriteParallelism = config.GetInt("write-parallelism", 2),
            },
            config.GetInt("legacy-serializer-id", 0),
            config.GetBoolean("reject-unbound-payloads", true)
        );
        if (provider == "postgresql" && string.IsNullOrWhiteSpace(settings.PostgresConnectionString))
        {
            throw new ConfigurationException($"{path}.postgresql-connection-string is required when {path}.provider = postgresql");
        }

        if (provider == "sqlite" && string.IsNullOrWhiteSpace(settings.SqlitePath))
        {
            throw new ConfigurationException($"{path}.sqlite-path is required when {path}.provider = sqlite");
        }

        foreach (
            var (key, value) in new[]
            {
                ("max-batch-size", settings.Journal.MaxBatchSize),
                ("queue-capacity", settings.Journal.QueueCapacity),
                ("write-parallelism", settings.Journal.WriteParallelism),
            }
        )
        {
            if (value <= 0)
            {
                throw new ConfigurationException($"{path}.{key} must be positive, not {value}");
            }
        }

        return settings;
    }
}
