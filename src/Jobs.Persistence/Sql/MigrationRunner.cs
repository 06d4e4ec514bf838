using System.Data.Common;
using Jobs.Persistence.Journal;

namespace Jobs.Persistence.Sql;

/// <summary>
/// Applies versioned migrations per component, recording them in the migrations table. Concurrent nodes are
/// serialized (a PostgreSQL advisory lock; SQLite's write lock). With auto-migrate off it only verifies.
/// </summary>
public static class MigrationRunner
{
    /// <summary>Brings <paramref name="component"/> up to its latest migration, or verifies it is there.</summary>
    public static async Task ApplyAsync(
        DbConnection connection,
        SqlNames names,
        string component,
        IReadOnlyList<Migration> migrations,
        bool autoMigrate,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(migrations);
        var latest = migrations.Count == 0 ? 0 : migrations.Max(m => m.Version);
        if (!autoMigrate)
        {
            var found = await CurrentVersionAsync(connection, names, component, cancellationToken).ConfigureAwait(false);
            if (found < latest)
            {
                throw new SchemaVersionException(component, found, latest);
            }

            return;
        }

        await using var transaction = await BeginAsync(connection, names, cancellationToken).ConfigureAwait(false);
        if (names.Dialect == SqlDialect.PostgreSql)
        {
            // The lock comes first: CREATE SCHEMA IF NOT EXISTS is not safe against itself (nodes starting together on
            // a fresh database failed with a duplicate key in pg_namespace).
            await ExecuteAsync(connection, transaction, "SELECT pg_advisory_xact_lock(hashtext('jobs-schema-migrations'))", cancellationToken)
                .ConfigureAwait(false);
            if (names.Schema is not null)
            {
                await ExecuteAsync(connection, transaction, $"CREATE SCHEMA IF NOT EXISTS \"{names.Schema}\"", cancellationToken)
                    .ConfigureAwait(false);
            }
        }

        await ExecuteAsync(
                connection,
                transaction,
                $"CREATE TABLE IF NOT EXISTS {names.Migrations} (component TEXT NOT NULL, version INTEGER NOT "
                    + "NULL, description TEXT NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (component, version))",
                cancellationToken
            )
            .ConfigureAwait(false);
        var current = await VersionInTransactionAsync(connection, transaction, names, component, cancellationToken).ConfigureAwait(false);
        foreach (var migration in migrations.Where(m => m.Version > current).OrderBy(m => m.Version))
        {
            foreach (var statement in migration.Statements)
            {
                await ExecuteAsync(connection, transaction, statement, cancellationToken).ConfigureAwait(false);
            }

            await using var record = connection.CreateCommand();
            record.Transaction = transaction;
            record.CommandText = $"INSERT INTO {names.Migrations} (component, version, description, applied_at) VALUES (@c, @v, @d, @t)";
            AddParameter(record, "@c", component);
            AddParameter(record, "@v", migration.Version);
            AddParameter(record, "@d", migration.Description);
            AddParameter(record, "@t", DateTimeOffset.UtcNow.ToString("O"));
            await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<DbTransaction> BeginAsync(DbConnection connection, SqlNames names, CancellationToken cancellationToken)
    {
        if (names.Dialect == SqlDialect.Sqlite)
        {
            // BEGIN IMMEDIATE takes the write lock up front, so two processes cannot both decide to migrate.
            return await connection.BeginTransactionAsync(System.Data.IsolationLevel.Serializable, cancellationToken).ConfigureAwait(false);
        }

        return await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<int> CurrentVersionAsync(DbConnection connection, SqlNames names, string component, CancellationToken cancellationToken)
    {
        try
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            return await VersionInTransactionAsync(connection, transaction, names, component, cancellationToken).ConfigureAwait(false);
        }
        catch (DbException)
        {
            return 0; // no migrations table yet
        }
    }

    private static async Task<int> VersionInTransactionAsync(
        DbConnection connection,
        DbTransaction transaction,
        SqlNames names,
        string component,
        CancellationToken cancellationToken
    )
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT COALESCE(MAX(version), 0) FROM {names.Migrations} WHERE component = @c";
        AddParameter(command, "@c", component);
        var result = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return Convert.ToInt32(result, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
