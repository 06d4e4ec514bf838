using Akka.Actor;
using Akka.Persistence;
using Jobs.Actors.Hosting;
using Jobs.Persistence.Journal;
using Jobs.Persistence.Plugin;
using Microsoft.Extensions.Logging;

namespace Jobs.Actors.Support;

/// <summary>
/// A persistent actor of the job system on Akka.Persistence. Beside timers on the node's clock and the host's logger
/// it adds two things the job index needs from its journal plugin:
/// <list type="bullet">
/// <item>Every event persisted in one turn (one message, including what its persist handlers persist in turn) goes
/// to the journal as one atomic write: all stored or none, in the order persisted.</item>
/// <item>Each write carries an attachment (<see cref="CreateAttachment"/>, e.g. the actor's query-index row after the
/// write) that the plugin hands to its write participants in the same transaction, and optionally a
/// <see cref="JournalWriteGroup"/> that commits writes of many actors together.</item>
/// </list>
/// Recovery sees the bare events (an <see cref="Attached"/> envelope replayed by a test journal is opened).
/// </summary>
internal abstract class JobsPersistentActor : PersistentActor
{
    private readonly List<(object Event, Action<object> Handler, JournalWriteGroup? Group)> _turn = [];
    private readonly List<object> _unapplied = [];
    private ClockTimers? _timers;
    private ILogger? _log;
    private ICancelable? _idleCheck;
    private TimeSpan _idleAfter;
    private long _lastActivity = Environment.TickCount64;

    /// <summary>The node's shared parts; every job actor is made with them.</summary>
    protected abstract JobsRuntime Runtime { get; }

    /// <summary>This actor's timers on the node's clock.</summary>
    protected ClockTimers Timers => _timers ??= new ClockTimers(Self, Runtime.Clock);

    /// <summary>The host's logger for this actor's type.</summary>
    protected new ILogger Log => _log ??= Runtime.Loggers.CreateLogger(GetType());

    /// <summary>
    /// Always the node's journal and the snapshot store beside it (the plugin with the journal the node started),
    /// whatever an application's default journal is.
    /// </summary>
    protected JobsPersistentActor()
    {
        JournalPluginId = SqlPersistence.JournalPluginId;
        SnapshotPluginId = SqlPersistence.SnapshotPluginId;
    }

    /// <summary>Job actors keep no snapshots: recovery replays the events alone (no snapshot query).</summary>
    public override Recovery Recovery => new(SnapshotSelectionCriteria.None);

    /// <summary>
    /// Persists <paramref name="event"/> with this turn's write and runs <paramref name="handler"/> once it is stored
    /// (commands wait meanwhile). With <paramref name="group"/>, the write commits in that group's transaction.
    /// </summary>
    protected void PersistIndexed<TEvent>(TEvent @event, Action<TEvent> handler, JournalWriteGroup? group = null)
        where TEvent : notnull
    {
        ArgumentNullException.ThrowIfNull(handler);
        _turn.Add((@event, e => handler((TEvent)e), group));
        _unapplied.Add(@event);
    }

    /// <summary>Persists <paramref name="events"/> in order with this turn's write.</summary>
    protected void PersistAllIndexed<TEvent>(IEnumerable<TEvent> events, Action<TEvent> handler)
        where TEvent : notnull
    {
        ArgumentNullException.ThrowIfNull(events);
        foreach (var e in events)
        {
            PersistIndexed(e, handler);
        }
    }

    /// <summary>
    /// The participants' data for a write, given every event persisted and not yet applied (in order; the state the
    /// actor holds is the state before the first of them). Null: nothing for the participants.
    /// </summary>
    protected virtual object? CreateAttachment(IReadOnlyList<object> events) => null;

    /// <summary>
    /// The lease this actor's writes are made under (its shard's), checked in each write's transaction; null: its
    /// writes are not fenced.
    /// </summary>
    protected virtual WriteFence? Fence => null;

    /// <summary>Handles a recovered event, snapshot offer or <see cref="RecoveryCompleted"/> (only the last may persist).</summary>
    protected abstract bool Recover(object message);

    /// <summary>Handles a command; what it persists is written as one atomic write when it returns.</summary>
    protected abstract bool Command(object message);

    /// <inheritdoc />
    protected sealed override bool ReceiveRecover(object message)
    {
        var handled = Recover(message is Attached attached ? attached.Event : message);
        if (message is RecoveryCompleted)
        {
            FlushTurn(); // what the end of recovery persists is written at once, not with the next command
        }

        return handled;
    }

