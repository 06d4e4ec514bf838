using System.Text.Json;
using Jobs.Client;
using Jobs.Client.Http;
using Jobs.Persistence.Sql;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Jobs.Actors.Outbox;

/// <summary>
/// Relays committed outbox rows to the job entities: woken by the commit's notification (and by a poll as a safety
/// net), it reads rows in id order, schedules each through the node's client (idempotent: the row carries the job
/// id), and deletes the row only after the job is stored. Rows for the same job id are relayed one after another in
/// id order; different ids go in parallel. A row the node refuses is kept, marked failed with the error.
/// </summary>
internal sealed class OutboxRelay(
    NpgsqlDataSource dataSource,
    SqlNames names,
    IJobsClient client,
    TimeSpan pollInterval,
    int batchSize,
    ILogger logger
) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _wake = new(0, 1);
    private Task? _listen;
    private Task? _relay;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false))
        {
            await MigrationRunner
                .ApplyAsync(connection, names, "outbox", JobsOutbox.Migrations(names), autoMigrate: true, cancellationToken)
                .ConfigureAwait(false);
        }

        _listen = Task.Run(() => ListenAsync(_stop.Token), CancellationToken.None);
        _relay = Task.Run(() => RelayLoopAsync(_stop.Token), CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var task in new[] { _listen, _relay })
        {
            if (task is not null)
            {
                try
                {
                    await task.ConfigureAwait(false);
                }
                catch (OperationCanceledException) { }
            }
        }

        _stop.Dispose();
    }

    private void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already woken.
        }
    }

    private async Task ListenAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stop).ConfigureAwait(false);
                connection.Notification += (_, _) => Wake();
                await using (var listen = new NpgsqlCommand($"LISTEN {JobsOutbox.Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stop).ConfigureAwait(false);
                }

                Wake(); // rows committed while not listening
                while (!stop.IsCancellationRequested)
                {
                    await connection.WaitAsync(stop).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or System.Net.Sockets.SocketException or IOException)
            {
                logger.LogWarning(ex, "Outbox listener lost its connection; polling until it is back");
                await Task.Delay(pollInterval, stop).ConfigureAwait(false);
            }
        }
    }

    private async Task RelayLoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await _wake.WaitAsync(pollInterval, stop).ConfigureAwait(false);
                while (await RelayBatchAsync(stop).ConfigureAwait(false) == batchSize)
                {
                    // A full batch: there may be more.
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or JobsException or TimeoutException)
            {
                logger.LogWarning(ex, "Relaying the outbox failed; retrying");
            }
        }
    }

    /// <summary>Relays one batch; returns how many rows it read.</summary>
    internal async Task<int> RelayBatchAsync(CancellationToken cancellationToken)
    {
        var rows = new List<(long Id, string JobId, string Request)>();
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false))
        await using (
            var select = new NpgsqlCommand(
                $"SELECT id, job_id, request FROM {JobsOutbox.Table(names)} WHERE NOT failed ORDER BY id LIMIT @limit",
                connection
            )
        )
        {
            select.Parameters.AddWithValue("limit", batchSize);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2)));
            }
        }

        // Waves: each takes the oldest remaining row of every job id, so one id's rows keep their order.
        var remaining = rows;
        while (remaining.Count > 0)
        {
            var wave = remaining.GroupBy(r => r.JobId, StringComparer.Ordinal).Select(g => g.First()).ToList();
            var outcomes = await Task.WhenAll(wave.Select(row => RelayOneAsync(row.Request, cancellationToken))).ConfigureAwait(false);
            var done = new List<long>();
            var failed = new List<(long Id, string Error)>();
            var retry = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < wave.Count; i++)
            {
                switch (outcomes[i])
                {
                    case null:
                        done.Add(wave[i].Id);
                        break;
                    case { Permanent: true } outcome:
                        failed.Add((wave[i].Id, outcome.Error));
                        break;
                    default:
                        retry.Add(wave[i].JobId);
                        break;
                }
            }

            await FinishAsync(done, failed, cancellationToken).ConfigureAwait(false);
            var handled = wave.Select(w => w.Id).ToHashSet();
            // A transient failure stops that id's later rows too (their order must hold); the next round retries.
            remaining = [.. remaining.Where(r => !handled.Contains(r.Id) && !retry.Contains(r.JobId))];
        }

        return rows.Count;
    }

    private async Task<(bool Permanent, string Error)?> RelayOneAsync(string json, CancellationToken cancellationToken)
    {
        try
        {
            var body = JsonSerializer.Deserialize<ScheduleBody>(json, JobsWire.Options) ?? throw new JobValidationException("request", "is empty");
            await client.ScheduleAsync(body.ToRequest(), cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (Exception ex) when (ex is JobValidationException or DuplicateJobException or JobStateConflictException or JsonException)
        {
            logger.LogWarning("Outbox request refused and kept as failed: {Error}", ex.Message);
            return (true, ex.Message);
        }
        catch (JobsException ex)
        {
            return (false, ex.Message);
        }
    }

    private async Task FinishAsync(List<long> done, List<(long Id, string Error)> failed, CancellationToken cancellationToken)
    {
        if (done.Count == 0 && failed.Count == 0)
        {
            return;
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        if (done.Count > 0)
        {
            await using var delete = new NpgsqlCommand($"DELETE FROM {JobsOutbox.Table(names)} WHERE id = ANY(@ids)", connection);
            delete.Parameters.AddWithValue("ids", done.ToArray());
            await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        foreach (var (id, error) in failed)
        {
            await using var mark = new NpgsqlCommand(
                $"UPDATE {JobsOutbox.Table(names)} SET failed = TRUE, attempts = attempts + 1, last_error = @e WHERE id = @id",
                connection
            );
            mark.Parameters.AddWithValue("e", error);
            mark.Parameters.AddWithValue("id", id);
            await mark.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
