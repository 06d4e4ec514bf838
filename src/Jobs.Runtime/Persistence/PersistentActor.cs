using Jobs.Runtime.Actors;
using Jobs.Persistence.Journal;
using Jobs.Persistence.Snapshots;
using Microsoft.Extensions.Logging;

namespace Jobs.Runtime.Persistence;

/// <summary>
/// An event-sourced actor (Akka's PersistentActor). Commands go to <see cref="ReceiveCommand"/>; state changes are
/// events passed to <see cref="Persist{TEvent}"/>, whose handlers run only after the journal confirms the write.
/// Until then the actor takes no other message (commands wait in the mailbox, in order). On start and restart the
/// actor recovers: latest snapshot, then every later event through <see cref="ReceiveRecover"/>, then
/// <see cref="RecoveryCompleted"/>. A storage failure stops the actor (the outcome is unknown); a rejected event
/// (one that cannot be serialized) is reported to <see cref="OnPersistRejected"/> and the actor goes on.
/// </summary>
public abstract class PersistentActor : ActorBase
{
    private readonly List<Invocation> _pending = [];
    private PersistenceExtension? _persistence;
    private long _lastSequenceNr;
    private bool _recovering;

    /// <summary>The stream this actor writes; stable for the actor's identity.</summary>
    public abstract string PersistenceId { get; }

    /// <summary>The sequence number of the last persisted (or replayed) event; inside an event handler, that event's.</summary>
    protected long LastSequenceNr => _lastSequenceNr;

    /// <summary>True while replaying.</summary>
    protected bool IsRecovering => _recovering;

    /// <summary>Which snapshot recovery starts from. Default: the latest.</summary>
    protected virtual SnapshotSelectionCriteria RecoverySnapshotCriteria => SnapshotSelectionCriteria.Latest;

    /// <summary>The fence every write of this actor carries (a shard lease), or null. Default: null.</summary>
    protected virtual WriteFence? WriteFence => null;

    private PersistenceExtension Persistence => _persistence ??= PersistenceExtension.Get(Context.System);

    /// <summary>Applies a replayed event, a <see cref="SnapshotOffer"/>, or <see cref="RecoveryCompleted"/>.</summary>
    protected abstract bool ReceiveRecover(object message);

    /// <summary>Handles a command (may call Persist, PersistAll, Defer).</summary>
    protected abstract bool ReceiveCommand(object message);

    /// <summary>Stores <paramref name="event"/>; <paramref name="handler"/> runs after the commit, before any other message.</summary>
    protected void Persist<TEvent>(TEvent @event, Action<TEvent> handler)
        where TEvent : notnull
    {
        ArgumentNullException.ThrowIfNull(handler);
        _pending.Add(new Invocation(@event, e => handler((TEvent)e), isEvent: true));
    }

    /// <summary>
    /// Stores <paramref name="event"/> as part of <paramref name="group"/>: committed in one transaction with the
    /// other participants' writes; <paramref name="handler"/> runs after that commit.
    /// </summary>
    protected void PersistInGroup<TEvent>(TEvent @event, JournalWriteGroup group, Action<TEvent> handler)
        where TEvent : notnull
    {
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(group);
        _pending.Add(new Invocation(@event, e => handler((TEvent)e), isEvent: true) { Group = group });
    }

    /// <summary>Stores all <paramref name="events"/> atomically (all or none); the handler runs once per event after the commit.</summary>
    protected void PersistAll<TEvent>(IEnumerable<TEvent> events, Action<TEvent> handler)
        where TEvent : notnull
    {
        ArgumentNullException.ThrowIfNull(events);
        foreach (var e in events)
        {
            Persist(e, handler);
        }
    }

    /// <summary>Runs <paramref name="handler"/> after every event persisted before this call has been handled (nothing is stored).</summary>
    protected void Defer<T>(T value, Action<T> handler)
        where T : notnull
    {
        ArgumentNullException.ThrowIfNull(handler);
        _pending.Add(new Invocation(value, v => handler((T)v), isEvent: false));
    }

    /// <summary>Data stored with the events in the same transaction (for example a query-index row), built from the events being written. Default: null.</summary>
    protected virtual object? CreateAttachment(IReadOnlyList<object> events) => null;

