namespace Jobs.Persistence.Plugin;

/// <summary>The database of the journal and snapshot-store plugins, for <see cref="SqlPersistenceHostingExtensions"/>.</summary>
public sealed record SqlPersistenceOptions
{
    /// <summary>"sqlite" or "postgresql". Default: sqlite.</summary>
    public string Provider { get; init; } = "sqlite";

    /// <summary>The SQLite database file. Default: jobs.db.</summary>
    public string SqlitePath { get; init; } = "jobs.db";

    /// <summary>The PostgreSQL connection string (Npgsql). Required for PostgreSQL.</summary>
    public string? PostgresConnectionString { get; init; }

    /// <summary>The PostgreSQL schema of the tables. Default: public.</summary>
    public string PostgresSchema { get; init; } = "public";

    /// <summary>Prefix of every table name. Default: jobs_.</summary>
    public string TablePrefix { get; init; } = "jobs_";

    /// <summary>Create and migrate the tables at start. Default: true.</summary>
    public bool AutoInitialize { get; init; } = true;

    /// <summary>The serializer id of rows stored without one (written before ids were kept); 0 treats them as an error. Default: 0.</summary>
    public int LegacySerializerId { get; init; }

    /// <summary>Make these plugins the actor system's default journal and snapshot store. Default: true.</summary>
    public bool SetAsDefault { get; init; } = true;

    /// <summary>The HOCON that configures both plugins with these options.</summary>
    public string ToHocon()
    {
        var section = string.Join(
            '\n',
            $"provider = {Quote(Provider)}",
            $"sqlite-path = {Quote(SqlitePath)}",
            $"postgresql-connection-string = {Quote(PostgresConnectionString ?? string.Empty)}",
            $"postgresql-schema = {Quote(PostgresSchema)}",
            $"table-prefix = {Quote(TablePrefix)}",
            $"auto-initialize = {(AutoInitialize ? "on" : "off")}",
            $"legacy-serializer-id = {LegacySerializerId.ToString(System.Globalization.CultureInfo.InvariantCulture)}"
        );
        var defaults = SetAsDefault
            ? $"akka.persistence.journal.plugin = {Quote(SqlPersistence.JournalPluginId)}\nakka.persistence.snapshot-store.plugin "
                + $"= {Quote(SqlPersistence.SnapshotPluginId)}\n"
            : string.Empty;
        return $"{defaults}{SqlPersistence.JournalPluginId} {{\n{section}\n}}\n{SqlPersistence.SnapshotPluginId} {{\n{section}\n}}\n";
    }

    // A HOCON quoted string is a JSON string.
    private static string Quote(string value) => System.Text.Json.JsonSerializer.Serialize(value);
}
