using Jobs.Client;

namespace Jobs.Testing.Faults;

/// <summary>Reads the end of a fault scenario into its history: each attempted job's final state.</summary>
public static class FinalStates
{
    /// <summary>
    /// Waits until every acknowledged job of <paramref name="history"/> has finished (or <paramref name="timeout"/>
    /// passed) and records each attempted job's final state and its attempts' stored outcomes (none for an unknown outcome that was never stored);
    /// <paramref name="recorded"/>, when given, sees each job read.
    /// </summary>
    public static async Task RecordFinalStatesAsync(this History history, IJobsClient client, TimeSpan timeout, Action<JobInfo>? recorded = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(client);
        var events = history.Events;
        var acknowledged = events.Where(e => e.Kind == HistoryKind.Acknowledged).Select(e => e.JobId).ToHashSet(StringComparer.Ordinal);
        var deadline = DateTime.UtcNow + timeout;
        foreach (var id in events.Where(e => e.Kind == HistoryKind.Attempted).Select(e => e.JobId).Distinct(StringComparer.Ordinal).ToList())
        {
            JobInfo? info;
            while (true)
            {
                try
                {
                    info = await client.GetAsync(id).ConfigureAwait(false);
                }
                catch (JobNotFoundException)
                {
                    info = null;
                }

                var done = info is null ? !acknowledged.Contains(id) : info.Status is JobStatus.Succeeded or JobStatus.Failed or JobStatus.Cancelled;
                if (done || DateTime.UtcNow > deadline)
                {
                    break;
                }

                await Task.Delay(100).ConfigureAwait(false);
            }

            if (info is not null)
            {
                history.Add(HistoryKind.Final, id, detail: info.Status.ToString());
                foreach (var attempt in info.Attempts)
                {
                    history.Add(HistoryKind.Recorded, id, attempt.Node, attempt.Number, attempt.Outcome.ToString());
                }

                recorded?.Invoke(info);
            }
        }
    }
}