    /// <summary>Saves <paramref name="snapshot"/> at <see cref="LastSequenceNr"/>; the result arrives as <see cref="SaveSnapshotSuccess"/> or <see cref="SaveSnapshotFailure"/>.</summary>
    protected void SaveSnapshot(object snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var metadata = new SnapshotMetadata(PersistenceId, _lastSequenceNr, Context.System.TimeProvider.GetUtcNow());
        var (manifest, payload) = Persistence.Serializer.Serialize(snapshot);
        var self = Self;
        _ = Persistence.Snapshots.SaveAsync(metadata, manifest, payload, CancellationToken.None).ContinueWith(
            t => self.Tell(t.IsCompletedSuccessfully ? new SaveSnapshotSuccess(metadata) : new SaveSnapshotFailure(metadata, t.Exception!.GetBaseException()), self),
            TaskScheduler.Default);
    }

    /// <summary>Deletes snapshots matching <paramref name="criteria"/>; the result arrives as a message.</summary>
    protected void DeleteSnapshots(SnapshotSelectionCriteria criteria)
    {
        ArgumentNullException.ThrowIfNull(criteria);
        var self = Self;
        _ = Persistence.Snapshots.DeleteAsync(PersistenceId, criteria, CancellationToken.None).ContinueWith(
            t => self.Tell(t.IsCompletedSuccessfully ? new DeleteSnapshotsSuccess(criteria) : new DeleteSnapshotsFailure(criteria, t.Exception!.GetBaseException()), self),
            TaskScheduler.Default);
    }

    /// <summary>Deletes events up to <paramref name="toSequenceNr"/> (the sequence numbering continues); the result arrives as a message.</summary>
    protected void DeleteMessages(long toSequenceNr)
    {
        var self = Self;
        _ = Persistence.Journal.DeleteMessagesToAsync(PersistenceId, toSequenceNr, CancellationToken.None).ContinueWith(
            t => self.Tell(t.IsCompletedSuccessfully ? new DeleteMessagesSuccess(toSequenceNr) : new DeleteMessagesFailure(toSequenceNr, t.Exception!.GetBaseException()), self),
            TaskScheduler.Default);
    }

    /// <summary>Called when a write failed in storage (or lost its fence); the actor stops afterwards. Default: logs.</summary>
    protected virtual void OnPersistFailure(Exception cause, object @event, long sequenceNr) =>
        Log.LogError(cause, "Persisting {EventType} at {SequenceNr} for {PersistenceId} failed; stopping", @event.GetType().Name, sequenceNr, PersistenceId);

    /// <summary>Called when an event was rejected before storage (serialization); the actor continues. Default: logs.</summary>
    protected virtual void OnPersistRejected(Exception cause, object @event, long sequenceNr) =>
        Log.LogWarning(cause, "Event {EventType} at {SequenceNr} for {PersistenceId} was rejected and not stored", @event.GetType().Name, sequenceNr, PersistenceId);

    /// <summary>Called when recovery failed; the actor stops afterwards. Default: logs.</summary>
    protected virtual void OnRecoveryFailure(Exception cause) =>
        Log.LogError(cause, "Recovery of {PersistenceId} failed; stopping", PersistenceId);

    /// <inheritdoc />
    protected sealed override bool Receive(object message)
    {
        var handled = ReceiveCommand(message);
        Flush();
        return handled;
    }

    internal override void AroundPreStart()
    {
        base.AroundPreStart();
        RunTask(RecoverAsync());
    }

    internal override void AroundPostRestart(Exception reason)
    {
        _pending.Clear();
        base.AroundPostRestart(reason);
        RunTask(RecoverAsync());
    }

