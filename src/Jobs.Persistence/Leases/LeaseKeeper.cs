using Akka.Coordination;
using Akka.Event;
using Jobs.Persistence.Journal;

namespace Jobs.Persistence.Leases;

/// <summary>
/// The leases one actor system holds in one database, taken and renewed together: the leases asked for at one time
/// in one transaction, and one statement every heartbeat interval renewing all of them (a node holding a hundred
/// shard leases makes one round trip, not a hundred). A lease counts as
/// held locally until the heartbeat timeout has passed since the start of its last successful renewal, never longer
/// than the database's own expiry of it; a lease the renewal no longer finds (taken over) or that runs out while the
/// database does not answer is reported lost through its callback.
/// </summary>
internal sealed class LeaseKeeper : IDisposable
{
    private readonly Func<CancellationToken, Task<ILeaseStore>> _store;
    private readonly TimeSpan _timeout;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _operationTimeout;
    private readonly ILoggingAdapter _log;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Holding> _held = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Leases asked for and not yet sent to the database (<see cref="AcquireTogetherAsync"/>).</summary>
    private readonly List<(string Name, TaskCompletionSource<long?> Asked)> _toAcquire = [];

    /// <summary>The loop taking <see cref="_toAcquire"/>, while it runs.</summary>
    private Task? _acquiring;

    /// <summary>Releases in flight by lease name: taking a lease again waits for its release, which would otherwise expire the new holding.</summary>
    private readonly Dictionary<string, Task> _releasing = new(StringComparer.Ordinal);

    /// <summary>The renewal in flight, if any: a release waits for it, or the renewal could extend the lease after the release.</summary>
    private Task? _renewing;
    private Task? _loop;
    private long _lastContact = Environment.TickCount64;

    /// <summary>Creates the keeper of <paramref name="address"/>'s leases (an owner is the address and this process's token).</summary>
    public LeaseKeeper(
        string address,
        Func<CancellationToken, Task<ILeaseStore>> store,
        TimeSpan timeout,
        TimeSpan interval,
        TimeSpan operationTimeout,
        ILoggingAdapter log
    )
    {
        ArgumentException.ThrowIfNullOrEmpty(address);
        if (interval <= TimeSpan.Zero || interval >= timeout)
        {
            throw new ArgumentException(
                $"the lease heartbeat-interval ({interval}) must be positive and shorter than the heartbeat-timeout ({timeout})",
                nameof(interval)
            );
        }

        FormerOwnerPrefix = address + "#";
        Owner = FormerOwnerPrefix + Guid.NewGuid().ToString("N")[..12];
        _store = store;
        _timeout = timeout;
        _interval = interval;
        _operationTimeout = operationTimeout;
        _log = log;
    }

    /// <summary>
    /// The owner written into the lease rows: the address and a token of this process, so a process restarted on the
    /// same address is another owner (and its takeover a new epoch).
    /// </summary>
    public string Owner { get; }

    /// <summary>What every owner on this address starts with: a holder with this prefix is a former incarnation of this one.</summary>
    public string FormerOwnerPrefix { get; }

