using System.Diagnostics;
using Akka.Actor;
using Jobs.Actors.Entities;
using Jobs.Actors.Hosting;
using Jobs.Actors.Protocol;
using Jobs.Actors.Support;
using Jobs.Client;
using Microsoft.Extensions.Logging;

namespace Jobs.Actors.Workers;

/// <summary>
/// The pool of one queue: creates and supervises its workers and admits a job only when it has a slot for it (the
/// admission control a blind round-robin router lacks). Slots are the workers plus a prefetch. A job admitted while
/// a worker is idle and nothing ranks before it gets that worker reserved: it stores its attempt's start and sends
/// the started <see cref="Execute"/>, which the pool hands to the worker. Otherwise the slot is a reservation: the
/// entity sends an unstarted Execute, the pool holds it and, when a worker frees, reserves the worker and asks the
/// entity to store the start (<see cref="BeginAttempt"/>), so the start is durable right before the handler runs and
/// an attempt waiting in prefetch is neither shown Running nor counted if the node dies. Held attempts run in the
/// queue's backlog order, and one does not overtake an admitted job of higher rank whose Execute has not come, nor a
/// job the scheduler woke before it that has not come or declined (each for up to <see cref="RankWait"/>). A crashed
/// worker is restarted; its attempt is reported lost. A pool that fails gives its admitted jobs back before its
/// supervisor restarts it. While the queue's handlers are short (<see cref="JobsSettings.StartAheadBelow"/>), up to
/// <see cref="JobsSettings.StartAhead"/> held attempts have their start stored before a worker frees for them, so a
/// worker that frees takes a started attempt at once instead of waiting for a commit.
/// </summary>
internal sealed class WorkerPool(JobsRuntime runtime, string queue, int workers, int prefetch) : JobsActor
{
    /// <summary>The name of <paramref name="queue"/>'s pool under /user on every member.</summary>
    public static string NameOf(string queue) => "pool-" + queue;

    /// <summary>Where <paramref name="queue"/>'s pool lives on the member at <paramref name="node"/>.</summary>
    public static ActorPath PathOn(Address node, string queue) => new RootActorPath(node) / "user" / NameOf(queue);

    /// <inheritdoc />
    protected override JobsRuntime Runtime => runtime;

    /// <summary>How long a ready attempt waits for admitted jobs of higher rank to become ready.</summary>
    internal static readonly TimeSpan RankWait = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan ReservationTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long before a member's removal a slot must have been waiting for its entity to be taken for one whose
    /// entity died with that member (the member stopped answering at least the failure detector's pause plus the
    /// split-brain resolver's stable-after before it was removed; a live entity answers within a commit).
    /// </summary>
    private static readonly TimeSpan OrphanMargin = TimeSpan.FromSeconds(5);

    /// <summary>The slots given up at a member's removal, by the member: woken once more with the second resend.</summary>
    private readonly Dictionary<Akka.Cluster.UniqueAddress, List<string>> _orphans = [];

    /// <summary>How far back reports are sent again when a member is removed (longer than it takes to remove one).</summary>
    private static readonly TimeSpan ResendWindow = TimeSpan.FromSeconds(60);

    /// <summary>How long a finished attempt's report is kept for an entity that may have missed it (a failover takes ~25 s).</summary>
    private static readonly TimeSpan ReportMemory = TimeSpan.FromMinutes(2);

    /// <summary>Most reports kept (memory bound: at thousands of jobs per second the window is shorter than <see cref="ReportMemory"/>).</summary>
    private const int MaxRememberedReports = 50_000;

    private readonly Dictionary<string, AttemptCompleted> _recentReports = new(StringComparer.Ordinal);
    private readonly Queue<(long At, string JobId, int Attempt)> _reportOrder = new();

    /// <summary>
    /// Jobs whose slot was given up while a worker was kept for their start (<see cref="GiveUp"/>), with when: their
    /// entity may have stored the start, but no handler ran it here. Asked about, the attempt is reported interrupted
    /// (retried, not counted against the job's limits), not unknown (lost, counted). Kept as long as reports are.
    /// </summary>
    private readonly Dictionary<string, long> _neverRan = new(StringComparer.Ordinal);
    private static readonly object SweepKey = new();
    private ICancelable? _rankWait;

    private readonly Stack<IActorRef> _idle = new();

    /// <summary>Every admitted job (reserved, ready or running), with its kind and when it was admitted.</summary>
    private readonly Dictionary<string, Slot> _slots = new(StringComparer.Ordinal);

    /// <summary>Attempts waiting for a worker (prepared, or started late), best rank first.</summary>
    private readonly SortedSet<Slot> _ready = new(new RankComparer(runtime.Settings.OrderOf(queue)));

