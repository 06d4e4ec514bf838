using Akka.Actor;
using Jobs.Actors.Hosting;
using Jobs.Actors.Protocol;
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
    private readonly Dictionary<string, (long Tick, string Queue, string Kind)> _woken = new(StringComparer.Ordinal);
    private DateTimeOffset? _nextWake;

    /// <summary>Whether a member's pool did not answer this pass (capped kinds then wait: their count is unknown).</summary>
    private bool _unanswered;

    /// <summary>Whether the last pass left a free slot in some pool (a job turned away by a full pool may find it).</summary>
    private bool _freeSeen = true;

    // Passes that failed in a row (the database away): the first is logged with its exception, the rest briefly.
    private int _failedPasses;

    /// <summary>The pools of other members, identified once (forgotten when one does not answer or its member leaves).</summary>
    private readonly Dictionary<(Akka.Actor.Address Node, string Queue), IActorRef> _remotePools = [];

    /// <summary>How often (ms) a pass asks sharding again which member hosts which job shard.</summary>
    private const long ShardHomesRefreshMs = 3000;

    /// <summary>
    /// The member hosting each started job shard, by shard number, as sharding last told (empty on one member, and
    /// for shards not started yet). Only a preference: a stale entry sends a job's attempt to another member's pool.
    /// </summary>
    private readonly Dictionary<int, Akka.Actor.Address> _shardHomes = [];
    private long? _shardHomesAskedAt;
    private bool _shardHomesAsking;

    /// <summary>
    /// The pending look at jobs woken and not admitted (<see cref="WokenCheck"/>), in real time: a wake that led to no
    /// admission (its message lost in a shard hand-off, its entity busy) is woken again by the pass it arms, not after
    /// the scheduler's longest sleep.
    /// </summary>
    private ICancelable? _wokenCheck;

    /// <summary>The pass after a failed one, in real time (<see cref="RetryDelay"/>).</summary>
    private ICancelable? _retryPass;

    protected override void PreStart()
    {
        Self.Tell(RecoverStale.Instance, Self);
        Self.Tell(SchedulerTick.Instance, Self);
        Akka.Cluster.Cluster.Get(Context.System)
            .Subscribe(
                Self,
                Akka.Cluster.ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot,
                typeof(Akka.Cluster.ClusterEvent.MemberRemoved)
            );
    }

    /// <inheritdoc />
    protected override void PostStop()
    {
        _wokenCheck?.Cancel();
        _retryPass?.Cancel();
        Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
        base.PostStop();
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
                if (!_woken.Remove(rejected.JobId) && _freeSeen)
                {
                    // A due job that asked its own member's pool directly found no slot there (full, or its kind not
                    // run there) while the last pass saw free slots elsewhere: look for one now, not at the next wake.
                    Arm(runtime.Clock.GetUtcNow());
                }

                return true;
            case RecoverStale:
                RunTask(RecoverStaleAsync);
                return true;
            case RetryPass:
                _retryPass = null;
                Arm(runtime.Clock.GetUtcNow());
                return true;
            case WokenCheck:
                _wokenCheck = null;
                var checkedAt = Environment.TickCount64;
                if (_woken.Values.Any(w => checkedAt - w.Tick >= WakeGraceMs))
                {
                    Log.LogDebug("Jobs woken {Grace} ms ago are not admitted yet: a pass wakes them again", WakeGraceMs);
                    Arm(runtime.Clock.GetUtcNow());
                }
                else if (_woken.Count > 0)
                {
                    CheckWokenLater();
                }

                return true;
            case Akka.Cluster.ClusterEvent.MemberRemoved removed:
                // The attempts the removed member was running are lost, but the entities of those that lived there
                // too (a handler that ran where its entity lived) hear from nobody: wake them at their shards' new
                // homes (which take the shards once the dead member's leases are free), where each finds its attempt
                // lost and retries it; again a little later, in case the first wake went to the dead member's region.
                foreach (var shard in _shardHomes.Where(h => h.Value.Equals(removed.Member.Address)).Select(h => h.Key).ToList())
                {
                    _shardHomes.Remove(shard); // they move: asked again at the next pass
                    _shardHomesAskedAt = null;
                }

                var incarnation = NodeIncarnation.Of(removed.Member.UniqueAddress);
                Timers.StartSingleTimer(("removed", incarnation, 1), new WakeRunningOn(incarnation), TimeSpan.FromSeconds(2));
                Timers.StartSingleTimer(("removed", incarnation, 2), new WakeRunningOn(incarnation), TimeSpan.FromSeconds(10));
                return true;
            case WakeRunningOn wake:
                RunTask(() => WakeRunningOnAsync(wake.Incarnation));
                return true;
            case Akka.Cluster.ClusterEvent.CurrentClusterState:
                return true;
            case ShardHomesRead read:
                _shardHomesAsking = false;
                if (read.Stats is { } stats)
                {
                    _shardHomes.Clear();
                    foreach (var (member, region) in stats.Regions)
                    {
                        foreach (var shard in region.Stats.Keys)
                        {
                            if (
                                int.TryParse(
                                    shard,
                                    System.Globalization.NumberStyles.None,
                                    System.Globalization.CultureInfo.InvariantCulture,
                                    out var n
                                )
                            )
                            {
                                _shardHomes[n] = member;
                            }
                        }
                    }
                }

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
        var cluster = Akka.Cluster.Cluster.Get(Context.System);
        AskShardHomes(cluster);
        var now = runtime.Clock.GetUtcNow();
        var moreDueThanCapacity = false;
        var tick = Environment.TickCount64;
        foreach (var (id, _) in _woken.Where(w => tick - w.Value.Tick >= WakeGraceMs).ToList())
        {
            _woken.Remove(id);
        }

        try
        {
            // Every queue's pools on every member: their free slots, the jobs they hold, and of which kinds.
            var queues = new List<(string Queue, List<PoolView> Pools, HashSet<string> Admitted)>();
            _unanswered = false;
            foreach (var queue in runtime.Pools.Keys.Union(runtime.Directory.RemoteQueues).Order(StringComparer.Ordinal))
            {
                var pools = await PoolsOfAsync(queue, cluster);
                var admitted = new HashSet<string>(pools.SelectMany(p => p.Status.Admitted ?? []), StringComparer.Ordinal);
                foreach (var id in admitted)
                {
                    _woken.Remove(id); // its pool has it: skipped through the admitted list while still pending in the index
                }

                queues.Add((queue, pools, admitted));
            }

            var permits = Permits(queues.SelectMany(q => q.Pools));
            var saturated = permits.Where(p => p.Value <= 0).Select(p => p.Key).ToList();
            var freeSeen = false;
            foreach (var (queue, pools, admitted) in queues)
            {
                // Pools are grouped by the kinds their members run (one group when every member runs every kind):
                // each group gets only due jobs of kinds it runs, so a kind no open member runs never takes a slot.
                var open = pools.Where(p => p.Status is { Admitting: true, Paused: false, Free: > 0 }).ToList();
                foreach (var group in open.GroupBy(p => string.Join('\n', p.Status.Kinds ?? []), StringComparer.Ordinal))
                {
                    var members = group.ToList();
                    var kinds = members[0].Status.Kinds?.Except(saturated, StringComparer.Ordinal).ToList(); // null: a member that does not say
                    if (kinds is { Count: 0 })
                    {
                        continue;
                    }

                    var inFlight = _woken.Values.Count(w => w.Queue == queue);
                    var limit = Math.Min(members.Sum(p => p.Status.Free) - inFlight, runtime.Settings.SchedulerBatchSize);
                    if (limit <= 0)
                    {
                        moreDueThanCapacity = true; // the woken ones are admitted or turned away shortly; look again then
                        continue;
                    }

                    // Jobs admitted or woken lately are still pending in the index: read past them, and skip them.
                    var read = await runtime.Index.DueAsync(
                        queue,
                        now,
                        limit + admitted.Count + inFlight,
                        runtime.Settings.OrderOf(queue),
                        saturated,
                        kinds,
                        CancellationToken.None
                    );
                    var due = read.Where(j => !_woken.ContainsKey(j.Id) && !admitted.Contains(j.Id) && TakePermit(permits, j.Kind))
                        .Take(limit)
                        .ToList();
                    foreach (var (pool, jobs) in Assign(due, members, inFlight, HomeOf))
                    {
                        foreach (var (id, kind) in jobs)
                        {
                            _woken[id] = (tick, queue, kind);
                        }

                        // The pool wakes them through its member's region, in this order, which it keeps while their
                        // entities ask for slots in whatever order they get to run.
                        pool.Ref.Tell(new ExpectWoken([.. jobs.Select(j => j.Id)], Wake: true), Self);
                        Log.LogDebug("Woke {Count} jobs of queue {Queue} to the pool on {Node}", jobs.Count, queue, pool.Node);
                        CheckWokenLater();
                    }

                    freeSeen |= due.Count < limit;
                    moreDueThanCapacity |= due.Count == limit || read.Count > due.Count;
                }
            }

            _freeSeen = freeSeen;
            if (_failedPasses > 0)
            {
                Log.LogInformation("Scheduler passes work again after {Failed} failed ones", _failedPasses);
                _failedPasses = 0;
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
            var nextDue =
                nextJob is null ? nextSchedule
                : nextSchedule is null ? nextJob
                : nextJob < nextSchedule ? nextJob
                : nextSchedule;
            var latest = now + runtime.Settings.SchedulerMaxSleep;
            Arm(nextDue is { } n && n > now && n < latest ? n : latest);
        }
        catch (Exception ex)
        {
            var retryIn = RetryDelay(++_failedPasses, runtime.Settings.SchedulerMaxSleep);
            if (_failedPasses == 1)
            {
                Log.LogWarning(
                    ex,
                    "Scheduler pass failed; retrying in {Delay}, then less often up to every {MaxSleep}",
                    retryIn,
                    runtime.Settings.SchedulerMaxSleep
                );
            }
            else if (_failedPasses % 10 == 0)
            {
                Log.LogWarning("Scheduler passes still failing ({Failed} in a row): {Error}", _failedPasses, ex.Message);
            }

            // The retry waits real time (a database outage does, whatever the node's clock does); the longest sleep
            // on the node's clock stays the safety net.
            Arm(now + runtime.Settings.SchedulerMaxSleep);
            _retryPass?.Cancel();
            _retryPass = Context.System.Scheduler.ScheduleTellOnceCancelable(retryIn, Self, RetryPass.Instance, Self);
        }
    }

    /// <summary>
    /// How long after the <paramref name="failed"/>th failed pass in a row the next one runs: 1 s, doubling, at most
    /// <paramref name="maxSleep"/> (a database away for a moment does not hold due jobs for the longest sleep).
    /// </summary>
    internal static TimeSpan RetryDelay(int failed, TimeSpan maxSleep)
    {
        var delay = TimeSpan.FromSeconds(Math.Pow(2, Math.Min(failed - 1, 20)));
        return delay < maxSleep ? delay : maxSleep;
    }

    /// <summary>Looks again, in real time after twice the wake grace, at jobs woken and not admitted (one look pending at a time).</summary>
    private void CheckWokenLater() =>
        _wokenCheck ??= Context.System.Scheduler.ScheduleTellOnceCancelable(
            TimeSpan.FromMilliseconds(2 * WakeGraceMs),
            Self,
            WokenCheck.Instance,
            Self
        );

    /// <summary>
    /// With more than one member, asks sharding (every few seconds, one question at a time) which member hosts which
    /// job shard; the answer arrives as <see cref="ShardHomesRead"/>.
    /// </summary>
    private void AskShardHomes(Akka.Cluster.Cluster cluster)
    {
        if (cluster.State.Members.Count <= 1)
        {
            _shardHomes.Clear();
            return;
        }

        var tick = Environment.TickCount64;
        if (_shardHomesAsking || tick - _shardHomesAskedAt < ShardHomesRefreshMs)
        {
            return;
        }

        _shardHomesAsking = true;
        _shardHomesAskedAt = tick;
        runtime
            .Region.Ask<Akka.Cluster.Sharding.ClusterShardingStats>(
                new Akka.Cluster.Sharding.GetClusterShardingStats(TimeSpan.FromSeconds(2)),
                TimeSpan.FromSeconds(4)
            )
            .PipeTo(Self, success: stats => new ShardHomesRead(stats), failure: _ => new ShardHomesRead(null));
    }

    /// <summary>The member hosting job <paramref name="jobId"/>'s entity as last known, or null.</summary>
    private Akka.Actor.Address? HomeOf(string jobId) => _shardHomes.TryGetValue(runtime.ShardOf(jobId), out var home) ? home : null;

    /// <summary>
    /// What each capped kind may still start now: its cap (jobs.kind-limits, the same on every member, or the kind's
    /// registration) less the slots
    /// its jobs hold in every pool of the cluster and the jobs of it woken and not admitted yet. When a member did not
    /// answer this pass, its holdings are unknown: no capped kind starts until it answers or leaves.
    /// </summary>
    private Dictionary<string, int> Permits(IEnumerable<PoolView> pools)
    {
        var permits = new Dictionary<string, int>(runtime.KindCaps, StringComparer.Ordinal);
        foreach (var (kind, max) in runtime.Directory.RemoteCaps)
        {
            permits.TryAdd(kind, max); // a kind this member does not run, capped in the code of the members that do
        }

        if (permits.Count == 0)
        {
            return permits;
        }

        if (_unanswered)
        {
            return permits.ToDictionary(p => p.Key, _ => 0, StringComparer.Ordinal);
        }

        foreach (var pool in pools)
        {
            foreach (var (kind, held) in pool.Status.Held ?? new Dictionary<string, int>())
            {
                if (permits.ContainsKey(kind))
                {
                    permits[kind] -= held;
                }
            }
        }

        foreach (var woken in _woken.Values)
        {
            if (permits.ContainsKey(woken.Kind))
            {
                permits[woken.Kind]--;
            }
        }

        return permits;
    }

    /// <summary>Whether a due job of <paramref name="kind"/> may be woken (a capped kind uses up one permit).</summary>
    private static bool TakePermit(Dictionary<string, int> permits, string kind)
    {
        if (!permits.TryGetValue(kind, out var left))
        {
            return true;
        }

        if (left <= 0)
        {
            return false;
        }

        permits[kind] = left - 1;
        return true;
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

    private async Task WakeRunningOnAsync(string incarnation)
    {
        try
        {
            var running = await runtime.Index.RunningUnderAsync(incarnation, 100_000, CancellationToken.None);
            foreach (var id in running)
            {
                runtime.Region.Tell(new WakeJob(id), Self);
            }

            if (running.Count > 0)
            {
                Log.LogInformation(
                    "{Count} jobs were running on the removed member {Incarnation}: woke them to run again",
                    running.Count,
                    incarnation
                );
            }
        }
        catch (Exception ex)
        {
            Log.LogWarning(ex, "Looking for the jobs of the removed member {Incarnation} failed; trying again", incarnation);
            Timers.StartSingleTimer(("removed", incarnation, 3), new WakeRunningOn(incarnation), runtime.Settings.SchedulerMaxSleep);
        }
    }

    /// <summary>
    /// The pools of <paramref name="queue"/> on the members that are up, with their status; a member that does not
    /// answer in time (or runs no such queue) is left out of this pass.
    /// </summary>
    private async Task<List<PoolView>> PoolsOfAsync(string queue, Akka.Cluster.Cluster cluster)
    {
        var system = Context.System;
        var asks = new List<Task<PoolView?>>();
        var members = cluster.State.Members.Select(m => m.Address).ToHashSet();
        foreach (var gone in _remotePools.Keys.Where(k => !members.Contains(k.Node)).ToList())
        {
            _remotePools.Remove(gone);
        }

        foreach (var member in cluster.State.Members.Where(m => m.Status == Akka.Cluster.MemberStatus.Up && !cluster.State.Unreachable.Contains(m)))
        {
            asks.Add(AskPoolAsync(member.Address, member.Address.Equals(cluster.SelfAddress)));
        }

        var answers = await Task.WhenAll(asks);
        return [.. answers.OfType<PoolView>()];

        async Task<PoolView?> AskPoolAsync(Akka.Actor.Address node, bool local)
        {
            try
            {
                if (local)
                {
                    if (!runtime.Pools.TryGetValue(queue, out var pool))
                    {
                        return null; // this member runs no such queue
                    }

                    return new PoolView(node, pool, true, await pool.Ask<PoolStatus>(GetPoolStatus.Instance, TimeSpan.FromSeconds(10)));
                }

                if (!_remotePools.TryGetValue((node, queue), out var remote))
                {
                    var identity = await system
                        .ActorSelection(Workers.WorkerPool.PathOn(node, queue))
                        .Ask<ActorIdentity>(new Identify(queue), TimeSpan.FromSeconds(2));
                    if (identity.Subject is null)
                    {
                        return null; // that member runs no such queue
                    }

                    remote = _remotePools[(node, queue)] = identity.Subject;
                }

                return new PoolView(node, remote, false, await remote.Ask<PoolStatus>(GetPoolStatus.Instance, TimeSpan.FromSeconds(2)));
            }
            catch (AskTimeoutException)
            {
                _unanswered = true; // what its pools hold is unknown this pass
                _remotePools.Remove((node, queue)); // identified again next time
                return null; // busy or leaving: its slots wait for the next pass
            }
        }
    }

    /// <summary>
    /// Spreads due jobs (best first) over the open pools: each to the pool on the member hosting its entity
    /// (<paramref name="homeOf"/>) while that pool has a free slot, otherwise to the pool with the most free slots left
    /// (slots already spoken for by woken jobs count against every pool alike).
    /// </summary>
    private static IEnumerable<(PoolView Pool, List<(string Id, string Kind)> Jobs)> Assign(
        List<(string Id, string Kind)> due,
        List<PoolView> open,
        int inFlight,
        Func<string, Akka.Actor.Address?> homeOf
    )
    {
        var free = open.Select(p => p.Status.Free - (inFlight / open.Count)).ToArray();
        var jobs = open.Select(_ => new List<(string Id, string Kind)>()).ToArray();
        foreach (var job in due)
        {
            // The pool on the member that hosts the job's entity, while it has a free slot: the attempt's messages
            // (admission, start, report) then stay in one process.
            var best = open.Count > 1 && homeOf(job.Id) is { } home ? open.FindIndex(p => p.Node.Equals(home)) : -1;
            if (best < 0 || free[best] <= 0)
            {
                best = 0;
                for (var i = 1; i < free.Length; i++)
                {
                    if (free[i] > free[best] || (free[i] == free[best] && open[i].IsLocal))
                    {
                        best = i;
                    }
                }
            }

            jobs[best].Add(job);
            free[best]--;
        }

        return open.Select((p, i) => (p, jobs[i])).Where(a => a.Item2.Count > 0);
    }

    /// <summary>One member's pool of a queue as a pass sees it: where it is, whether it is this node's, and its counts.</summary>
    private sealed record PoolView(Akka.Actor.Address Node, IActorRef Ref, bool IsLocal, PoolStatus Status);

    /// <summary>From a pool: a woken job was not admitted (no slot, paused, or its kind at its cap).</summary>
    internal sealed record WakeRejected(string JobId) : Serialization.IWireMessage;

    /// <summary>Sharding's answer to <see cref="AskShardHomes"/> (null: it did not answer in time).</summary>
    private sealed record ShardHomesRead(Akka.Cluster.Sharding.ClusterShardingStats? Stats) : INoSerializationVerificationNeeded;

    /// <summary>Wake the jobs recorded as running under <see cref="Incarnation"/> (a removed member).</summary>
    private sealed record WakeRunningOn(string Incarnation) : INoSerializationVerificationNeeded;

    private sealed class RecoverStale : INoSerializationVerificationNeeded
    {
        public static readonly RecoverStale Instance = new();
    }

    /// <summary>Run a pass again after a failed one (see <see cref="RetryDelay"/>).</summary>
    private sealed class RetryPass : INoSerializationVerificationNeeded
    {
        public static readonly RetryPass Instance = new();
    }

    /// <summary>Look whether jobs woken a while ago are still not admitted (see <see cref="CheckWokenLater"/>).</summary>
    private sealed class WokenCheck : INoSerializationVerificationNeeded
    {
        public static readonly WokenCheck Instance = new();
    }
}
