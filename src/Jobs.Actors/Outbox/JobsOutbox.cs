using System.Text.Json;
using Jobs.Actors.Hosting;
using Jobs.Client;
using Jobs.Client.Http;
using Jobs.Persistence.Journal;
using Jobs.Persistence.Sql;
using Npgsql;

namespace Jobs.Actors.Outbox;

/// <summary>
/// Schedules jobs inside the application's own PostgreSQL transaction (a transactional
/// enqueue): the request is written to the outbox table in that transaction, and a node relays it to the job
/// entity after the commit. The job exists if and only if the transaction commits; a rollback leaves nothing.
/// </summary>
public static class JobsOutbox
{
    /// <summary>The PostgreSQL notification channel that wakes relays at commit.</summary>
    public const string Channel = "jobs_outbox";

    /// <summary>
    /// Writes <paramref name="request"/> to the outbox within <paramref name="transaction"/> and returns the job's id
    /// (generated now when the request names none; derived from the unique key when it has one). The request is
    /// checked by the node when relayed: one it refuses (unknown kind, ...) stays in the outbox marked failed.
    /// </summary>
    /// <param name="transaction">The application's open transaction on the jobs database.</param>
    /// <param name="request">The job to schedule.</param>
    /// <param name="schema">The schema of the jobs tables (jobs.persistence.postgresql.schema).</param>
    /// <param name="tablePrefix">The table prefix (jobs.persistence.table-prefix).</param>
    /// <param name="cancellationToken">Cancels the insert.</param>
    public static async Task<string> ScheduleAsync(
        NpgsqlTransaction transaction,
        ScheduleRequest request,
        string schema = "public",
        string tablePrefix = "jobs_",
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrEmpty(request.Kind))
        {
            throw new JobValidationException("kind", "is required");
        }

        if (request.JobId is not null)
        {
            ScheduleValidator.ValidateJobId(request.JobId);
        }

        var id = request.JobId
            ?? (request.UniqueKey is { } key ? ScheduleValidator.UniqueJobId(request.Kind, key) : Guid.CreateVersion7().ToString("N"));
        var body = ScheduleBody.From(request.UniqueKey is null ? request with { JobId = id } : request);
        var names = new SqlNames(SqlDialect.PostgreSql, schema, tablePrefix);
        await using var command = transaction.Connection!.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"INSERT INTO {Table(names)} (job_id, request) VALUES (@id, @request); SELECT pg_notify('{Channel}', '')";
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("request", JsonSerializer.Serialize(body, JobsWire.Options));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return id;
    }

    /// <summary>Creates the outbox table if it is missing (a node does this at start; call it when the application may write first).</summary>
    public static async Task EnsureSchemaAsync(
        NpgsqlConnection connection,
        string schema = "public",
        string tablePrefix = "jobs_",
        CancellationToken cancellationToken = default
    )
    {
        ArgumentNullException.ThrowIfNull(connection);
        var names = new SqlNames(SqlDialect.PostgreSql, schema, tablePrefix);
        await MigrationRunner.ApplyAsync(connection, names, "outbox", Migrations(names), autoMigrate: true, cancellationToken).ConfigureAwait(false);
    }

    internal static string Table(SqlNames names) => names.Table("outbox");

    internal static IReadOnlyList<Migration> Migrations(SqlNames names) =>
        [
            new(
                1,
                "transactional enqueue outbox",
                [
                    $"CREATE TABLE {Table(names)} (id BIGSERIAL PRIMARY KEY, job_id TEXT NOT "
                        + "NULL, request TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT now(), "
                        + "attempts INTEGER NOT NULL DEFAULT 0, failed BOOLEAN NOT NULL DEFAULT FALSE, last_error TEXT)",
                    $"CREATE INDEX {names.Plain("outbox_pending")} ON {Table(names)} (failed, id)",
                ]
            ),
        ];
}
