using Akka.Actor;
using Jobs.Actors.Hosting;
using Jobs.Actors.Protocol;
using Jobs.Actors.Support;
using Jobs.Client;
using Microsoft.Extensions.Logging;

namespace Jobs.Actors.Scheduling;

/// <summary>
/// The maintenance task (a singleton beside the scheduler): on every interval it destroys finished jobs older than
/// their status's retention period, in bounded batches, through their entities (so events and index rows go
/// together). A full batch is followed by another round at once.
/// </summary>
internal sealed class Retention(JobsRuntime runtime) : JobsActor
{
    /// <inheritdoc />
    protected override JobsRuntime Runtime => runtime;

    private static readonly object TickKey = new();

    protected override void PreStart() => Timers.StartSingleTimer(TickKey, Tick.Instance, runtime.Settings.RetentionInterval);

    protected override bool Receive(object message)
    {
        if (message is not Tick)
        {
            return false;
        }

        RunTask(RoundAsync);
        return true;
    }

    private async Task RoundAsync()
    {
        var settings = runtime.Settings;
        var now = runtime.Clock.GetUtcNow();
        var full = false;
        var removed = 0;
        try
        {
            foreach (
                var (status, period) in new[]
                {
                    ("succeeded", settings.RetainSucceeded),
                    ("failed", settings.RetainFailed),
                    ("cancelled", settings.RetainCancelled),
                }
            )
            {
                if (period == TimeSpan.Zero)
                {
                    continue;
                }

                var ids = await runtime.Index.FinishedBeforeAsync(status, now - period, settings.RetentionBatchSize, CancellationToken.None);
                full |= ids.Count == settings.RetentionBatchSize;
                // A few at a time: bounded work in flight, however large the batch.
                foreach (var chunk in ids.Chunk(16))
                {
                    var results = await Task.WhenAll(chunk.Select(DestroyAsync));
                    removed += results.Count(r => r);
                }
            }

            if (removed > 0)
            {
                Log.LogInformation("Retention removed {Count} finished jobs", removed);
            }
        }
        catch (Exception ex)
        {
            Log.LogWarning(ex, "Retention round failed; trying again next interval");
        }

        // At a fixed rate: the interval counts from this round's start, so a slow round (or time that moved while it
        // ran) does not push the next one further out.
        var next = full ? TimeSpan.Zero : settings.RetentionInterval - (runtime.Clock.GetUtcNow() - now);
        Timers.StartSingleTimer(TickKey, Tick.Instance, next > TimeSpan.Zero ? next : TimeSpan.Zero);
    }

    private async Task<bool> DestroyAsync(string jobId)
    {
        try
        {
            await runtime.Region.AskEntity<JobAck>(new DestroyJob(jobId), TimeSpan.FromSeconds(30));
            return true;
        }
        catch (JobNotFoundException)
        {
            return false; // destroyed meanwhile
        }
    }

    private sealed class Tick : INoSerializationVerificationNeeded
    {
        public static readonly Tick Instance = new();
    }
}
