using Jobs.Actors.Hosting;
using Jobs.Actors.Protocol;
using Akka.Actor;
using Jobs.Actors.Support;
using Microsoft.Extensions.Logging;

namespace Jobs.Actors.Scheduling;

/// <summary>
/// The scheduler singleton: a timer that wakes due jobs. Each pass reads due jobs per queue from the index (earliest
/// first, then priority), as many as that queue has free workers, and wakes their entities; then it re-arms for
/// the earliest next due time. Entities tell it about earlier due times, pools about freed workers. Jobs wait as
/// rows, not actors, so a million future jobs cost no memory here.
/// </summary>
internal sealed class Scheduler(JobsRuntime runtime) : JobsActor
{
    /// <inheritdoc />
    protected override JobsRuntime Runtime => runtime;

    private static readonly object TickKey = new();

    /// <summary>How long (real time, in ms) a woken job is not woken again while its entity asks for admission.</summary>
    private const long WakeGraceMs = 500;

    /// <summary>
    /// Jobs woken lately (with Environment.TickCount64 and their queue) that their pool has not admitted yet: still
    /// pending in the index, so a pass skips them, and their slots are spoken for, so a pass does not give those
    /// slots to jobs of lower rank.
    /// </summary>
    private readonly Dictionary<string, (long Tick, string Queue)> _woken = new(StringComparer.Ordinal);
    private DateTimeOffset? _nextWake;

    protected override void PreStart()
    {
        Self.Tell(RecoverStale.Instance, Self);
        Self.Tell(SchedulerTick.Instance, Self);
    }

    protected override bool Receive(object message)
    {
        switch (message)
        {
            case SchedulerTick:
                _nextWake = null;
                RunTask(PassAsync);
                return true;
            case JobDue due:
                if (due.JobId is { } id)
                {
                    _woken.Remove(id); // pending again (a retry, a reschedule): the next pass may wake it
                }

                Arm(due.DueAt);
                return true;
            case CapacityAvailable available:
                if (available.ReleasedJobId is { } released)
                {
                    _woken.Remove(released); // it had its slot (and ran, or gave it back): its wake is settled
                }

                Arm(runtime.Clock.GetUtcNow());
                return true;
            case WakeRejected rejected:
                _woken.Remove(rejected.JobId); // its pool turned it away: the next pass may wake it again
                return true;
            case RecoverStale:
                RunTask(RecoverStaleAsync);
                return true;
            case Ping:
                Sender.Tell(Pong.Instance, Self);
                return true;
            default:
                return false;
        }
    }

    private void Arm(DateTimeOffset at)
    {
        if (_nextWake is { } next && next <= at)
        {
            return;
        }

        _nextWake = at;
        var delay = at - runtime.Clock.GetUtcNow();
        Timers.StartSingleTimer(TickKey, SchedulerTick.Instance, delay > TimeSpan.Zero ? delay : TimeSpan.Zero);
    }

    private async Task PassAsync()
    {
        var now = runtime.Clock.GetUtcNow();
        var moreDueThanCapacity = false;
        var tick = Environment.TickCount64;
        foreach (var (id, _) in _woken.Where(w => tick - w.Value.Tick >= WakeGraceMs).ToList())
        {
            _woken.Remove(id);
        }

        try
        {
            var saturated = runtime.KindLimits.Saturated();
            foreach (var (queue, pool) in runtime.Pools)
            {
                var status = await pool.Ask<PoolStatus>(GetPoolStatus.Instance, TimeSpan.FromSeconds(10));
                var admitted = status.Admitted ?? [];
                foreach (var id in admitted)
                {
                    _woken.Remove(id); // its pool has it: skipped through the admitted list while still pending in the index
                }

                if (!status.Admitting || status.Paused || status.Free == 0)
                {
                    continue;
                }

                var inFlight = _woken.Values.Count(w => w.Queue == queue);
                var limit = Math.Min(status.Free - inFlight, runtime.Settings.SchedulerBatchSize);
                if (limit <= 0)
                {
                    moreDueThanCapacity = true; // the woken ones are admitted or turned away shortly; look again then
                    continue;
                }

                // Jobs admitted or woken lately are still pending in the index: read past them, and skip them.
                var read = await runtime.Index.DueAsync(queue, now, limit + admitted.Count + inFlight, runtime.Settings.OrderOf(queue), saturated, CancellationToken.None);
                var skip = admitted as ISet<string> ?? new HashSet<string>(admitted, StringComparer.Ordinal);
                var due = read.Where(id => !_woken.ContainsKey(id) && !skip.Contains(id)).Take(limit).ToList();
                if (due.Count > 1)
                {
                    // Entities ask for their slots in whatever order they get to run: the pool keeps this order.
                    pool.Tell(new ExpectWoken(due), Self);
                }

                foreach (var id in due)
                {
                    _woken[id] = (tick, queue);
                    runtime.Region.Tell(new WakeJob(id), Self);
                }

                moreDueThanCapacity |= due.Count == limit || read.Count > due.Count;
            }

            var dueSchedules = await runtime.RecurringIndex.DueAsync(now, 1000, CancellationToken.None);
            foreach (var name in dueSchedules)
            {
                runtime.Recurring.Tell(new Recurring.WakeRecurring(name), Self);
            }

            if (moreDueThanCapacity)
            {
                // A backlog: freed workers wake the next pass; this is only the safety net (no need to ask the
                // index for the next due time, which the backlog precedes anyway).
                Arm(now + TimeSpan.FromMilliseconds(50));
                return;
            }

            var nextJob = await runtime.Index.NextDueAsync(CancellationToken.None);
            var nextSchedule = await runtime.RecurringIndex.NextDueAsync(CancellationToken.None);
            var nextDue = nextJob is null ? nextSchedule : nextSchedule is null ? nextJob : nextJob < nextSchedule ? nextJob : nextSchedule;
            var latest = now + runtime.Settings.SchedulerMaxSleep;
            Arm(nextDue is { } n && n > now && n < latest ? n : latest);
        }
        catch (Exception ex)
        {
            Log.LogWarning(ex, "Scheduler pass failed; retrying in {Delay}", runtime.Settings.SchedulerMaxSleep);
            Arm(now + runtime.Settings.SchedulerMaxSleep);
        }
    }

    private async Task RecoverStaleAsync()
    {
        try
        {
            var stale = await runtime.Index.StaleRunningAsync(runtime.Incarnation, 100_000, CancellationToken.None);
            foreach (var id in stale)
            {
                runtime.Region.Tell(new WakeJob(id), Self);
            }

            if (stale.Count > 0)
            {
                Log.LogInformation("Found {Count} jobs whose attempts were lost with a previous process; retrying them", stale.Count);
            }
        }
        catch (Exception ex)
        {
            Log.LogWarning(ex, "Looking for lost attempts failed; trying again");
            Timers.StartSingleTimer(RecoverStale.Instance, RecoverStale.Instance, runtime.Settings.SchedulerMaxSleep);
        }
    }

    /// <summary>From a pool: a woken job was not admitted (no slot, paused, or its kind at its cap).</summary>
    internal sealed record WakeRejected(string JobId) : Serialization.IWireMessage;

    private sealed class RecoverStale : INoSerializationVerificationNeeded
    {
        public static readonly RecoverStale Instance = new();
    }
}