    /// <summary>Admitted jobs whose Execute has not come yet, best rank first.</summary>
    private readonly SortedSet<Slot> _reserved = new(new RankComparer(runtime.Settings.OrderOf(queue)));

    /// <summary>Jobs the scheduler woke, in its order (a counter), not started yet; see <see cref="ExpectWoken"/>.</summary>
    private readonly Dictionary<string, (long Order, string JobId, long At)> _expected = new(StringComparer.Ordinal);

    /// <summary>The same, earliest first, with when each was expected (its Min is a default tuple when empty: check Count).</summary>
    private readonly SortedSet<(long Order, string JobId, long At)> _expectedOrder = [];
    private long _expectCounter;

    /// <summary>This member's address as woken entities are told it (they ask this pool for their slots).</summary>
    private string SelfNode => _selfNode ??= Akka.Cluster.Cluster.Get(Context.System).SelfAddress.ToString();
    private string? _selfNode;

    /// <summary>Which job each busy worker runs.</summary>
    private readonly Dictionary<IActorRef, string> _busy = [];

    /// <summary>When each worker running an attempt was given it (Stopwatch ticks), for the handlers' average time.</summary>
    private readonly Dictionary<IActorRef, long> _runningSince = [];

    /// <summary>The handlers' recent average time in milliseconds (moving average); null until one finished.</summary>
    private double? _averageRunMs;

    /// <summary>Slots whose start is asked for or stored without a worker (<see cref="Slot.Ahead"/>).</summary>
    private int _ahead;

    /// <summary>
    /// Slots started ahead whose started Execute has not come yet, best rank first: a freed worker waits for one of
    /// these that ranks before the best ready attempt (their starts commit together but come back in any order).
    /// </summary>
    private readonly SortedSet<Slot> _aheadPending = new(new RankComparer(runtime.Settings.OrderOf(queue)));
    private bool _admitting = true;
    private bool _paused;

    /// <summary>This member does not reach the database (<see cref="Sharding.DatabaseContact"/>): admit and start nothing.</summary>
    private bool _cutOff;

    private int Capacity => workers + prefetch;

    /// <summary>Admissions of a capped kind waiting for the member's <see cref="KindGuard"/>, with whom to answer.</summary>
    private readonly Dictionary<string, (RequestAdmission Request, IActorRef Requester)> _awaitingKind = new(StringComparer.Ordinal);

    /// <summary>Whether the pool admits jobs now (not stopping, paused or cut off from the database).</summary>
    private bool MayAdmit => _admitting && !_paused && !_cutOff;

    /// <summary>Gives a job a slot, and a free worker at once when nothing ranks before it.</summary>
    private void Admit(RequestAdmission request, IActorRef requester, bool kindHeld)
    {
        var slot = new Slot(request.JobId, request.Kind, request.Priority, request.DueAt, runtime.Clock.GetUtcNow()) { KindHeld = kindHeld };
        _slots[request.JobId] = slot;
        if (_idle.Count > 0 && IsNextInLine(request.JobId))
        {
            // A worker is free and nothing ranks before this job: reserve it, so the start is stored at once (with the
            // schedule, for a new job) and the handler follows that one commit.
            Unexpect(request.JobId);
            Reserve(slot, _idle.Pop());
            requester.Tell(new Admitted(request.JobId, WorkerReserved: true, runtime.Settings.NodeName, runtime.Incarnation), Self);
        }
        else
        {
            _reserved.Add(slot);
            requester.Tell(new Admitted(request.JobId, WorkerReserved: false, runtime.Settings.NodeName, runtime.Incarnation), Self);
        }
    }

    /// <summary>Turns a job away: it stays pending, and the scheduler may wake it again (here or elsewhere).</summary>
    private void Reject(string jobId, IActorRef requester)
    {
        Unexpect(jobId);
        requester.Tell(new AdmissionRejected(jobId), Self);
        runtime.Scheduler?.Tell(new Scheduling.Scheduler.WakeRejected(jobId), Self);
    }

