using System.Data.Common;
using System.Globalization;
using Jobs.Persistence.Journal;
using Jobs.Persistence.Sql;

namespace Jobs.Actors.Recurring;

/// <summary>A recurring schedule's row in the schedule index: what the scheduler reads to wake schedules when due.</summary>
internal sealed record RecurringIndexRow(string Name, string Kind, string State, long? NextAtMs, long UpdatedAtMs, bool Deleted);

/// <summary>
/// The recurring-schedule index: one row per schedule (state, next occurrence), written in the same transaction as
/// the schedule's events, so the scheduler finds due schedules without waking every schedule entity.
/// </summary>
internal sealed class RecurringIndex(SqlNames names, Func<CancellationToken, Task<DbConnection>> open) : IWriteParticipant
{
    private string Table => names.Table("recurring_index");

    public async Task EnsureSchemaAsync(DbConnection? connection, SqlDialect dialect, CancellationToken cancellationToken)
    {
        if (connection is null)
        {
            throw new InvalidOperationException(
                "the recurring index needs a database: on the in-memory journal it is wrapped in OwnDatabaseParticipant"
            );
        }

        var migrations = new List<Migration>
        {
            new(
                1,
                "recurring schedule index",
                [
                    $"CREATE TABLE {Table} (name TEXT PRIMARY KEY, kind TEXT NOT NULL, "
                        + "state TEXT NOT NULL, next_at BIGINT, updated_at BIGINT NOT NULL)",
                    $"CREATE INDEX {names.Plain("recurring_index_next")} ON {Table} (state, next_at)",
                ]
            ),
        };
        await MigrationRunner
            .ApplyAsync(connection, names, "recurring-index", migrations, autoMigrate: true, cancellationToken)
            .ConfigureAwait(false);
    }

    public async Task WriteAsync(
        DbTransaction? transaction,
        SqlDialect dialect,
        IReadOnlyList<AtomicWrite> writes,
        CancellationToken cancellationToken
    )
    {
        var rows = writes.Select(w => w.Attachment).OfType<RecurringIndexRow>().ToList();
        if (transaction is null)
        {
            throw new InvalidOperationException(
                "the recurring index writes in the journal's transaction: on the in-memory journal it is wrapped in OwnDatabaseParticipant"
            );
        }

        foreach (var row in rows)
        {
            await using var command = transaction.Connection!.CreateCommand();
            command.Transaction = transaction;
            if (row.Deleted)
            {
                command.CommandText = $"DELETE FROM {Table} WHERE name = @n";
                Add(command, "@n", row.Name);
            }
            else
            {
                command.CommandText =
                    $"INSERT INTO {Table} (name, kind, state, next_at, updated_at) VALUES (@n, @k, @s, @next, @u) "
                    + "ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, state = "
                    + "excluded.state, next_at = excluded.next_at, updated_at = excluded.updated_at";
                Add(command, "@n", row.Name);
                Add(command, "@k", row.Kind);
                Add(command, "@s", row.State);
                Add(command, "@next", row.NextAtMs);
                Add(command, "@u", row.UpdatedAtMs);
            }

            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Active schedules whose next occurrence is at or before <paramref name="now"/>.</summary>
    public async Task<IReadOnlyList<string>> DueAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        return await QueryAsync(
                $"SELECT name FROM {Table} WHERE state = 'active' AND next_at <= @now ORDER BY next_at LIMIT @limit",
                c =>
                {
                    Add(c, "@now", nowMs);
                    Add(c, "@limit", limit);
                },
                cancellationToken
            )
            .ConfigureAwait(false);
    }

    /// <summary>The earliest next occurrence of any active schedule, or null.</summary>
    public async Task<DateTimeOffset?> NextDueAsync(CancellationToken cancellationToken)
    {
        await using var connection = await open(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT MIN(next_at) FROM {Table} WHERE state = 'active'";
        var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return value is null or DBNull ? null : DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(value, CultureInfo.InvariantCulture));
    }

    /// <summary>Every schedule's name, in order.</summary>
    public async Task<IReadOnlyList<string>> NamesAsync(int limit, CancellationToken cancellationToken)
    {
        return await QueryAsync($"SELECT name FROM {Table} ORDER BY name LIMIT @limit", c => Add(c, "@limit", limit), cancellationToken)
            .ConfigureAwait(false);
    }

    private async Task<IReadOnlyList<string>> QueryAsync(string sql, Action<DbCommand> bind, CancellationToken cancellationToken)
    {
        await using var connection = await open(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        bind(command);
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    private static void Add(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }
}