    /// <inheritdoc />
    protected sealed override bool ReceiveCommand(object message)
    {
        var handled = Command(message);
        FlushTurn(); // inside the command: the persistent actor sends its batch to the journal when this returns
        return handled;
    }

    /// <summary>
    /// Sends this actor <see cref="ReceiveTimeout"/> once no message has come for <paramref name="after"/> (real time,
    /// as Akka's receive timeout). Unlike Akka's, which cancels and schedules a timer on every message, one repeating
    /// check per actor (every half of <paramref name="after"/>) compares with the time of the last message: an entity
    /// handles about ten messages per job, and re-arming measured a fifth of a no-op job's cost.
    /// </summary>
    protected void SetIdleTimeout(TimeSpan after)
    {
        if (after == _idleAfter && _idleCheck is not null)
        {
            return;
        }

        _idleAfter = after;
        _idleCheck?.Cancel();
        var every = TimeSpan.FromTicks(Math.Max(after.Ticks / 2, TimeSpan.FromMilliseconds(50).Ticks));
        _idleCheck = Context.System.Scheduler.ScheduleTellRepeatedlyCancelable(every, every, Self, IdleCheck.Instance, Self);
    }

    /// <inheritdoc />
    protected override bool AroundReceive(Receive receive, object message)
    {
        switch (message)
        {
            case ClockTimers.Tick tick:
                _lastActivity = Environment.TickCount64;
                return _timers?.Accept(tick) is not { } inner || base.AroundReceive(receive, inner);
            case IdleCheck:
                return Environment.TickCount64 - _lastActivity < (long)_idleAfter.TotalMilliseconds
                    || base.AroundReceive(receive, ReceiveTimeout.Instance);
            default:
                _lastActivity = Environment.TickCount64;
                return base.AroundReceive(receive, message);
        }
    }

    /// <summary>
    /// A write the journal refused (nothing of it stored: a conflicting writer, a row the database refused). Job
    /// actors treat it as a failed write: their state may be stale, so they answer as for a failure
    /// (<see cref="OnPersistFailure"/>) and stop, and the next message recovers a fresh one from storage.
    /// </summary>
    protected sealed override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        // Its handlers do not run (its events are the oldest not applied: writes complete in order).
        if (_unapplied.Count > 0)
        {
            _unapplied.RemoveAt(0);
        }

        OnPersistFailure(cause, @event, sequenceNr);
        Context.Stop(Self);
    }

    /// <inheritdoc />
    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr) =>
        Log.LogError(
            cause,
            "Storing {EventType} at {SequenceNr} of {PersistenceId} failed; the actor stops",
            (@event is Attached a ? a.Event : @event).GetType().Name,
            sequenceNr,
            PersistenceId
        );

    /// <inheritdoc />
    protected override void OnRecoveryFailure(Exception reason, object? message = null) =>
        Log.LogError(reason, "Recovery of {PersistenceId} failed; the actor stops", PersistenceId);

    /// <inheritdoc />
    protected override void PostStop()
    {
        _timers?.CancelAll();
        _idleCheck?.Cancel();
        base.PostStop();
    }

    private void FlushTurn()
    {
        if (_turn.Count == 0)
        {
            return;
        }

        var turn = _turn.ToArray();
        _turn.Clear();
        var group = turn.Select(t => t.Group).FirstOrDefault(g => g is not null);
        var fence = Fence;
        var envelopes = new Attached[turn.Length];
        var first = _unapplied.Count - turn.Length;
        for (var i = 0; i < turn.Length; i++)
        {
            // Each envelope's attachment describes the state after its event; the journal keeps the last.
            var attachment = i == turn.Length - 1 ? CreateAttachment(_unapplied.GetRange(0, first + i + 1)) : null;
            envelopes[i] = new Attached(turn[i].Event, attachment, i == 0 ? group : null, i == 0 ? fence : null);
        }

        var next = 0;
        PersistAll(envelopes, _ =>
        {
            var (e, handler, _) = turn[next++];
            _unapplied.RemoveAt(0); // handlers run in the order the events were persisted
            handler(e);
            if (next == turn.Length)
            {
                // What the handlers persisted is the next write (sent when this handler returns).
                FlushTurn();
            }
        });
    }

    /// <summary>The repeating idle check of <see cref="SetIdleTimeout"/>.</summary>
    private sealed class IdleCheck : INoSerializationVerificationNeeded
    {
        public static readonly IdleCheck Instance = new();
    }
}
