using Jobs.Actors.Hosting;
using Jobs.Actors.Jobs;
using Jobs.Actors.Protocol;
using Jobs.Client;
using Jobs.Runtime.Actors;
using Jobs.Runtime.Supervision;
using Microsoft.Extensions.Logging;

namespace Jobs.Actors.Workers;

/// <summary>
/// The pool of one queue: creates and supervises its workers and admits a job only when it has a slot for it (the
/// admission control a blind round-robin router lacks). Slots are the workers plus a prefetch: an admitted job makes
/// its attempt start durable and sends its <see cref="Execute"/> here; the pool runs it on an idle worker or holds it
/// until one frees, so a worker that finishes takes its next job without a database round trip. Held attempts run
/// in the queue's backlog order, and one does not overtake an admitted job of higher rank whose start is still
/// being stored, nor a job the scheduler woke before it that has not started or declined (each for up to
/// <see cref="RankWait"/>). A crashed worker is restarted; its attempt is reported lost. A pool that fails gives
/// its admitted jobs back before its supervisor restarts it.
/// </summary>
internal sealed class WorkerPool(JobsRuntime runtime, string queue, int workers, int prefetch) : ActorBase
{
    /// <summary>How long a ready attempt waits for admitted jobs of higher rank to become ready.</summary>
    internal static readonly TimeSpan RankWait = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan ReservationTimeout = TimeSpan.FromSeconds(30);
    private static readonly object SweepKey = new();
    private static readonly object RankWaitKey = new();

    private readonly Stack<IActorRef> _idle = new();

    /// <summary>Every admitted job (reserved, ready or running), with its kind and when it was admitted.</summary>
    private readonly Dictionary<string, Slot> _slots = new(StringComparer.Ordinal);

    /// <summary>Started attempts waiting for a worker, best rank first.</summary>
    private readonly SortedSet<Slot> _ready = new(new RankComparer(runtime.Settings.OrderOf(queue)));

    /// <summary>Admitted jobs whose start is still being stored, best rank first.</summary>
    private readonly SortedSet<Slot> _reserved = new(new RankComparer(runtime.Settings.OrderOf(queue)));

    /// <summary>Jobs the scheduler woke, in its order (a counter), not started yet; see <see cref="ExpectWoken"/>.</summary>
    private readonly Dictionary<string, (long Order, string JobId, DateTimeOffset At)> _expected = new(StringComparer.Ordinal);

    /// <summary>The same, earliest first, with when each was expected (its Min is a default tuple when empty: check Count).</summary>
    private readonly SortedSet<(long Order, string JobId, DateTimeOffset At)> _expectedOrder = [];
    private long _expectCounter;

    /// <summary>Which job each busy worker runs.</summary>
    private readonly Dictionary<IActorRef, string> _busy = [];
    private bool _admitting = true;
    private bool _paused;

