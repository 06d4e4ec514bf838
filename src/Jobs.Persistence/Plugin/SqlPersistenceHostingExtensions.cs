using Akka.Configuration;
using Akka.Hosting;

namespace Jobs.Persistence.Plugin;

/// <summary>Sets up the SQL journal and snapshot-store plugins on Akka.Hosting's builder.</summary>
public static class SqlPersistenceHostingExtensions
{
    /// <summary>
    /// Configures the journal and snapshot-store plugins on one database (by default as the system's default
    /// plugins), with the plugins' reference configuration beneath.
    /// </summary>
    public static AkkaConfigurationBuilder WithJobsSqlPersistence(this AkkaConfigurationBuilder builder, SqlPersistenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        return builder
            .AddHocon(ConfigurationFactory.ParseString(options.ToHocon()), HoconAddMode.Prepend)
            .AddHocon(SqlPersistence.DefaultConfig, HoconAddMode.Append);
    }
}
