namespace Jobs.Persistence.Journal;

/// <summary>Which storage engine a journal runs on.</summary>
public enum SqlDialect
{
    /// <summary>In process memory (tests, development).</summary>
    Memory,

    /// <summary>SQLite (the embedded node).</summary>
    Sqlite,

    /// <summary>PostgreSQL (clusters).</summary>
    PostgreSql,
}
