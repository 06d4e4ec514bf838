using System.Runtime.CompilerServices;
using Jobs.Persistence.Journal;

namespace Jobs.Persistence.Memory;

/// <summary>A journal in process memory, for tests and development: same semantics as the SQL journals, nothing survives the process.</summary>
public sealed class InMemoryJournal(IReadOnlyList<IWriteParticipant>? participants = null, TimeProvider? timeProvider = null) : IJournal, ILeaseStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Stream> _streams = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Owner, long Epoch, DateTimeOffset ExpiresAt)> _leases = new(StringComparer.Ordinal);
    private readonly IReadOnlyList<IWriteParticipant> _participants = participants ?? [];
    private readonly TimeProvider _clock = timeProvider ?? TimeProvider.System;

    /// <inheritdoc />
    public string Backend => "memory";

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var participant in _participants)
        {
            await participant.EnsureSchemaAsync(null, SqlDialect.Memory, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Sets a lease row (the in-memory stand-in for the leases table that fences check).</summary>
    public void SetLease(string name, string owner, long epoch, DateTimeOffset expiresAt)
    {
        lock (_gate)
        {
            _leases[name] = (owner, epoch, expiresAt);
        }
    }

    /// <inheritdoc />
    public Task<long?> TryAcquireLeaseAsync(
        string name,
        string owner,
        string formerOwnerPrefix,
        TimeSpan duration,
        CancellationToken cancellationToken
    )
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentException.ThrowIfNullOrEmpty(formerOwnerPrefix);
        lock (_gate)
        {
            var now = _clock.GetUtcNow();
            if (!_leases.TryGetValue(name, out var lease))
            {
                _leases[name] = (owner, 1, now + duration);
                return Task.FromResult<long?>(1);
            }

            var live = lease.ExpiresAt > now;
            if (lease.Owner != owner && live && !lease.Owner.StartsWith(formerOwnerPrefix, StringComparison.Ordinal))
            {
                return Task.FromResult<long?>(null);
            }

            var epoch = lease.Owner == owner && live ? lease.Epoch : lease.Epoch + 1;
            _leases[name] = (owner, epoch, now + duration);
            return Task.FromResult<long?>(epoch);
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<string, long?>> TryAcquireLeasesAsync(
        IReadOnlyCollection<string> names,
        string owner,
        string formerOwnerPrefix,
        TimeSpan duration,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(names);
        var taken = new Dictionary<string, long?>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            taken[name] = await TryAcquireLeaseAsync(name, owner, formerOwnerPrefix, duration, cancellationToken).ConfigureAwait(false);
        }

        return taken;
    }

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<string, long>> RenewLeasesAsync(
        string owner,
        IReadOnlyCollection<string> names,
        TimeSpan duration,
        CancellationToken cancellationToken
    )
    {
        ArgumentNullException.ThrowIfNull(names);
        lock (_gate)
        {
            var held = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var name in names)
            {
                if (_leases.TryGetValue(name, out var lease) && lease.Owner == owner)
                {
                    _leases[name] = lease with { ExpiresAt = _clock.GetUtcNow() + duration };
                    held[name] = lease.Epoch;
                }
            }

            return Task.FromResult<IReadOnlyDictionary<string, long>>(held);
        }
    }

    /// <inheritdoc />
    public Task ReleaseLeaseAsync(string name, string owner, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_leases.TryGetValue(name, out var lease) && lease.Owner == owner)
            {
                _leases[name] = lease with { ExpiresAt = DateTimeOffset.MinValue };
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<DateTimeOffset> ReadClockAsync(CancellationToken cancellationToken) => Task.FromResult(_clock.GetUtcNow());

    /// <inheritdoc />
    public Task WriteAsync(AtomicWrite write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        return WriteGroupAsync([write], cancellationToken);
    }

    /// <inheritdoc />
    public Task WriteGroupAsync(IReadOnlyList<AtomicWrite> writes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writes);
        lock (_gate)
        {
            // Check every write first, so a refused group stores nothing.
            var highest = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var write in writes)
            {
                write.Validate();
                if (
                    write.Fence is { } fence
                    && (
                        !_leases.TryGetValue(fence.LeaseName, out var lease)
                        || lease.Owner != fence.Owner
                        || lease.Epoch != fence.Epoch
                        || lease.ExpiresAt <= _clock.GetUtcNow()
                    )
                )
                {
                    return Task.FromException(new FencingException(fence));
                }

                var current =
                    highest.TryGetValue(write.PersistenceId, out var seen) ? seen
                    : _streams.TryGetValue(write.PersistenceId, out var stream) ? stream.Highest
                    : 0;
                if (write.LowestSequenceNr <= current)
                {
                    return Task.FromException(new JournalConflictException(write.PersistenceId, write.LowestSequenceNr));
                }

                highest[write.PersistenceId] = write.HighestSequenceNr;
            }

            var attached = writes.Where(w => w.Attachment is not null).ToList();
            if (attached.Count > 0)
            {
                foreach (var participant in _participants)
                {
                    // Participants run under the journal lock, so they see writes in commit order.
                    participant.WriteAsync(null, SqlDialect.Memory, attached, cancellationToken).GetAwaiter().GetResult();
                }
            }

            foreach (var write in writes)
            {
                if (!_streams.TryGetValue(write.PersistenceId, out var stream))
                {
                    _streams[write.PersistenceId] = stream = new Stream();
                }

                stream.Events.AddRange(write.Events);
                stream.Highest = write.HighestSequenceNr;
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<PersistentRepr> ReplayAsync(
        string persistenceId,
        long fromSequenceNr,
        long toSequenceNr,
        long max,
        [EnumeratorCancellation] CancellationToken cancellationToken
    )
    {
        PersistentRepr[] events;
        lock (_gate)
        {
            events = _streams.TryGetValue(persistenceId, out var stream)
                ? [.. stream.Events.Where(e => e.SequenceNr >= fromSequenceNr && e.SequenceNr <= toSequenceNr).Take((int)Math.Min(max, int.MaxValue))]
                : [];
        }

        foreach (var e in events)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return e;
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<long> ReadHighestSequenceNrAsync(string persistenceId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_streams.TryGetValue(persistenceId, out var stream) ? stream.Highest : 0);
        }
    }

    /// <inheritdoc />
    public Task DeleteMessagesToAsync(string persistenceId, long toSequenceNr, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_streams.TryGetValue(persistenceId, out var stream))
            {
                stream.Events.RemoveAll(e => e.SequenceNr <= toSequenceNr);
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private sealed class Stream
    {
        public List<PersistentRepr> Events { get; } = [];

        public long Highest { get; set; }
    }
}