    private async Task RecoverAsync()
    {
        var persistence = Persistence;
        _recovering = true;
        var batched = RecoverySnapshotCriteria == SnapshotSelectionCriteria.Latest;
        if (!batched)
        {
            await persistence.RecoveryPermits.WaitAsync().ConfigureAwait(false);
        }

        try
        {
            _lastSequenceNr = 0;
            SelectedSnapshot? snapshot;
            RecoveredEvents recovered;
            if (batched)
            {
                (snapshot, recovered) = await persistence.Recovery.RecoverAsync(PersistenceId).ConfigureAwait(false);
            }
            else
            {
                snapshot = await persistence.Snapshots.LoadAsync(PersistenceId, RecoverySnapshotCriteria, CancellationToken.None).ConfigureAwait(false);
                var from = snapshot is null ? 1 : snapshot.Metadata.SequenceNr + 1;
                recovered = (await persistence.Journal.ReplayManyAsync([(PersistenceId, from)], CancellationToken.None).ConfigureAwait(false))[PersistenceId];
            }

            if (snapshot is not null)
            {
                _lastSequenceNr = snapshot.Metadata.SequenceNr;
                ReceiveRecover(new SnapshotOffer(snapshot.Metadata, persistence.Serializer.Deserialize(snapshot.Manifest, snapshot.Payload)));
            }

            foreach (var repr in recovered.Events)
            {
                _lastSequenceNr = repr.SequenceNr;
                ReceiveRecover(persistence.Serializer.Deserialize(repr.Manifest, repr.Payload));
            }

            // Deleted events still count: numbering continues after the highest ever written.
            _lastSequenceNr = Math.Max(_lastSequenceNr, recovered.HighestSequenceNr);
            _recovering = false;
            ReceiveRecover(RecoveryCompleted.Instance);
        }
        catch (Exception ex)
        {
            _recovering = false;
            OnRecoveryFailure(ex);
            Context.Stop(Self);
            return;
        }
        finally
        {
            if (!batched)
            {
                persistence.RecoveryPermits.Release();
            }
        }

        // RecoveryCompleted handlers may persist too.
        await WriteAndInvokeAsync().ConfigureAwait(false);
    }

    private void Flush()
    {
        if (_pending.Count > 0)
        {
            RunTask(WriteAndInvokeAsync());
        }
    }

    private async Task WriteAndInvokeAsync()
    {
        // Handlers may persist again; keep going until nothing is pending (all while holding the turn).
        while (_pending.Count > 0)
        {
            var invocations = _pending.ToArray();
            _pending.Clear();
            var persistence = Persistence;
            var timestamp = Context.System.TimeProvider.GetUtcNow();
            var events = new List<(Invocation Invocation, PersistentRepr Repr)>();
            var rejected = false;
            var next = _lastSequenceNr;
            foreach (var invocation in invocations.Where(i => i.IsEvent))
            {
                try
                {
                    var (manifest, payload) = persistence.Serializer.Serialize(invocation.Value);
                    events.Add((invocation, new PersistentRepr(PersistenceId, ++next, manifest, payload, timestamp, persistence.Options.WriterId)));
                }
                catch (Exception ex) when (ex is InvalidOperationException or NotSupportedException or System.Text.Json.JsonException)
                {
                    OnPersistRejected(ex, invocation.Value, next + 1);
                    rejected = true;
                }
            }

            if (rejected)
            {
                // A rejected event rejects the whole atomic write; deferred handlers still run.
                foreach (var (invocation, repr) in events)
                {
                    OnPersistRejected(new InvalidOperationException("rejected together with another event of the same write"), invocation.Value, repr.SequenceNr);
                }

                foreach (var deferred in invocations.Where(i => !i.IsEvent))
                {
                    deferred.Handler(deferred.Value);
                }

                continue;
            }

            if (events.Count > 0)
            {
                var write = new AtomicWrite(PersistenceId, [.. events.Select(e => e.Repr)], WriteFence, CreateAttachment([.. events.Select(e => e.Invocation.Value)]));
                try
                {
                    var group = invocations.Select(i => i.Group).FirstOrDefault(g => g is not null);
                    await (group is null ? persistence.Journal.WriteAsync(write, CancellationToken.None) : group.AddAsync(write)).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    OnPersistFailure(ex, events[0].Invocation.Value, events[0].Repr.SequenceNr);
                    _pending.Clear();
                    Context.Stop(Self);
                    return;
                }
            }

            var sequence = events.ToDictionary(e => e.Invocation, e => e.Repr.SequenceNr);
            foreach (var invocation in invocations)
            {
                if (invocation.IsEvent)
                {
                    _lastSequenceNr = sequence[invocation];
                }

                invocation.Handler(invocation.Value);
            }
        }
    }

    // A class, not a record: two persists of equal events are still two invocations.
    private sealed class Invocation(object value, Action<object> handler, bool isEvent)
    {
        public object Value { get; } = value;

        public Action<object> Handler { get; } = handler;

        public bool IsEvent { get; } = isEvent;

        public JournalWriteGroup? Group { get; init; }
    }
}
