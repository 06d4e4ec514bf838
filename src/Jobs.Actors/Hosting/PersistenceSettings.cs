using Jobs.Hocon;
using Jobs.Persistence.Journal;
using Jobs.Persistence.Memory;
using Jobs.Persistence.Postgres;
using Jobs.Persistence.Snapshots;
using Jobs.Persistence.Sqlite;

namespace Jobs.Actors.Hosting;

/// <summary>The <c>jobs.persistence</c> settings, parsed once and validated; builds the configured journal.</summary>
internal sealed record PersistenceSettings
{
    /// <summary>The configuration section.</summary>
    public const string Section = "jobs.persistence";

    /// <summary>The journal backend. Default: sqlite.</summary>
    public SqlDialect Backend { get; init; } = SqlDialect.Sqlite;

    /// <summary>Journal options (batching, migrations). Default: <see cref="JournalOptions"/> defaults.</summary>
    public JournalOptions Journal { get; init; } = new();

    /// <summary>Table-name prefix. Default: jobs_.</summary>
    public string TablePrefix { get; init; } = "jobs_";

    /// <summary>The SQLite database file. Default: data/jobs.db.</summary>
    public string SqlitePath { get; init; } = "data/jobs.db";

    /// <summary>The PostgreSQL connection string. Default: empty (required for the postgresql backend).</summary>
    public string PostgresConnectionString { get; init; } = string.Empty;

    /// <summary>The PostgreSQL schema. Default: public.</summary>
    public string PostgresSchema { get; init; } = "public";

    /// <summary>Reads and validates the section; a bad value throws <see cref="ConfigException"/> naming its key.</summary>
    public static PersistenceSettings FromConfig(Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var section = config.GetConfig(Section);
        var backendText = section.GetString("backend");
        var backend = backendText switch
        {
            "sqlite" => SqlDialect.Sqlite,
            "postgresql" or "postgres" => SqlDialect.PostgreSql,
            "memory" => SqlDialect.Memory,
            _ => throw new ConfigException(
                $"unknown backend '{backendText}' (use sqlite, postgresql or memory)",
                section.GetValue("backend").Origin,
                Section + ".backend"
            ),
        };
        var settings = new PersistenceSettings
        {
            Backend = backend,
            TablePrefix = section.GetString("table-prefix"),
            SqlitePath = section.GetString("sqlite.path"),
            PostgresConnectionString = section.GetString("postgresql.connection-string"),
            PostgresSchema = section.GetString("postgresql.schema"),
            Journal = new JournalOptions
            {
                AutoMigrate = section.GetBoolean("auto-migrate"),
                QueueCapacity = Positive(section, "queue-capacity"),
                MaxBatchSize = Positive(section, "max-batch-size"),
                WriteParallelism = Positive(section, "postgresql.write-parallelism"),
            },
        };
        try
        {
            _ = new Jobs.Persistence.Sql.SqlNames(SqlDialect.PostgreSql, settings.PostgresSchema, settings.TablePrefix);
        }
        catch (ArgumentException ex)
        {
            throw new ConfigException(
                ex.Message,
                section.GetValue("table-prefix").Origin,
                Section + (ex.ParamName == "schema" ? ".postgresql.schema" : ".table-prefix")
            );
        }

        if (backend == SqlDialect.PostgreSql && string.IsNullOrWhiteSpace(settings.PostgresConnectionString))
        {
            throw new ConfigException(
                "is empty but backend = postgresql needs a connection string (or set JOBS_POSTGRES)",
                section.GetValue("postgresql.connection-string").Origin,
                Section + ".postgresql.connection-string"
            );
        }

        if (backend == SqlDialect.Sqlite && string.IsNullOrWhiteSpace(settings.SqlitePath))
        {
            throw new ConfigException("must name a file", section.GetValue("sqlite.path").Origin, Section + ".sqlite.path");
        }

        return settings;
    }

    /// <summary>Creates (not starts) the configured journal and its snapshot store.</summary>
    public (IJournal Journal, ISnapshotStore Snapshots) CreateJournal(IReadOnlyList<IWriteParticipant>? participants = null, string? writerId = null)
    {
        var options = writerId is null ? Journal : Journal with { WriterId = writerId };
        switch (Backend)
        {
            case SqlDialect.Memory:
                return (new InMemoryJournal(participants), new InMemorySnapshotStore());
            case SqlDialect.Sqlite:
            {
                var journal = new SqliteJournal(SqlitePath, options, TablePrefix, participants);
                return (journal, journal.CreateSnapshotStore());
            }

            default:
            {
                var journal = new PostgresJournal(
                    PostgresDataSources.Create(PostgresConnectionString),
                    options,
                    PostgresSchema,
                    TablePrefix,
                    participants,
                    ownsDataSource: true
                );
                return (journal, journal.CreateSnapshotStore());
            }
        }
    }

    private static int Positive(Config section, string key)
    {
        var value = section.GetInt(key);
        return value > 0 ? value : throw new ConfigException($"must be positive but is {value}", section.GetValue(key).Origin, $"{Section}.{key}");
    }
}
