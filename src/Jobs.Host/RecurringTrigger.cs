using System.Globalization;
using Jobs.Client;

namespace Jobs.Host;

/// <summary>"Trigger now" for a recurring schedule: one job like the schedule's, due at once; the schedule is unchanged.</summary>
internal static class RecurringTrigger
{
    /// <summary>
    /// Schedules one job with the schedule's kind, payload, queue and priority, due now, with the id
    /// <c>rs:&lt;name&gt;:now:&lt;unix ms&gt;</c> (so a repeated click within a millisecond makes one job). It does not
    /// count as an occurrence: limits, overlap and the next occurrence stay as they are.
    /// </summary>
    public static async Task<ScheduleResult> TriggerAsync(IJobsClient client, string name, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var schedule = await client.GetRecurringAsync(name, cancellationToken).ConfigureAwait(false);
        return await client
            .ScheduleAsync(
                new ScheduleRequest
                {
                    Kind = schedule.Kind,
                    Payload = schedule.Payload,
                    Queue = schedule.Queue,
                    Priority = schedule.Priority,
                    JobId = $"rs:{schedule.Name}:now:{now.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}",
                },
                cancellationToken
            )
            .ConfigureAwait(false);
    }
}