    private int Capacity => workers + prefetch;

    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Restart);

    protected override void PreStart()
    {
        // Held until its QueueControl has recovered whether the queue is paused (also after a restart of the pool).
        _paused = !runtime.PausedQueues.TryGetValue(queue, out var paused) || paused;
        for (var i = 0; i < workers; i++)
        {
            _idle.Push(Context.ActorOf(Props.Create(() => new Worker(runtime, queue, Self)), $"worker-{i}"));
        }

        Timers.StartPeriodicTimer(SweepKey, SweepReservations.Instance, TimeSpan.FromSeconds(5));
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
                runtime.Region.Tell(new AttemptCompleted(execute.JobId, execute.Attempt, execute.Incarnation, new AttemptReport.Lost($"the worker pool restarted after an error: {reason.Message}")), Self);
            }

            Release(slot.JobId);
        }

        base.PreRestart(reason, message);
    }

    protected override bool Receive(object message)
    {
        switch (message)
        {
            case RequestAdmission request:
                if (_admitting && !_paused && _slots.Count < Capacity && !_slots.ContainsKey(request.JobId) && runtime.KindLimits.TryAcquire(request.Kind))
                {
                    var slot = new Slot(request.JobId, request.Kind, request.Priority, request.DueAt, runtime.Clock.GetUtcNow()) { KindHeld = true };
                    _slots[request.JobId] = slot;
                    _reserved.Add(slot);
                    request.Entity.Tell(new Admitted(request.JobId), Self);
                }
                else
                {
                    Unexpect(request.JobId);
                    request.Entity.Tell(new AdmissionRejected(request.JobId), Self);
                    runtime.Scheduler?.Tell(new Scheduling.Scheduler.WakeRejected(request.JobId), Self);
                }

                return true;
            case ExpectWoken expect:
                var at = runtime.Clock.GetUtcNow();
                foreach (var id in expect.JobIds.Where(id => !_slots.ContainsKey(id)))
                {
                    Unexpect(id);
                    var entry = (++_expectCounter, id, at);
                    _expected[id] = entry;
                    _expectedOrder.Add(entry);
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
                OnIdle(idle.Worker);
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
            case InterruptAttempt:
                HandBackReady("the node shut down before the attempt started");
                foreach (var busy in _busy.Keys)
                {
                    busy.Tell(InterruptAttempt.Instance, Self);
                }

                return true;
            case SweepReservations:
                var expired = runtime.Clock.GetUtcNow() - ReservationTimeout;
                foreach (var (jobId, _) in _slots.Where(s => s.Value.State == SlotState.Reserved && s.Value.AdmittedAt < expired).ToList())
                {
                    Release(jobId); // admitted, but its entity never started the attempt (it stopped or declined silently)
                }

                Dispatch();
                return true;
            case DispatchReady:
                Dispatch();
                return true;
            default:
                return false;
        }
    }

    private PoolStatus Status() => new(queue, workers, Math.Max(0, Capacity - _slots.Count), _busy.Count, _admitting, _paused, [.. _slots.Keys]);

    private void OnExecute(Execute execute)
    {
        if (!_slots.TryGetValue(execute.JobId, out var slot))
        {
            // Its reservation expired, yet the entity made the start durable: run it anyway (briefly over capacity).
            slot = new Slot(execute.JobId, execute.Kind, execute.Priority, execute.DueAt, runtime.Clock.GetUtcNow()) { KindHeld = runtime.KindLimits.TryAcquire(execute.Kind) };
            _slots[execute.JobId] = slot;
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
        if (!_admitting)
        {
            HandBackReady("the node is shutting down; the attempt had not started");
            return;
        }

        Dispatch();
    }

    /// <summary>Gives idle workers the best ready attempts, unless an admitted job of higher rank is about to be ready.</summary>
    private void Dispatch()
    {
        var now = runtime.Clock.GetUtcNow();
        while (_admitting && _idle.Count > 0 && _ready.Min is { } best)
        {
            if (_reserved.Min is { } waiting && _reserved.Comparer.Compare(waiting, best) < 0)
            {
                if (now - waiting.AdmittedAt < RankWait)
                {
                    Timers.StartSingleTimer(RankWaitKey, DispatchReady.Instance, RankWait - (now - waiting.AdmittedAt));
                    return; // its Execute follows within a commit; the timer is only the safety net
                }

                _reserved.Remove(waiting); // slow to start: it no longer holds others back (its slot stays reserved)
                continue;
            }

            if (best.WokenOrder is { } order && _expectedOrder.Count > 0 && _expectedOrder.Min is var earliest && earliest.Order < order)
            {
                if (now - earliest.At < RankWait)
                {
                    Timers.StartSingleTimer(RankWaitKey, DispatchReady.Instance, RankWait - (now - earliest.At));
                    return; // woken before it (so ranked before it): its admission and start follow shortly
                }

                Unexpect(earliest.JobId); // slow to come: it no longer holds others back
                continue;
            }

            _ready.Remove(best);
            var worker = _idle.Pop();
            best.State = SlotState.Running;
            _busy[worker] = best.JobId;
            worker.Tell(best.Execute!, Self);
        }
    }

    private void OnIdle(IActorRef worker)
    {
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

        if (_slots.TryGetValue(cancel.JobId, out var slot) && slot.State == SlotState.Ready && slot.Execute!.Attempt == cancel.Attempt)
        {
            Release(cancel.JobId); // never started: nothing to stop, and the entity recorded the cancel already
        }
    }

    /// <summary>Started attempts that never reached a worker go back to their jobs as interrupted (retried, not counted).</summary>
    private void HandBackReady(string reason)
    {
        while (_ready.Min is { } slot)
        {
            var execute = slot.Execute!;
            runtime.Region.Tell(new AttemptCompleted(execute.JobId, execute.Attempt, execute.Incarnation, new AttemptReport.Interrupted(reason)), Self);
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
            _ready.Remove(slot);
            if (_reserved.Remove(slot))
            {
                Self.Tell(DispatchReady.Instance, Self); // it may have held others back
            }

            if (slot.KindHeld)
            {
                runtime.KindLimits.Release(slot.Kind);
            }

            // Also while paused: the scheduler stops counting a job it woke once the job has had its slot.
            runtime.Scheduler?.Tell(new CapacityAvailable(queue, jobId), Self);
        }
    }

    private enum SlotState
    {
        Reserved,
        Ready,
        Running,
    }

    private sealed class Slot(string jobId, string kind, int priority, DateTimeOffset dueAt, DateTimeOffset admittedAt)
    {
        public string JobId { get; } = jobId;

        public string Kind { get; } = kind;

        public int Priority { get; } = priority;

        public DateTimeOffset DueAt { get; } = dueAt;

        public DateTimeOffset AdmittedAt { get; } = admittedAt;

        public SlotState State { get; set; }

        /// <summary>Whether this slot counts against its kind's cap (and must give it back).</summary>
        public bool KindHeld { get; init; }

        public Execute? Execute { get; set; }

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
            return first != 0 ? first : second != 0 ? second : string.CompareOrdinal(x.JobId, y.JobId);
        }
    }

    private sealed class SweepReservations
    {
        public static readonly SweepReservations Instance = new();
    }

    private sealed class DispatchReady
    {
        public static readonly DispatchReady Instance = new();
    }
}
