namespace Jobs.Persistence.Journal;

/// <summary>
/// Gathers the writes of several persistent actors into one transaction (all or none): each of the
/// <see cref="Expected"/> participants either adds its write or skips; when all have answered, the group commits,
/// and every writer's persist completes (or fails) together. A group not complete within its timeout fails.
/// </summary>
public sealed class JournalWriteGroup
{
    private readonly IJournal _journal;
    private readonly List<AtomicWrite> _writes = [];
    private readonly TaskCompletionSource _committed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _gate = new();
    private readonly CancellationTokenSource? _timeout;
    private int _answered;

    /// <summary>A group of <paramref name="expected"/> participants writing to <paramref name="journal"/>.</summary>
    public JournalWriteGroup(IJournal journal, int expected, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(journal);
        ArgumentOutOfRangeException.ThrowIfNegative(expected);
        _journal = journal;
        Expected = expected;
        if (expected == 0)
        {
            _committed.TrySetResult();
            return;
        }

        // The timer goes when the group completes: a pending timer would keep the group and its writes reachable
        // (a burst of batches held every event and index row written until the timeouts ran out).
        _timeout = new CancellationTokenSource(timeout);
        _timeout.Token.Register(() =>
            _committed.TrySetException(
                new TimeoutException(
                    $"a write group of {expected} did not complete within {timeout} ({Volatile.Read(ref _answered)} answered); nothing was stored"
                )
            )
        );
        _committed.Task.ContinueWith(
            _ => _timeout.Dispose(),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default
        );
    }

    /// <summary>How many participants must add or skip before the group commits.</summary>
    public int Expected { get; }

    /// <summary>Completes when the whole group is stored; fails when it is not (then nothing of it is stored).</summary>
    public Task Committed => _committed.Task;

    /// <summary>Adds one participant's write; the task completes when the group is stored.</summary>
    public Task AddAsync(AtomicWrite write)
    {
        ArgumentNullException.ThrowIfNull(write);
        lock (_gate)
        {
            _writes.Add(write);
        }

        Answer();
        return _committed.Task;
    }

    /// <summary>One participant has nothing to write.</summary>
    public void Skip() => Answer();

    private void Answer()
    {
        if (Interlocked.Increment(ref _answered) != Expected)
        {
            return;
        }

        List<AtomicWrite> writes;
        lock (_gate)
        {
            writes = [.. _writes];
            _writes.Clear();
        }

        if (_committed.Task.IsCompleted)
        {
            return; // timed out: nothing is written
        }

        _ = _journal
            .WriteGroupAsync(writes, CancellationToken.None)
            .ContinueWith(
                t =>
                {
                    if (t.IsCompletedSuccessfully)
                    {
                        _committed.TrySetResult();
                    }
                    else
                    {
                        _committed.TrySetException(t.Exception!.GetBaseException());
                    }
                },
                TaskScheduler.Default
            );
    }
}
