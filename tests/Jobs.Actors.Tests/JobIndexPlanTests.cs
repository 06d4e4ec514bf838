using System.Data.Common;
using Jobs.Actors.Index;
using Jobs.Client;
using Jobs.Persistence.Journal;
using Jobs.Persistence.Sql;
using Jobs.Persistence.Sqlite;

namespace Jobs.Actors.Tests;

/// <summary>The scheduler's due-job query on SQLite: it reads an index in the queue's order and stops at its limit.</summary>
public sealed class JobIndexPlanTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("jobs-index-plan-").FullName;
    private JobIndex _index = null!;
    private DbConnection _connection = null!;

    private async Task<DbConnection> OpenAsync(CancellationToken ct) =>
        await SqliteJournal.OpenAsync($"Data Source={Path.Combine(_directory, "jobs.db")}", ct);

    public async Task InitializeAsync()
    {
        _index = new JobIndex(SqlDialect.Sqlite, new SqlNames(SqlDialect.Sqlite, null, "jobs_"), OpenAsync);
        _connection = await OpenAsync(CancellationToken.None);
        await _index.EnsureSchemaAsync(_connection, SqlDialect.Sqlite, CancellationToken.None);

        // A backlog of 3,000 due jobs with mixed priorities and due times, and 1,000 finished ones.
        await using var transaction = await _connection.BeginTransactionAsync();
        await using var insert = _connection.CreateCommand();
        insert.CommandText =
            "INSERT INTO jobs_job_index (job_id, kind, queue, priority, status, due_at, created_at, updated_at, attempts, shard) "
            + "VALUES ($id, 'noop', 'default', $priority, $status, $due, 0, 0, 0, 0)";
        var id = insert.CreateParameter();
        id.ParameterName = "$id";
        var priority = insert.CreateParameter();
        priority.ParameterName = "$priority";
        var status = insert.CreateParameter();
        status.ParameterName = "$status";
        var due = insert.CreateParameter();
        due.ParameterName = "$due";
        insert.Parameters.AddRange(new[] { id, priority, status, due });
        for (var i = 0; i < 4_000; i++)
        {
            id.Value = $"job-{i:D5}";
            priority.Value = i % 7;
            status.Value = i < 1_000 ? "succeeded" : "pending";
            due.Value = Now.ToUnixTimeMilliseconds() - 60_000 + (i * 13 % 50_000);
            await insert.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
    }

    public async Task DisposeAsync()
    {
        await _connection.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private static readonly DateTimeOffset Now = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(QueueOrder.PriorityFirst, "jobs_job_index_pending_priority")]
    [InlineData(QueueOrder.RunAtFirst, "jobs_job_index_pending_order")]
    public async Task DueQuery_ReadsTheIndexInTheQueuesOrder_WithoutSortingEveryDueRow(QueueOrder order, string index)
    {
        await using var command = _index.DueCommand(_connection, "default", Now, 100, order, [], ["noop"]);
        command.CommandText = "EXPLAIN QUERY PLAN " + command.CommandText;
        var plan = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(3));
            }
        }

        var shown = string.Join("; ", plan);
        Assert.False(plan.Any(step => step.Contains("TEMP B-TREE", StringComparison.Ordinal)), "sorts the whole backlog: " + shown);
        Assert.True(plan.Any(step => step.Contains("USING INDEX " + index, StringComparison.Ordinal)), shown);
    }

    [Theory]
    [InlineData(QueueOrder.PriorityFirst)]
    [InlineData(QueueOrder.RunAtFirst)]
    public async Task DueQuery_ReturnsTheFirstDueJobsInTheQueuesOrder(QueueOrder order)
    {
        var due = await _index.DueAsync("default", Now, 50, order, [], null, CancellationToken.None);

        var expected = Enumerable
            .Range(1_000, 3_000)
            .Select(i => (Id: $"job-{i:D5}", Priority: i % 7, Due: Now.ToUnixTimeMilliseconds() - 60_000 + (i * 13 % 50_000)))
            .Where(j => j.Due <= Now.ToUnixTimeMilliseconds());
        var ordered =
            order == QueueOrder.PriorityFirst
                ? expected.OrderByDescending(j => j.Priority).ThenBy(j => j.Due).ThenBy(j => j.Id, StringComparer.Ordinal)
                : expected.OrderBy(j => j.Due).ThenByDescending(j => j.Priority).ThenBy(j => j.Id, StringComparer.Ordinal);
        Assert.Equal(ordered.Take(50).Select(j => j.Id), due.Select(d => d.Id));
    }
}
