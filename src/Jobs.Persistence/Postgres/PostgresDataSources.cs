using System.Data.Common;
using Npgsql;

namespace Jobs.Persistence.Postgres;

/// <summary>
/// Opens the job system's PostgreSQL data sources. Unless the connection string says otherwise, each connection
/// keeps the statements it runs repeatedly prepared (Npgsql's automatic preparation), so that the server parses and
/// plans the journal's, index's and leases' statements once per connection instead of on every execution.
/// </summary>
public static class PostgresDataSources
{
    /// <summary>How many statements each connection keeps prepared when the connection string sets no Max Auto Prepare.</summary>
    public const int DefaultMaxAutoPrepare = 64;

    /// <summary>A data source for <paramref name="connectionString"/>, with <see cref="DefaultMaxAutoPrepare"/> unless it sets its own.</summary>
    public static NpgsqlDataSource Create(string connectionString) => NpgsqlDataSource.Create(WithAutoPrepare(connectionString));

    /// <summary>
    /// <paramref name="connectionString"/> with Max Auto Prepare set to <see cref="DefaultMaxAutoPrepare"/> when it does
    /// not set it (in any spelling Npgsql accepts); a string that sets it, to 0 say (behind a pooler that does not keep
    /// prepared statements), is returned as given.
    /// </summary>
    public static string WithAutoPrepare(string connectionString)
    {
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        foreach (string key in given.Keys)
        {
            if (key.Replace(" ", string.Empty, StringComparison.Ordinal).Equals("MaxAutoPrepare", StringComparison.OrdinalIgnoreCase))
            {
                return connectionString;
            }
        }

        return new NpgsqlConnectionStringBuilder(connectionString) { MaxAutoPrepare = DefaultMaxAutoPrepare }.ConnectionString;
    }
}
