using Jobs.Runtime.Actors;
using Jobs.Hocon;
using Microsoft.Extensions.Configuration;

namespace Jobs.Runtime.Tests.Configuration;

public sealed class SettingsFromConfigTests
{
    private static readonly string RepoHocon = Path.Combine(AppContext.BaseDirectory, "hocon");

    [Fact]
    public void Reference_Defaults_MatchCodeDefaults()
    {
        var fromConfig = ActorSystemSettingsConfig.FromConfig(ConfigFactory.LoadReference());
        var code = new ActorSystemSettings();
        Assert.Equal(code.Throughput, fromConfig.Throughput);
        Assert.Equal(code.DefaultAskTimeout, fromConfig.DefaultAskTimeout);
        Assert.Equal(code.ShutdownDeadline, fromConfig.ShutdownDeadline);
        Assert.Equal(code.ShutdownPhaseTimeout, fromConfig.ShutdownPhaseTimeout);
        Assert.Equal(code.LogDeadLetters, fromConfig.LogDeadLetters);
    }

    [Fact]
    public void Override_IsApplied()
    {
        var settings = ActorSystemSettingsConfig.FromConfig(ConfigFactory.Load(text: "jobs.runtime { throughput = 5, ask-timeout = 2s }"));
        Assert.Equal(5, settings.Throughput);
        Assert.Equal(TimeSpan.FromSeconds(2), settings.DefaultAskTimeout);
    }

    [Theory]
    [InlineData("jobs.runtime.throughput = 0", "jobs.runtime.throughput")]
    [InlineData("jobs.runtime.ask-timeout = -1s", "jobs.runtime.ask-timeout")]
    [InlineData("jobs.runtime.shutdown-deadline = soon", "jobs.runtime.shutdown-deadline")]
    [InlineData("jobs.runtime.log-dead-letters = -3", "jobs.runtime.log-dead-letters")]
    public void BadValue_ErrorNamesTheKeyAndOrigin(string text, string key)
    {
        var error = Assert.Throws<ConfigException>(() => ActorSystemSettingsConfig.FromConfig(ConfigFactory.Load(text: text)));
        Assert.Contains($"'{key}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("overrides:1:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ShippedConfigs_ParseAndValidate()
    {
        foreach (var file in Directory.GetFiles(RepoHocon, "*.conf"))
        {
            var config = ConfigFactory.Load(file);
            ActorSystemSettingsConfig.FromConfig(config);
        }

        Assert.NotEmpty(Directory.GetFiles(RepoHocon, "*.conf"));
    }

    [Fact]
    public void AddHoconFile_BindsThroughIConfiguration()
    {
        var file = Path.Combine(Path.GetTempPath(), $"jobs-{Guid.NewGuid():N}.conf");
        File.WriteAllText(file, "jobs.runtime.throughput = 12\napp { names = [a, b], nested { flag = on } }");
        try
        {
            var configuration = new ConfigurationBuilder().AddHoconFile(file).Build();
            Assert.Equal("12", configuration["jobs:runtime:throughput"]);
            Assert.Equal("10s", configuration["jobs:runtime:ask-timeout"]);
            Assert.Equal("b", configuration["app:names:1"]);
            Assert.Equal("on", configuration.GetSection("app:nested")["flag"]);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void AddHoconFile_Missing_FailsUnlessOptional()
    {
        Assert.Throws<ConfigException>(() => new ConfigurationBuilder().AddHoconFile("/nonexistent/x.conf").Build());
        var optional = new ConfigurationBuilder().AddHoconFile("/nonexistent/x.conf", optional: true).Build();
        Assert.Equal("30", optional["jobs:runtime:throughput"]);
    }
}

public sealed class PersistenceSettingsTests
{
    [Fact]
    public void Reference_Defaults_SqliteWithDocumentedValues()
    {
        var settings = Jobs.Runtime.Persistence.PersistenceSettings.FromConfig(ConfigFactory.Load(options: new ConfigParseOptions { Environment = null }));
        Assert.Equal(Jobs.Persistence.Journal.SqlDialect.Sqlite, settings.Backend);
        Assert.Equal("data/jobs.db", settings.SqlitePath);
        Assert.Equal(1000, settings.Journal.MaxBatchSize);
        Assert.True(settings.Journal.AutoMigrate);
    }

    [Theory]
    [InlineData("jobs.persistence.backend = mongo", "jobs.persistence.backend", "unknown backend")]
    [InlineData("jobs.persistence.backend = postgresql", "jobs.persistence.postgresql.connection-string", "needs a connection string")]
    [InlineData("jobs.persistence.table-prefix = \"x; drop\"", "jobs.persistence.table-prefix", "table prefix")]
    [InlineData("jobs.persistence.max-batch-size = 0", "jobs.persistence.max-batch-size", "positive")]
    public void BadValues_NameTheKey(string text, string key, string message)
    {
        var error = Assert.Throws<ConfigException>(() => Jobs.Runtime.Persistence.PersistenceSettings.FromConfig(ConfigFactory.Load(text: text, options: new ConfigParseOptions { Environment = null })));
        Assert.Contains($"'{key}'", error.Message, StringComparison.Ordinal);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PostgresConnectionString_FromEnvironment()
    {
        var config = ConfigFactory.Load(text: "jobs.persistence.backend = postgresql", options: new ConfigParseOptions { Environment = n => n == "JOBS_POSTGRES" ? "Host=db" : null });
        Assert.Equal("Host=db", Jobs.Runtime.Persistence.PersistenceSettings.FromConfig(config).PostgresConnectionString);
    }
}
