using System.Text.RegularExpressions;
using Jobs.Persistence.Journal;

namespace Jobs.Persistence.Sql;

/// <summary>Quoted, validated table names for a schema and table prefix (configuration never reaches SQL unchecked).</summary>
public sealed partial class SqlNames
{
    /// <summary>Builds names; throws naming the setting when the schema or prefix is not a plain identifier.</summary>
    public SqlNames(SqlDialect dialect, string? schema, string tablePrefix)
    {
        ArgumentNullException.ThrowIfNull(tablePrefix);
        if (!Identifier().IsMatch(tablePrefix + "x"))
        {
            throw new ArgumentException(
                $"table prefix '{tablePrefix}' must be letters, digits and '_' and start with a letter or '_'",
                nameof(tablePrefix)
            );
        }

        if (schema is not null && !Identifier().IsMatch(schema))
        {
            throw new ArgumentException($"schema '{schema}' must be letters, digits and '_' and start with a letter or '_'", nameof(schema));
        }

        Dialect = dialect;
        Schema = dialect == SqlDialect.PostgreSql ? schema ?? "public" : null;
        Prefix = tablePrefix;
    }

    /// <summary>The dialect the names are for.</summary>
    public SqlDialect Dialect { get; }

    /// <summary>The PostgreSQL schema (null for SQLite).</summary>
    public string? Schema { get; }

    /// <summary>The prefix put before every table name.</summary>
    public string Prefix { get; }

    /// <summary>The journal table.</summary>
    public string Journal => Table("journal");

    /// <summary>The snapshot table.</summary>
    public string Snapshots => Table("snapshots");

    /// <summary>The lease table used by write fences.</summary>
    public string Leases => Table("leases");

    /// <summary>The migration bookkeeping table.</summary>
    public string Migrations => Table("schema_migrations");

    /// <summary>A quoted, schema-qualified table name for <paramref name="name"/> with the prefix.</summary>
    public string Table(string name) => Schema is null ? $"\"{Prefix}{name}\"" : $"\"{Schema}\".\"{Prefix}{name}\"";

    /// <summary>An unquoted name with the prefix (for indexes and constraints).</summary>
    public string Plain(string name) => Prefix + name;

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex Identifier();
}