    /// <summary>
    /// Whether a held attempt may have its start stored before a worker frees: the handlers are short, and fewer than
    /// the limit are.
    /// </summary>
    private bool MayStartAhead =>
        _ahead < runtime.Settings.StartAhead && _averageRunMs is { } average && average < runtime.Settings.StartAheadBelow.TotalMilliseconds;

    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Restart);

    protected override void PreStart()
    {
        // Held until its QueueControl has recovered whether the queue is paused (also after a restart of the pool).
        // Held until its queue's control says whether the queue is paused: the control tells every pool when it has
        // recovered; a pool that restarts later asks it.
        _paused = true;
        if (runtime.QueueControls.TryGetValue(queue, out var control))
        {
            control.Tell(GetPoolPaused.Instance, Self);
        }

        var pool = Self; // (not read inside the factory: it runs again when a worker restarts, in the worker's context)
        for (var i = 0; i < workers; i++)
        {
            _idle.Push(Context.ActorOf(ActorProps.Of(() => new Worker(runtime, queue, pool)), $"worker-{i}"));
        }

        Timers.StartPeriodicTimer(SweepKey, SweepReservations.Instance, TimeSpan.FromSeconds(5));
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
        _rankWait?.Cancel();
        Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
        base.PostStop();
    }

    /// <summary>
    /// Dispatches again after <paramref name="delay"/> of real time: a rank wait is a safety net in real time, on
    /// Akka's scheduler, not on the node's clock (which a test may hold still, and then nothing would end the wait).
    /// </summary>
    private void DispatchAfter(TimeSpan delay)
    {
        _rankWait?.Cancel();
        _rankWait = Context.System.Scheduler.ScheduleTellOnceCancelable(delay, Self, DispatchReady.Instance, Self);
    }

    /// <summary>
    /// A member was removed: the reports this pool's attempts sent lately to entities that lived there (the member
    /// stopped answering before it was removed) were lost with it, and nothing else would wake those entities (their
    /// jobs show running on this live member). Each report of the <see cref="ResendWindow"/> before the removal is
    /// sent again; the entities, at their shards' new homes, take the ones they miss and drop the ones they have.
    /// </summary>
    private void ResendRecentReports(long since)
    {
        var resent = 0;
        foreach (var (at, jobId, attempt) in _reportOrder)
        {
            if (at >= since && _recentReports.TryGetValue(jobId, out var report) && report.Attempt == attempt)
            {
                runtime.Region.Tell(report, Self);
                resent++;
            }
        }

        if (resent > 0)
        {
            Log.LogInformation(
                "A member was removed: sent the {Count} reports of the last {Window} again, for entities that lived there",
                resent,
                ResendWindow
            );
        }
    }

    /// <summary>
    /// A member was removed: the slots that were already waiting for their entities well before (admitted with no
    /// Execute, or a worker kept for a start not confirmed) are most likely those of entities that died with it, which
    /// will never answer. Instead of holding them for the whole <see cref="ReservationTimeout"/>, they are released now
    /// and their entities woken at their shards' new homes, as the sweep does: a job whose start was stored is asked
    /// about, found not running here, and retried as a lost attempt; one whose start was not stored asks for a slot
    /// again. A live entity that was only slow loses nothing: its late Execute is run (started) or declined (not).
    /// </summary>
    private List<string> ReleaseOrphans(DateTimeOffset removedAt)
    {
        var orphans = UnansweredSince(removedAt - OrphanMargin);
        GiveUp(orphans);
        if (orphans.Count > 0)
        {
            Log.LogInformation(
                "A member was removed: released {Count} slots whose entities had not answered since before it stopped, and woke those jobs",
                orphans.Count
            );
            Dispatch();
        }

        return orphans;
    }

    /// <summary>
    /// The admitted jobs whose entities have not answered since before <paramref name="before"/>: no attempt sent, or a
    /// start kept a worker waiting.
    /// </summary>
    private List<string> UnansweredSince(DateTimeOffset before) =>
        [
            .. _slots
                .Values.Where(s =>
                    (s.State == SlotState.Reserved && s.AdmittedAt < before) || (s.State == SlotState.Starting && s.StartingSince < before)
                )
                .Select(s => s.JobId),
        ];

    /// <summary>Frees the slots of <paramref name="jobIds"/> (and any worker kept for them) and wakes their jobs' entities to look again.</summary>
    private void GiveUp(List<string> jobIds)
    {
        var now = Environment.TickCount64;
        foreach (var (jobId, _) in _neverRan.Where(n => now - n.Value > (long)ReportMemory.TotalMilliseconds).ToList())
        {
            _neverRan.Remove(jobId);
        }

        foreach (var jobId in jobIds)
        {
            if (_slots.TryGetValue(jobId, out var slot) && slot.State == SlotState.Starting && _neverRan.Count < MaxRememberedReports)
            {
                _neverRan[jobId] = now;
            }

            Release(jobId);
            runtime.Region.Tell(new WakeJob(jobId), Self);
        }
    }

    protected override void PreRestart(Exception reason, object? message)
    {
        // The pool failed (a bug, or a malformed message): its slots die with it, so give every admitted job back now,
        // or those jobs would stay Running (or their kind permits held) until the process restarts. Running attempts
        // are reported lost (retried, counted), their workers stop and cancel the handlers; attempts that had not
        // reached a worker are interrupted (retried, not counted). Reserved jobs send their Execute to the new instance.
        Log.LogError(reason, "Worker pool {Queue} failed; handing its {Count} admitted jobs back", queue, _slots.Count);
        HandBackReady($"the worker pool restarted after an error ({reason.Message}); the attempt had not started");
        foreach (var slot in _slots.Values.ToList())
        {
            if (slot.State == SlotState.Running && slot.Execute is { } execute)
            {
                runtime.Region.Tell(
                    new AttemptCompleted(
                        execute.JobId,
                        execute.Attempt,
                        execute.Incarnation,
                        new AttemptReport.Lost($"the worker pool restarted after an error: {reason.Message}")
                    ),
                    Self
                );
            }

            Release(slot.JobId);
        }

        // Admissions waiting for the kind guard are turned away; its answers reach the new instance, which gives a
        // granted kind slot straight back.
        foreach (var (jobId, (_, requester)) in _awaitingKind)
        {
            Reject(jobId, requester);
        }

        base.PreRestart(reason, message);
    }

    protected override bool Receive(object message)
    {
        switch (message)
        {
            case RequestAdmission request:
                // A kind this member has no handler for is never admitted here: the scheduler wakes it to a member that has.
                if (
                    !MayAdmit
                    || _slots.Count + _awaitingKind.Count >= Capacity
                    || _slots.ContainsKey(request.JobId)
                    || _awaitingKind.ContainsKey(request.JobId)
                    || !runtime.Handlers.TryGet(request.Kind, out _)
                )
                {
                    Reject(request.JobId, Sender);
                }
                else if (runtime.KindCaps.ContainsKey(request.Kind))
                {
                    // A capped kind: the member's guard counts it first (the pool's capacity stays spoken for meanwhile).
                    _awaitingKind[request.JobId] = (request, Sender);
                    runtime.KindGuard.Tell(new AcquireKind(request.JobId, request.Kind), Self);
                }
                else
                {
                    Admit(request, Sender, kindHeld: false);
                }

                return true;
            case KindGranted granted:
                if (_awaitingKind.Remove(granted.JobId, out var waiting))
                {
                    if (MayAdmit)
                    {
                        Admit(waiting.Request, waiting.Requester, kindHeld: true);
                    }
                    else
                    {
                        runtime.KindGuard.Tell(new ReleaseKind(granted.Kind), Self);
                        Reject(granted.JobId, waiting.Requester);
                    }
                }
                else if (_slots.TryGetValue(granted.JobId, out var forced) && forced.Kind == granted.Kind && !forced.KindHeld)
                {
                    forced.KindHeld = true; // a start run without a reservation (see OnExecute) is counted now
                }
                else
                {
                    runtime.KindGuard.Tell(new ReleaseKind(granted.Kind), Self); // its slot is gone meanwhile
                }

                return true;
            case KindRefused refused:
                if (_awaitingKind.Remove(refused.JobId, out var turnedAway))
                {
                    Reject(refused.JobId, turnedAway.Requester);
                }

                return true;
            case ExpectWoken expect:
                var at = Stopwatch.GetTimestamp(); // rank waits are real time (the node's clock may be a test's, or stand still)
                if (expect.JobIds.Count > 1 || !expect.Wake)
                {
                    // A single woken job has no order to keep among those of its pass.
                    foreach (var id in expect.JobIds.Where(id => !_slots.ContainsKey(id)))
                    {
                        Unexpect(id);
                        var entry = (++_expectCounter, id, at);
                        _expected[id] = entry;
                        _expectedOrder.Add(entry);
                    }
                }

                if (expect.Wake)
                {
                    foreach (var id in expect.JobIds)
                    {
                        runtime.Region.Tell(new WakeJob(id, SelfNode), Self);
                    }
                }

                return true;
            case WakeDeclined declined:
                Unexpect(declined.JobId);
                runtime.Scheduler?.Tell(new Scheduling.Scheduler.WakeRejected(declined.JobId), Self); // no slot spoken for
                Dispatch();
                return true;
            case ReleaseSlot release:
                Release(release.JobId);
                return true;
            case Execute execute:
                OnExecute(execute);
                return true;
            case WorkerIdle idle:
                if (idle.Report is { } report)
                {
                    RememberReport(report);
                }

                OnIdle(idle.Worker);
                return true;
            case Akka.Cluster.ClusterEvent.MemberRemoved removed
                when !removed.Member.Address.Equals(Akka.Cluster.Cluster.Get(Context.System).SelfAddress):
                // Twice, a little later: the shard regions learn where the removed member's shards went only once
                // they see its region terminate, and a report sent before that would go to the dead member again.
                var since = Environment.TickCount64 - (long)ResendWindow.TotalMilliseconds;
                var removedAt = runtime.Clock.GetUtcNow();
                Timers.StartSingleTimer(
                    ("resend", removed.Member.UniqueAddress, 1),
                    new ResendReports(since, removedAt, removed.Member.UniqueAddress, Second: false),
                    TimeSpan.FromSeconds(2)
                );
                Timers.StartSingleTimer(
                    ("resend", removed.Member.UniqueAddress, 2),
                    new ResendReports(since, removedAt, removed.Member.UniqueAddress, Second: true),
                    TimeSpan.FromSeconds(10)
                );
                return true;
            case ResendReports resend:
                ResendRecentReports(resend.Since);
                if (!resend.Second)
                {
                    _orphans[resend.Member] = ReleaseOrphans(resend.RemovedAt);
                }
                else if (_orphans.Remove(resend.Member, out var orphans))
                {
                    foreach (var jobId in orphans)
                    {
                        runtime.Region.Tell(new WakeJob(jobId), Self); // again: the first wake may have gone to the dead member
                    }
                }

                return true;
            case Akka.Cluster.ClusterEvent.CurrentClusterState or Akka.Cluster.ClusterEvent.MemberRemoved:
                return true;
            case QueryAttempt query:
                if (!_slots.ContainsKey(query.JobId))
                {
                    // Not running here (any more): the report it ended with, if remembered; that it never ran, if its
                    // slot was given up while waiting for its start; or word that it is unknown.
                    Sender.Tell(
                        _recentReports.TryGetValue(query.JobId, out var ended)
                            && ended.Attempt == query.Attempt
                            && ended.Incarnation == query.Incarnation
                                ? ended
                            : query.Incarnation == runtime.Incarnation
                            && _neverRan.TryGetValue(query.JobId, out var gaveUp)
                            && Environment.TickCount64 - gaveUp <= (long)ReportMemory.TotalMilliseconds
                                ? new AttemptCompleted(
                                    query.JobId,
                                    query.Attempt,
                                    query.Incarnation,
                                    new AttemptReport.Interrupted(
                                        "its start was stored, but its entity never handed it to "
                                            + "a worker of this member (it died first): it did not run"
                                    )
                                )
                            : new AttemptUnknown(query.JobId, query.Attempt, query.Incarnation),
                        Self
                    );
                }

                return true;
            case CancelAttempt cancel:
                OnCancel(cancel);
                return true;
            case StopAdmitting:
                _admitting = false;
                HandBackReady("the node is shutting down; the attempt had not started");
                Sender.Tell(Status(), Self);
                return true;
            case GetPoolStatus:
                Sender.Tell(Status(), Self);
                return true;
            case PoolPaused paused:
                _paused = paused.Paused;
                if (!_paused && _admitting && runtime.Scheduler is { } scheduler)
                {
                    scheduler.Tell(new CapacityAvailable(queue), Self); // (the scheduler starts after the pools)
                }

                return true;
            case Sharding.DatabaseReachable reachable:
                if (_cutOff && reachable.Reachable && _admitting && runtime.Scheduler is { } notify)
                {
                    notify.Tell(new CapacityAvailable(queue), Self);
                }

                _cutOff = !reachable.Reachable;
                if (_cutOff)
                {
                    HandBackReady(CutOffReason);
                }
                else
                {
                    Dispatch();
                }

                return true;
            case InterruptAttempt:
                HandBackReady("the node shut down before the attempt started");
                foreach (var busy in _busy.Keys)
                {
                    busy.Tell(InterruptAttempt.Instance, Self);
                }

                return true;
            case SweepReservations:
                // Admitted, but its entity never sent the attempt, or never stored its start (it stopped, or its write
                // failed): the slot and any worker kept for it are free again. The entity may have stored the start
                // and died with its member before telling this pool: nothing else would wake it (its job shows running
                // here, on a member that is up), so it is woken to look at its job again (an attempt this pool does not
                // run is then asked about and found unknown, so it is lost and retried).
                GiveUp(UnansweredSince(runtime.Clock.GetUtcNow() - ReservationTimeout));
                Dispatch();
                return true;
            case DispatchReady:
                Dispatch();
                return true;
            default:
                return false;
        }
    }

    private PoolStatus Status() =>
        new(
            queue,
            workers,
            Math.Max(0, Capacity - _slots.Count - _awaitingKind.Count),
            _busy.Count,
            _admitting,
            _paused,
            [.. _slots.Keys],
            _kinds ??= [.. runtime.Handlers.Kinds.Order(StringComparer.Ordinal)],
            _slots.Values.GroupBy(s => s.Kind, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal)
        );

    /// <summary>The kinds this member runs (fixed once the node started).</summary>
    private IReadOnlyList<string>? _kinds;

    private void OnExecute(Execute execute)
    {
        if (execute.Started)
        {
            _neverRan.Remove(execute.JobId); // a start given up on arrives after all: it runs now, and reports
        }

        if (!_slots.TryGetValue(execute.JobId, out var slot))
        {
            if (!execute.Started)
            {
                // Its reservation expired (or the pool restarted): nothing was stored, so the job just asks again.
                runtime.Region.Tell(new AttemptNotStarted(execute.JobId, execute.Attempt, "its reservation in the pool expired"), Self);
                return;
            }

            // Its reservation expired, yet the entity made the start durable: run it anyway (briefly over capacity,
            // and over its kind's cap if that is full: the guard counts it regardless).
            slot = new Slot(execute.JobId, execute.Kind, execute.Priority, execute.DueAt, runtime.Clock.GetUtcNow());
            _slots[execute.JobId] = slot;
            if (runtime.KindCaps.ContainsKey(execute.Kind))
            {
                runtime.KindGuard.Tell(new AcquireKind(execute.JobId, execute.Kind, Force: true), Self);
            }
        }

        if (slot.State == SlotState.Starting && slot.Worker is { } reserved)
        {
            if (!execute.Started)
            {
                // A worker was kept for a start that comes unstarted (a stale reservation): ask for the start again.
                slot.Execute = execute;
                runtime.Region.Tell(new BeginAttempt(execute.JobId, execute.Attempt), Self);
                return;
            }

            // The start is stored: the worker kept for it runs it now.
            slot.State = SlotState.Running;
            slot.Execute = execute;
            if (!_admitting)
            {
                _busy.Remove(reserved);
                _idle.Push(reserved);
                _ready.Add(slot);
                slot.State = SlotState.Ready;
                HandBackReady("the node is shutting down; the attempt had not started");
                return;
            }

            _runningSince[reserved] = System.Diagnostics.Stopwatch.GetTimestamp();
            reserved.Tell(execute, Self);
            return;
        }

        _aheadPending.Remove(slot);
        if (slot.Ahead && !execute.Started)
        {
            NotAhead(slot); // (a stale reservation answered unstarted: held as any other)
        }

        _reserved.Remove(slot);
        if (_expected.TryGetValue(execute.JobId, out var woken))
        {
            slot.WokenOrder = woken.Order; // ready now: no longer waited for, but it waits for those woken before it
            Unexpect(execute.JobId);
        }

        slot.State = SlotState.Ready;
        slot.Execute = execute;
        _ready.Add(slot);
        if (!_admitting || _cutOff)
        {
            HandBackReady(_cutOff ? CutOffReason : "the node is shutting down; the attempt had not started");
            return;
        }

        Dispatch();
    }

    private const string CutOffReason = "this member does not reach the database; the attempt had not started";

    /// <summary>
    /// Gives idle workers the best ready attempts, unless an admitted job of higher rank is about to be ready; with no
    /// worker idle, has the best held attempts' starts stored ahead while that is allowed (<see cref="MayStartAhead"/>).
    /// </summary>
    private void Dispatch()
    {
        var now = runtime.Clock.GetUtcNow();
        var ticks = Stopwatch.GetTimestamp(); // what the rank waits measure: real time, whatever the node's clock does
        while (_admitting && !_cutOff && _ready.Min is { } best)
        {
            var idle = _idle.Count > 0;
            var next =
                idle ? best
                : MayStartAhead ? _ready.FirstOrDefault(s => !s.Execute!.Started)
                : null;
            if (next is null)
            {
                return; // no worker free, and nothing (more) to start ahead
            }

            if (idle && _aheadPending.Min is { } starting && _aheadPending.Comparer.Compare(starting, next) < 0)
            {
                if (Stopwatch.GetElapsedTime(starting.StartingTicks, ticks) is var startingFor && startingFor < RankWait)
                {
                    DispatchAfter(RankWait - startingFor);
                    return; // started ahead, ranked before it: its Execute follows within a commit
                }

                _aheadPending.Remove(starting); // slow to come: it no longer holds others back
                continue;
            }

            if (_reserved.Min is { } waiting && _reserved.Comparer.Compare(waiting, next) < 0)
            {
                if (Stopwatch.GetElapsedTime(waiting.AdmittedTicks, ticks) is var waited && waited < RankWait)
                {
                    DispatchAfter(RankWait - waited);
                    return; // its Execute follows within a commit; the timer is only the safety net
                }

                _reserved.Remove(waiting); // slow to start: it no longer holds others back (its slot stays reserved)
                continue;
            }

            if (next.WokenOrder is { } order && _expectedOrder.Count > 0 && _expectedOrder.Min is var earliest && earliest.Order < order)
            {
                if (Stopwatch.GetElapsedTime(earliest.At, ticks) is var expected && expected < RankWait)
                {
                    DispatchAfter(RankWait - expected);
                    return; // woken before it (so ranked before it): its admission and start follow shortly
                }

                Unexpect(earliest.JobId); // slow to come: it no longer holds others back
                continue;
            }

            _ready.Remove(next);
            if (!idle)
            {
                // Its start is stored now; its Execute comes back started and waits (first in line) for a worker.
                next.State = SlotState.Starting;
                next.StartingSince = now;
                next.StartingTicks = ticks;
                next.Ahead = true;
                _ahead++;
                _aheadPending.Add(next);
                runtime.Region.Tell(new BeginAttempt(next.JobId, next.Execute!.Attempt), Self);
                continue;
            }

            var worker = _idle.Pop();
            if (next.Execute!.Started)
            {
                NotAhead(next);
                next.State = SlotState.Running;
                _busy[worker] = next.JobId;
                _runningSince[worker] = System.Diagnostics.Stopwatch.GetTimestamp();
                worker.Tell(next.Execute, Self);
            }
            else
            {
                // A prepared attempt: keep the worker for it while its entity stores the start.
                Reserve(next, worker);
                runtime.Region.Tell(new BeginAttempt(next.JobId, next.Execute.Attempt), Self);
            }
        }
    }

    /// <summary>A slot started ahead has its worker now (or was given up): it no longer counts against the limit.</summary>
    private void NotAhead(Slot slot)
    {
        if (slot.Ahead)
        {
            slot.Ahead = false;
            _ahead--;
        }
    }

    /// <summary>Keeps <paramref name="worker"/> for <paramref name="slot"/> while its entity stores the attempt's start.</summary>
    private void Reserve(Slot slot, IActorRef worker)
    {
        slot.State = SlotState.Starting;
        slot.StartingSince = runtime.Clock.GetUtcNow(); // (a prefetched slot may have been admitted long before)
        slot.StartingTicks = Stopwatch.GetTimestamp();
        slot.Worker = worker;
        _busy[worker] = slot.JobId;
    }

    /// <summary>
    /// Whether nothing ranks before <paramref name="jobId"/> here: no attempt waits, none is admitted without its
    /// Execute, none woken before it.
    /// </summary>
    private bool IsNextInLine(string jobId) =>
        _ready.Count == 0 && _reserved.Count == 0 && (_expectedOrder.Count == 0 || _expectedOrder.Min.JobId == jobId);

    /// <summary>
    /// Keeps the report an attempt ended with for a while: it went to the job's entity through the region, and if the
    /// entity's shard was moving off a member that died, it went with that member. The entity that recovers the job
    /// elsewhere asks for it (<see cref="QueryAttempt"/>). Bounded in time and count (the oldest go first).
    /// </summary>
    private void RememberReport(AttemptCompleted report)
    {
        var now = Environment.TickCount64;
        _recentReports[report.JobId] = report;
        _reportOrder.Enqueue((now, report.JobId, report.Attempt));
        while (
            _reportOrder.TryPeek(out var oldest)
            && (now - oldest.At > (long)ReportMemory.TotalMilliseconds || _reportOrder.Count > MaxRememberedReports)
        )
        {
            _reportOrder.Dequeue();
            if (_recentReports.TryGetValue(oldest.JobId, out var kept) && kept.Attempt == oldest.Attempt)
            {
                _recentReports.Remove(oldest.JobId);
            }
        }
    }

    private void OnIdle(IActorRef worker)
    {
        if (_runningSince.Remove(worker, out var since))
        {
            var ms = System.Diagnostics.Stopwatch.GetElapsedTime(since).TotalMilliseconds;
            _averageRunMs = _averageRunMs is { } average ? average + ((ms - average) * 0.05) : ms;
        }

        if (_busy.Remove(worker, out var jobId))
        {
            Release(jobId);
        }

        _idle.Push(worker);
        Dispatch();
    }

    private void OnCancel(CancelAttempt cancel)
    {
        foreach (var (worker, jobId) in _busy)
        {
            if (jobId == cancel.JobId)
            {
                worker.Tell(cancel, Self);
                return;
            }
        }

        if (
            _slots.TryGetValue(cancel.JobId, out var slot)
            && slot.State is SlotState.Ready or SlotState.Starting
            && slot.Execute?.Attempt == cancel.Attempt
        )
        {
            Release(cancel.JobId); // never started: nothing to stop, and the entity recorded the cancel already
        }
    }

    /// <summary>
    /// Attempts that never reached a worker go back to their jobs: prepared ones as not started (nothing was stored),
    /// ones whose start was stored as interrupted (retried, not counted).
    /// </summary>
    private void HandBackReady(string reason)
    {
        while (_ready.Min is { } slot)
        {
            var execute = slot.Execute!;
            runtime.Region.Tell(
                execute.Started
                    ? new AttemptCompleted(execute.JobId, execute.Attempt, execute.Incarnation, new AttemptReport.Interrupted(reason))
                    : new AttemptNotStarted(execute.JobId, execute.Attempt, reason),
                Self
            );
            Release(execute.JobId);
        }
    }

    private void Unexpect(string jobId)
    {
        if (_expected.Remove(jobId, out var entry))
        {
            _expectedOrder.Remove(entry);
        }
    }

    private void Release(string jobId)
    {
        Unexpect(jobId);
        if (_slots.Remove(jobId, out var slot))
        {
            NotAhead(slot);
            _aheadPending.Remove(slot);
            _ready.Remove(slot);
            if (slot.State == SlotState.Starting && slot.Worker is { } kept && _busy.Remove(kept))
            {
                _idle.Push(kept); // kept for a start that will not come: free again
                Self.Tell(DispatchReady.Instance, Self);
            }

            if (_reserved.Remove(slot))
            {
                Self.Tell(DispatchReady.Instance, Self); // it may have held others back
            }

            if (slot.KindHeld)
            {
                runtime.KindGuard.Tell(new ReleaseKind(slot.Kind), Self);
            }

            // Also while paused: the scheduler stops counting a job it woke once the job has had its slot.
            runtime.Scheduler?.Tell(new CapacityAvailable(queue, jobId), Self);
        }
    }

    private enum SlotState
    {
        /// <summary>Admitted; its Execute has not come.</summary>
        Reserved,

        /// <summary>Its Execute waits for a worker.</summary>
        Ready,

        /// <summary>Its entity stores the start: a worker is kept for it, or none (<see cref="Slot.Ahead"/>).</summary>
        Starting,

        /// <summary>On a worker.</summary>
        Running,
    }

    private sealed class Slot(string jobId, string kind, int priority, DateTimeOffset dueAt, DateTimeOffset admittedAt)
    {
        public string JobId { get; } = jobId;

        public string Kind { get; } = kind;

        public int Priority { get; } = priority;

        public DateTimeOffset DueAt { get; } = dueAt;

        public DateTimeOffset AdmittedAt { get; } = admittedAt;

        /// <summary>When it was admitted, in real time (<see cref="Stopwatch.GetTimestamp"/>): what a rank wait measures.</summary>
        public long AdmittedTicks { get; } = Stopwatch.GetTimestamp();

        public SlotState State { get; set; }

        /// <summary>Whether this slot counts against its kind's cap (and must give it back).</summary>
        public bool KindHeld { get; set; }

        public Execute? Execute { get; set; }

        /// <summary>Its start was asked for before a worker was free for it; true until a worker takes it.</summary>
        public bool Ahead { get; set; }

        /// <summary>The worker kept for it (Starting) or running it.</summary>
        public IActorRef? Worker { get; set; }

        /// <summary>When a worker was kept for it (its entity has that long to store the start).</summary>
        public DateTimeOffset StartingSince { get; set; }

        /// <summary><see cref="StartingSince"/> in real time (<see cref="Stopwatch.GetTimestamp"/>): what a rank wait measures.</summary>
        public long StartingTicks { get; set; }

        /// <summary>Its place in the scheduler's wake order, when the scheduler woke it (see <see cref="ExpectWoken"/>).</summary>
        public long? WokenOrder { get; set; }
    }

    /// <summary>The queue's backlog order (as the index sorts it), ending in the job id so that no two slots tie.</summary>
    private sealed class RankComparer(QueueOrder order) : IComparer<Slot>
    {
        public int Compare(Slot? x, Slot? y)
        {
            if (ReferenceEquals(x, y))
            {
                return 0;
            }

            var byPriority = y!.Priority.CompareTo(x!.Priority);
            var byDue = x.DueAt.CompareTo(y.DueAt);
            var first = order == QueueOrder.RunAtFirst ? byDue : byPriority;
            var second = order == QueueOrder.RunAtFirst ? byPriority : byDue;
            return first != 0 ? first
                : second != 0 ? second
                : string.CompareOrdinal(x.JobId, y.JobId);
        }
    }

    /// <summary>
    /// Send the reports remembered since <see cref="Since"/> (Environment.TickCount64) again; the first of the two
    /// also releases the slots orphaned by <see cref="Member"/>, removed at <see cref="RemovedAt"/>; the
    /// <see cref="Second"/> wakes them again.
    /// </summary>
    private sealed record ResendReports(long Since, DateTimeOffset RemovedAt, Akka.Cluster.UniqueAddress Member, bool Second)
        : INoSerializationVerificationNeeded;

    private sealed class SweepReservations : INoSerializationVerificationNeeded
    {
        public static readonly SweepReservations Instance = new();
    }

    private sealed class DispatchReady : INoSerializationVerificationNeeded
    {
        public static readonly DispatchReady Instance = new();
    }
}
