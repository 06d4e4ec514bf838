using Akka.Actor;
using Akka.Configuration;
using Jobs.Persistence.Plugin;

namespace Jobs.Persistence.Tests.Plugin;

/// <summary>The plugin's settings and its Akka.Hosting options: bad values name their key, options reach the plugins.</summary>
public sealed class PluginConfigurationTests
{
    [Theory]
    [InlineData("provider = oracle", "x.provider")]
    [InlineData("provider = postgresql", "x.postgresql-connection-string")]
    [InlineData("max-batch-size = 0", "x.max-batch-size")]
    [InlineData("write-parallelism = -1", "x.write-parallelism")]
    public void BadSetting_NamesItsKey(string hocon, string key)
    {
        var ex = Assert.Throws<ConfigurationException>(() => PluginSettings.From(ConfigurationFactory.ParseString(hocon), "x"));
        Assert.Contains(key, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReferenceConfig_ParsesWithAkkasParser_AndNamesThePluginClasses()
    {
        var config = SqlPersistence.DefaultConfig;
        Assert.Equal(typeof(SqlJournalPlugin), Type.GetType(config.GetString(SqlPersistence.JournalPluginId + ".class"), throwOnError: true));
        Assert.Equal(typeof(SqlSnapshotStorePlugin), Type.GetType(config.GetString(SqlPersistence.SnapshotPluginId + ".class"), throwOnError: true));
        Assert.Equal(1000, config.GetInt(SqlPersistence.JournalPluginId + ".circuit-breaker.max-failures"));
    }

    [Fact]
    public async Task HostingOptions_ConfigureBothPlugins_AsTheDefaults_AndPersist()
    {
        var directory = Directory.CreateTempSubdirectory("jobs-plugin-options-").FullName;
        var path = Path.Combine(directory, "odd \"name\".db");
        try
        {
            var options = new SqlPersistenceOptions { SqlitePath = path, TablePrefix = "app_" };
            var assembly = typeof(PluginConfigurationTests).Assembly.GetName().Name;
            var config = ConfigurationFactory
                .ParseString(options.ToHocon())
                .WithFallback(
                    ConfigurationFactory.ParseString(
                        $$"""
                        akka.actor.serializers.test-payloads = "Jobs.Persistence.Tests.Plugin.TestPayloadSerializer, {{assembly}}"
                        akka.actor.serialization-bindings { "Jobs.Persistence.Tests.Plugin.Evt, {{assembly}}" = test-payloads }
                        """
                    )
                )
                .WithFallback(SqlPersistence.DefaultConfig);
            using var system = ActorSystem.Create("options", config);
            Assert.Equal(SqlPersistence.JournalPluginId, system.Settings.Config.GetString("akka.persistence.journal.plugin"));
            var counter = system.ActorOf(Props.Create(() => new TestCounter("opt")));
            Assert.Equal("stored a", await counter.Ask<string>(new Evt("a"), TimeSpan.FromSeconds(10)));
            Assert.True(File.Exists(path));
            Assert.Throws<InvalidOperationException>(() => SqlPersistence.Get(system).AddParticipant(new NoParticipant()));
            await system.Terminate();
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    private sealed class NoParticipant : Jobs.Persistence.Journal.IWriteParticipant
    {
        public Task EnsureSchemaAsync(
            System.Data.Common.DbConnection? connection,
            Jobs.Persistence.Journal.SqlDialect dialect,
            CancellationToken cancellationToken
        ) => Task.CompletedTask;

        public Task WriteAsync(
            System.Data.Common.DbTransaction? transaction,
            Jobs.Persistence.Journal.SqlDialect dialect,
            IReadOnlyList<Jobs.Persistence.Journal.AtomicWrite> writes,
            CancellationToken cancellationToken
        ) => Task.CompletedTask;
    }
}