    /// <summary>How long since the database last answered a lease call of this keeper.</summary>
    public TimeSpan SinceContact => TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref _lastContact));

    /// <summary>Takes lease <paramref name="name"/>; <paramref name="lost"/> is called if it is lost later.</summary>
    public async Task<bool> AcquireAsync(string name, Action<Exception>? lost)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        bounded.CancelAfter(_operationTimeout);
        Task? releasing;
        lock (_gate)
        {
            _releasing.TryGetValue(name, out releasing);
        }

        if (releasing is not null)
        {
            // (its failure is logged there)
            await releasing.ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(bounded.Token).ConfigureAwait(false);
        }

        var started = Environment.TickCount64;
        var epoch = await AcquireTogetherAsync(name).WaitAsync(bounded.Token).ConfigureAwait(false);
        Touch();
        if (epoch is not { } held)
        {
            return false;
        }

        lock (_gate)
        {
            _held[name] = new Holding(held, lost, started + (long)_timeout.TotalMilliseconds);
            _loop ??= Task.Run(RenewLoopAsync);
        }

        return true;
    }

    /// <summary>
    /// Asks the database for lease <paramref name="name"/> together with every other lease asked for meanwhile: one
    /// transaction at a time takes all that are waiting. A node that starts its shards at once (the first jobs after
    /// a start, a burst due at one instant, a member's shards taken over) asked for each of them in a transaction of
    /// its own, dozens of connections opened and commits made at the same moment: measured, 64 leases took 0.4-1.1 s
    /// each, and the burst's jobs waited for them (docs/benchmarks.md).
    /// </summary>
    private Task<long?> AcquireTogetherAsync(string name)
    {
        var asked = new TaskCompletionSource<long?>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            _toAcquire.Add((name, asked));
            _acquiring ??= Task.Run(AcquireLoopAsync);
        }

        return asked.Task;
    }

    /// <summary>Takes the leases asked for, all that wait at a time, until none does.</summary>
    private async Task AcquireLoopAsync()
    {
        while (true)
        {
            List<(string Name, TaskCompletionSource<long?> Asked)> batch;
            lock (_gate)
            {
                if (_toAcquire.Count == 0)
                {
                    _acquiring = null;
                    return;
                }

                batch = [.. _toAcquire];
                _toAcquire.Clear();
            }

            try
            {
                using var bounded = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
                bounded.CancelAfter(_operationTimeout);
                var store = await _store(bounded.Token).ConfigureAwait(false);
                var names = batch.Select(b => b.Name).Distinct(StringComparer.Ordinal).ToList();
                var taken = await store.TryAcquireLeasesAsync(names, Owner, FormerOwnerPrefix, _timeout, bounded.Token).ConfigureAwait(false);
                foreach (var (name, asked) in batch)
                {
                    if (taken.TryGetValue(name, out var epoch))
                    {
                        asked.TrySetResult(epoch);
                    }
                    else
                    {
                        // Its takeover waits for writes in flight under it: alone, so that it holds no other lease back.
                        _ = AcquireAloneAsync(store, name, asked);
                    }
                }
            }
            catch (Exception ex)
            {
                foreach (var (_, asked) in batch)
                {
                    asked.TrySetException(ex);
                }
            }
        }
    }

    /// <summary>Takes lease <paramref name="name"/> in a transaction of its own, answering <paramref name="asked"/>.</summary>
    private async Task AcquireAloneAsync(ILeaseStore store, string name, TaskCompletionSource<long?> asked)
    {
        try
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            bounded.CancelAfter(_operationTimeout);
            asked.TrySetResult(await store.TryAcquireLeaseAsync(name, Owner, FormerOwnerPrefix, _timeout, bounded.Token).ConfigureAwait(false));
        }
        catch (Exception ex)
        {
            asked.TrySetException(ex);
        }
    }

    /// <summary>
    /// Gives lease <paramref name="name"/> up at once here (its fence no longer passes) and expires its row in the
    /// background: the returned task is complete already. A shard that stops waits for its lease's release on its
    /// own thread, so a node handing over dozens of shards held as many thread-pool threads, each waiting for a
    /// round trip whose completion needed another pool thread: the whole process stalled for seconds (measured: a
    /// graceful stop's shard hand-over took 6-9 s). Taking the same lease again waits for the release in flight.
    /// </summary>
    public Task<bool> Release(string name)
    {
        var release = ReleaseAsync(name); // removes the holding before it first waits
        lock (_gate)
        {
            _releasing[name] = release;
        }

        _ = release.ContinueWith(
            done =>
            {
                lock (_gate)
                {
                    if (_releasing.TryGetValue(name, out var current) && current == done)
                    {
                        _releasing.Remove(name);
                    }
                }

                if (!done.IsCompletedSuccessfully)
                {
                    _log.Warning(
                        "Releasing lease {0} failed (it expires after its timeout instead): {1}",
                        name,
                        done.Exception?.GetBaseException().Message ?? "cancelled"
                    );
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default
        );
        return Task.FromResult(true);
    }

    /// <summary>Gives lease <paramref name="name"/> up and expires its row, completing once the database has it.</summary>
    internal async Task<bool> ReleaseAsync(string name)
    {
        Task? renewing;
        lock (_gate)
        {
            _held.Remove(name);
            renewing = _renewing;
        }

        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        bounded.CancelAfter(_operationTimeout);
        if (renewing is not null)
        {
            await renewing.WaitAsync(bounded.Token).ConfigureAwait(false); // it took its names before this removal
        }

        var store = await _store(bounded.Token).ConfigureAwait(false);
        await store.ReleaseLeaseAsync(name, Owner, bounded.Token).ConfigureAwait(false);
        Touch();
        return true;
    }

    /// <summary>The epoch lease <paramref name="name"/> is held at, or null when it is not held (or has run out locally).</summary>
    public long? EpochOf(string name)
    {
        lock (_gate)
        {
            return _held.TryGetValue(name, out var holding) && Environment.TickCount64 < holding.ValidUntil ? holding.Epoch : null;
        }
    }

    /// <summary>Renews every lease held now, in one statement; reports the ones lost.</summary>
    internal async Task RenewOnceAsync(CancellationToken cancellationToken)
    {
        string[] names;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            names = [.. _held.Keys];
            if (names.Length == 0)
            {
                return;
            }

            _renewing = done.Task;
        }

        try
        {
            await RenewAsync(names, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lock (_gate)
            {
                _renewing = null;
            }

            done.SetResult();
        }
    }

    private async Task RenewAsync(string[] names, CancellationToken cancellationToken)
    {
        var started = Environment.TickCount64;
        var lost = new List<(string Name, Action<Exception>? Callback, Exception Why)>();
        try
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bounded.CancelAfter(_operationTimeout);
            var store = await _store(bounded.Token).ConfigureAwait(false);
            var renewed = await store.RenewLeasesAsync(Owner, names, _timeout, bounded.Token).ConfigureAwait(false);
            Touch();
            lock (_gate)
            {
                foreach (var name in names)
                {
                    if (!_held.TryGetValue(name, out var holding))
                    {
                        continue; // released meanwhile
                    }

                    if (renewed.TryGetValue(name, out var epoch) && epoch == holding.Epoch)
                    {
                        _held[name] = holding with { ValidUntil = started + (long)_timeout.TotalMilliseconds };
                    }
                    else
                    {
                        _held.Remove(name);
                        lost.Add((name, holding.Lost, new LeaseException($"lease '{name}' is held by another owner now")));
                    }
                }
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException && !_stopping.IsCancellationRequested)
        {
            _log.Warning("Renewing {0} leases as {1} failed: {2}", names.Length, Owner, ex.Message);
            var now = Environment.TickCount64;
            lock (_gate)
            {
                foreach (var (name, holding) in _held.Where(h => h.Value.ValidUntil <= now).ToList())
                {
                    _held.Remove(name);
                    lost.Add(
                        (
                            name,
                            holding.Lost,
                            new LeaseException($"lease '{name}' ran out: the database did not answer its renewal for {_timeout}", ex)
                        )
                    );
                }
            }
        }

        foreach (var (name, callback, why) in lost)
        {
            _log.Warning("Lost lease {0}: {1}", name, why.Message);
            try
            {
                callback?.Invoke(why);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _log.Error(ex, "The lost-lease callback of {0} failed", name);
            }
        }
    }

    /// <summary>
    /// Releases what this keeper still holds, and lets the releases in flight land (all bounded by the operation
    /// timeout): called once its actor system has terminated, when nothing of it acts under its leases any more, so
    /// that the next holders need not wait for the rows to expire (a downed member's shards and singleton stop
    /// without giving their leases back).
    /// </summary>
    public void ReleaseAll()
    {
        Task[] releasing;
        string[] held;
        lock (_gate)
        {
            releasing = [.. _releasing.Values];
            held = [.. _held.Keys];
        }

        releasing = [.. releasing, .. held.Select(ReleaseAsync)];
        try
        {
            Task.WaitAll(releasing, _operationTimeout);
        }
        catch (AggregateException ex)
        {
            _log.Warning(
                "Releasing {0} leases as {1} at shutdown failed (they expire after their timeout): {2}",
                held.Length,
                Owner,
                ex.GetBaseException().Message
            );
        }
    }

    /// <summary>Stops renewing (what is still held then expires after its timeout).</summary>
    public void Dispose()
    {
        _stopping.Cancel();
        _stopping.Dispose();
    }

    private void Touch() => Interlocked.Exchange(ref _lastContact, Environment.TickCount64);

    private async Task RenewLoopAsync()
    {
        using var timer = new PeriodicTimer(_interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                await RenewOnceAsync(_stopping.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The actor system terminated.
        }
    }

    /// <summary>A lease held: its epoch, whom to tell when it is lost, and until when (local monotonic milliseconds) it counts as held.</summary>
    private sealed record Holding(long Epoch, Action<Exception>? Lost, long ValidUntil);
}
