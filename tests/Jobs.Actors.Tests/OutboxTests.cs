using Jobs.Actors.Outbox;
using Jobs.Client;
using Jobs.Testing;
using Npgsql;

namespace Jobs.Actors.Tests;

/// <summary>Transactional enqueue on PostgreSQL: a job exists if and only if the application's transaction commits.</summary>
public sealed class OutboxTests : IAsyncLifetime
{
    private string _connectionString = null!;
    private TestNode _node = null!;

    public async Task InitializeAsync()
    {
        _connectionString = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("outbox");
        // A long poll: only the commit notification can make relaying prompt.
        _node = await TestNode.StartAsync(
            Backend.Postgres,
            manualClock: false,
            storageConfig: $"jobs.persistence {{ backend = postgresql, postgresql.connection-string = \"{_connectionString}\" }}",
            extraConfig: "jobs.outbox.poll-interval = 1h"
        );
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var app = new NpgsqlCommand("CREATE TABLE orders (id TEXT PRIMARY KEY)", connection);
        await app.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    private async Task<string> PlaceOrderAsync(string orderId, bool commit, ScheduleRequest? job = null)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand("INSERT INTO orders (id) VALUES (@id)", connection, transaction))
        {
            insert.Parameters.AddWithValue("id", orderId);
            await insert.ExecuteNonQueryAsync();
        }

        var jobId = await JobsOutbox.ScheduleAsync(transaction, job ?? ScheduleRequest.Create("echo", new EchoPayload(orderId)));
        if (commit)
        {
            await transaction.CommitAsync();
        }
        else
        {
            await transaction.RollbackAsync();
        }

        return jobId;
    }

    private async Task<long> OutboxRowsAsync(string where = "TRUE")
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand($"SELECT COUNT(*) FROM jobs_outbox WHERE {where}", connection);
        return (long)(await count.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Commit_CreatesTheJobPromptly_Rollback_LeavesNothing()
    {
        var committed = await PlaceOrderAsync("o-1", commit: true);
        var info = await _node.WaitForStatusAsync(committed, JobStatus.Succeeded, TimeSpan.FromSeconds(10));
        Assert.Equal("o-1", info.Payload.GetProperty("text").GetString());

        var rolledBack = await PlaceOrderAsync("o-2", commit: false);
        await PlaceOrderAsync("o-3", commit: true).ContinueWith(t => _node.WaitForStatusAsync(t.Result, JobStatus.Succeeded)).Unwrap();
        await Assert.ThrowsAsync<JobNotFoundException>(() => _node.Client.GetAsync(rolledBack));
        Assert.Equal(0, await OutboxRowsAsync());
        Assert.Equal(1, _node.Log.Runs(committed));
    }

    [Fact]
    public async Task RowsForOneKey_AreRelayedInOrder_AndRepeatsAreIdempotent()
    {
        var first = ScheduleRequest.Create("echo", new EchoPayload("first")) with { UniqueKey = "order-7", Delay = TimeSpan.FromHours(1) };
        var second = ScheduleRequest.Create("echo", new EchoPayload("second")) with
        {
            UniqueKey = "order-7",
            Delay = TimeSpan.FromHours(2),
            OnConflict = UniqueConflict.Replace,
        };
        await using (var connection = new NpgsqlConnection(_connectionString))
        {
            await connection.OpenAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            var a = await JobsOutbox.ScheduleAsync(transaction, first);
            var b = await JobsOutbox.ScheduleAsync(transaction, second);
            var again = await JobsOutbox.ScheduleAsync(transaction, ScheduleRequest.Create("echo", new EchoPayload("x")) with { JobId = "fixed-id" });
            await JobsOutbox.ScheduleAsync(transaction, ScheduleRequest.Create("echo", new EchoPayload("y")) with { JobId = "fixed-id" });
            Assert.Equal(a, b);
            Assert.Equal("fixed-id", again);
            await transaction.CommitAsync();
        }

        await _node.WaitForStatusAsync("fixed-id", JobStatus.Succeeded);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (await OutboxRowsAsync() > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        var job = await _node.Client.GetAsync("u:echo:order-7");
        Assert.Equal("second", job.Payload.GetProperty("text").GetString());
        Assert.Equal("x", (await _node.Client.GetAsync("fixed-id")).Payload.GetProperty("text").GetString());
        Assert.Equal(1, _node.Log.Runs("fixed-id"));
        Assert.Equal(0, await OutboxRowsAsync());
    }

    [Fact]
    public async Task ARefusedRequest_IsKeptAsFailed_OthersGoOn()
    {
        var bad = await PlaceOrderAsync("o-bad", commit: true, ScheduleRequest.Create("no-such-kind", new EchoPayload("x")));
        var good = await PlaceOrderAsync("o-good", commit: true);
        await _node.WaitForStatusAsync(good, JobStatus.Succeeded);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (await OutboxRowsAsync("failed") == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(1, await OutboxRowsAsync("failed AND last_error LIKE '%not a registered job kind%'"));
        await Assert.ThrowsAsync<JobNotFoundException>(() => _node.Client.GetAsync(bad));
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        Assert.Equal(
            "kind",
            (
                await Assert.ThrowsAsync<JobValidationException>(() =>
                    JobsOutbox.ScheduleAsync(transaction, new ScheduleRequest { Kind = string.Empty })
                )
            ).Field
        );
        Assert.Equal(
            "jobId",
            (
                await Assert.ThrowsAsync<JobValidationException>(() =>
                    JobsOutbox.ScheduleAsync(transaction, new ScheduleRequest { Kind = "echo", JobId = "bad id!" })
                )
            ).Field
        );
    }
}
