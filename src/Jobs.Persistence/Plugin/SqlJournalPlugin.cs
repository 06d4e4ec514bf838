using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Persistence.Journal;
using Jobs.Persistence.Journal;
using StoredEvent = Jobs.Persistence.Journal.PersistentRepr;
using StoredWrite = Jobs.Persistence.Journal.AtomicWrite;

namespace Jobs.Persistence.Plugin;

/// <summary>
/// The journal plugin: persistent actors' writes go to the SQL journal's group-commit writer, so the writes of many
/// actors share one transaction, and each event's payload is stored with its serializer id and manifest.
/// A write that conflicts with another writer of the same stream (its sequence numbers are taken) or whose fence
/// no longer holds is rejected alone (the actor is told through OnPersistRejected); a database failure fails the
/// writes of the call (OnPersistFailure).
/// </summary>
public sealed class SqlJournalPlugin : AsyncWriteJournal
{
    private readonly PluginSettings _settings;
    private readonly PayloadCodec _codec;
    private readonly SqlPersistence _stores;

    /// <summary>Creates the plugin from its HOCON section (over the plugin's defaults).</summary>
    public SqlJournalPlugin(Config config)
    {
        (_settings, _codec, _stores) = PluginContext.Create(config, SqlPersistence.JournalPluginId, Context.System);
        _reads = new RecoveryReads(() => _journal ?? throw new InvalidOperationException("the journal has not started"));
    }

    private readonly RecoveryReads _reads;

    /// <summary>The started journal, once a call has waited for it (recovery reads use it from their own loop).</summary>
    private IJournal? _journal;

    /// <inheritdoc />
    protected override void PreStart()
    {
        base.PreStart();

        // Start the database early (tables, migrations) rather than in the first actor's recovery; a failure here is
        // not fatal: every call tries again.
        _ = _stores.JournalAsync(_settings).ContinueWith(static t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted);
    }

    /// <inheritdoc />
    protected override async Task<IImmutableList<Exception?>> WriteMessagesAsync(
        IEnumerable<Akka.Persistence.AtomicWrite> messages,
        CancellationToken cancellationToken
    )
    {
        var journal = (await _stores.JournalAsync(_settings).ConfigureAwait(false)).Journal;
        var writes = messages.ToList();
        var results = new Exception?[writes.Count];
        var pending = new Task?[writes.Count];
        for (var i = 0; i < writes.Count; i++)
        {
            StoredWrite stored;
            JournalWriteGroup? group;
            try
            {
                (stored, group) = ToStored(writes[i]);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // A payload that cannot be serialized is rejected before anything is written; the others go on.
                results[i] = ex;
                continue;
            }

            // A write that belongs to a group (one transaction for many actors' writes) commits with its group.
            pending[i] = group is null ? journal.WriteAsync(stored, cancellationToken) : group.AddAsync(stored);
        }

        Exception? failure = null;
        for (var i = 0; i < writes.Count; i++)
        {
            if (pending[i] is not { } task)
            {
                continue;
            }

            try
            {
                await task.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is JournalConflictException or FencingException)
            {
                results[i] = ex;
            }
            catch (Exception ex)
            {
                failure ??= ex;
            }
        }

        if (failure is not null)
        {
            throw failure;
        }

        return results.Any(r => r is not null) ? results.ToImmutableList() : null!;
    }

    /// <inheritdoc />
    protected override async Task DeleteMessagesToAsync(string persistenceId, long toSequenceNr, CancellationToken cancellationToken)
    {
        var journal = (await _stores.JournalAsync(_settings).ConfigureAwait(false)).Journal;
        await journal.DeleteMessagesToAsync(persistenceId, toSequenceNr, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async Task ReplayMessagesAsync(
        IActorContext context,
        string persistenceId,
        long fromSequenceNr,
        long toSequenceNr,
        long max,
        Action<IPersistentRepresentation> recoveryCallback
    )
    {
        ArgumentNullException.ThrowIfNull(recoveryCallback);
        if (_reads.TryTake(persistenceId, fromSequenceNr, out var read))
        {
            // Read with this actor's highest sequence number, together with the streams of other recovering actors.
            foreach (var stored in read.Where(e => e.SequenceNr <= toSequenceNr).Take(max >= int.MaxValue ? int.MaxValue : (int)Math.Max(0, max)))
            {
                recoveryCallback(ToPersistent(stored));
            }

            return;
        }

        var journal = (await _stores.JournalAsync(_settings).ConfigureAwait(false)).Journal;
        await foreach (
            var stored in journal.ReplayAsync(persistenceId, fromSequenceNr, toSequenceNr, max, CancellationToken.None).ConfigureAwait(false)
        )
        {
            recoveryCallback(ToPersistent(stored));
        }
    }

    private Persistent ToPersistent(StoredEvent stored) =>
        new(
            _codec.Deserialize(stored.SerializerId, stored.Manifest, stored.Payload),
            stored.SequenceNr,
            stored.PersistenceId,
            string.Empty,
            isDeleted: false,
            ActorRefs.NoSender,
            stored.WriterId,
            stored.Timestamp.UtcTicks
        );

    /// <inheritdoc />
    public override async Task<long> ReadHighestSequenceNrAsync(string persistenceId, long fromSequenceNr, CancellationToken cancellationToken)
    {
        // Asked first in every recovery: read the events too, with every stream recovering meanwhile (RecoveryReads).
        _journal ??= (await _stores.JournalAsync(_settings).ConfigureAwait(false)).Journal;
        return await _reads.ReadHighestAsync(persistenceId, fromSequenceNr + 1).ConfigureAwait(false);
    }

    /// <summary>
    /// The stored form of one of Akka's atomic writes: tags are not kept (this journal has no tag queries), an
    /// <see cref="Attached"/> envelope is opened (its event stored, its attachment handed to the participants, its
    /// fence checked in the write's transaction).
    /// </summary>
    private (StoredWrite Write, JournalWriteGroup? Group) ToStored(Akka.Persistence.AtomicWrite write)
    {
        JournalWriteGroup? group = null;
        var events = (IImmutableList<IPersistentRepresentation>)write.Payload;
        var stored = new List<StoredEvent>(events.Count);
        object? attachment = null;
        WriteFence? fence = null;
        var now = DateTimeOffset.UtcNow;
        foreach (var repr in events)
        {
            var payload = repr.Payload is Tagged tagged ? tagged.Payload : repr.Payload;
            if (payload is Attached attached)
            {
                payload = attached.Event;
                attachment = attached.Attachment ?? attachment;
                group ??= attached.Group;
                fence ??= attached.Fence;
            }

            var (serializerId, manifest, bytes) = _codec.Serialize(payload);
            stored.Add(new StoredEvent(repr.PersistenceId, repr.SequenceNr, manifest, bytes, now, repr.WriterGuid ?? string.Empty, serializerId));
        }

        return (new StoredWrite(write.PersistenceId, stored, fence, attachment), group);
    }
}
