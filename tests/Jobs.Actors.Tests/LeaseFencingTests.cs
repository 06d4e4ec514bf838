using Akka.Cluster;
using Jobs.Actors.Entities;
using Jobs.Actors.Sharding;
using Jobs.Client;
using Jobs.Testing;
using Npgsql;

namespace Jobs.Actors.Tests;

/// <summary>
/// On a shared database each shard runs under a lease, and its entities' writes are stored only under the lease's
/// current epoch: once another owner has taken a shard's lease, nothing this node's entity of that shard tries to
/// store lands, and the shard comes back here once the lease is free again.
/// </summary>
[Collection(ClusterTests.Name)]
public sealed class LeaseFencingTests
{
    [Fact]
    public async Task AfterItsShardsLeaseIsTakenOver_AnEntityStoresNothing_UntilItsNodeHoldsTheLeaseAgain()
    {
        var connectionString = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync("fence");
        await using var node = await TestNode.StartAsync(
            Backend.Postgres,
            manualClock: false,
            storageConfig: $"jobs.persistence {{ backend = postgresql, postgresql.connection-string = \"{connectionString}\" }}"
        );
        var id = (
            await node.Client.ScheduleAsync(ScheduleRequest.Create("echo", new EchoPayload("later")) with { Delay = TimeSpan.FromHours(1) })
        ).JobId;
        var system = node.Node.System!;
        var lease = ShardLeases.NameOf(system.Name, JobEntity.TypeName, JobShards.ShardOf(id, 64));
        Assert.Equal(
            1,
            await ExecuteAsync(
                connectionString,
                "SELECT count(*) FROM jobs_leases WHERE name = @n AND owner LIKE @o AND expires_at > 0",
                lease,
                Cluster.Get(system).SelfAddress.HostPort() + "#%"
            )
        );

        // Another owner takes the shard's lease over (what a node does once this one was frozen past the lease).
        await ExecuteAsync(
            connectionString,
            "UPDATE jobs_leases SET owner = 'jobs@elsewhere:1#other', epoch = epoch + 1, expires_at "
                + "= (extract(epoch from clock_timestamp()) * 1000)::bigint + 60000 WHERE name = @n",
            lease
        );
        var events = await ExecuteAsync(connectionString, "SELECT count(*) FROM jobs_journal WHERE persistence_id = @n", "job-" + id);

        // The cancel is not stored: either its write fails the fence, or the shard already stopped on finding its lease
        // gone and waits to take it again (the call then gets no answer in time: its outcome is unknown to the caller).
        using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            var refused = await Record.ExceptionAsync(() => node.Client.CancelAsync(id, wait.Token));
            Assert.True(refused is JobsException or OperationCanceledException, $"the cancel was not refused: {refused}");
        }

        await Task.Delay(500);
        Assert.Equal(events, await ExecuteAsync(connectionString, "SELECT count(*) FROM jobs_journal WHERE persistence_id = @n", "job-" + id));

        // The other owner lets go: the shard takes its lease again at a new epoch, and the job answers and is cancelled
        // (by this call, or by the first one if it waited in the shard for the lease).
        await ExecuteAsync(connectionString, "UPDATE jobs_leases SET expires_at = 0 WHERE name = @n", lease);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await ReadStatusAsync(node, id)) != JobStatus.Cancelled)
        {
            Assert.True(DateTime.UtcNow < deadline, "the job's shard did not come back within 60 s of its lease being free");
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await Record.ExceptionAsync(() => node.Client.CancelAsync(id, wait.Token));
        }

        Assert.Equal(
            1,
            await ExecuteAsync(
                connectionString,
                "SELECT count(*) FROM jobs_leases WHERE name = @n AND epoch >= 3 AND owner NOT LIKE 'jobs@elsewhere%'",
                lease
            )
        );
    }

    private static async Task<JobStatus?> ReadStatusAsync(TestNode node, string id)
    {
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            return (await node.Client.GetAsync(id, wait.Token)).Status;
        }
        catch (Exception ex) when (ex is JobsException or OperationCanceledException)
        {
            return null; // not answering yet
        }
    }

    private static async Task<long> ExecuteAsync(string connectionString, string sql, string name, string? owner = null)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("n", name);
        if (owner is not null)
        {
            command.Parameters.AddWithValue("o", owner);
        }

        return sql.StartsWith("SELECT", StringComparison.Ordinal)
            ? (long)(await command.ExecuteScalarAsync())!
            : await command.ExecuteNonQueryAsync();
    }
}
