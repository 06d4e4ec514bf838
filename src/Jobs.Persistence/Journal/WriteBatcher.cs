using System.Threading.Channels;

namespace Jobs.Persistence.Journal;

/// <summary>
/// Group commit without a timer: writes queue in a bounded channel; each writer loop takes everything queued (up to a
/// batch limit) and stores it in one transaction, and whatever arrives meanwhile forms the next batch. A full queue
/// makes callers wait (back-pressure) instead of growing memory.
/// </summary>
internal sealed class WriteBatcher : IAsyncDisposable
{
    private readonly Channel<PendingWrite> _queue;
    private readonly Func<IReadOnlyList<PendingWrite>, CancellationToken, Task> _storeBatch;
    private readonly Func<PendingWrite, CancellationToken, Task>? _storeGroup;
    private readonly int _maxBatch;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task[] _loops;

    public WriteBatcher(
        int queueCapacity,
        int maxBatch,
        int parallelism,
        Func<IReadOnlyList<PendingWrite>, CancellationToken, Task> storeBatch,
        Func<PendingWrite, CancellationToken, Task>? storeGroup = null
    )
    {
        _storeGroup = storeGroup;
        _queue = Channel.CreateBounded<PendingWrite>(
            new BoundedChannelOptions(queueCapacity)
            {
                FullMode = BoundedChannelFullMode.Wait,
                SingleReader = parallelism == 1,
                SingleWriter = false,
            }
        );
        _storeBatch = storeBatch;
        _maxBatch = maxBatch;
        _loops = [.. Enumerable.Range(0, parallelism).Select(_ => Task.Run(RunAsync))];
    }

    public Task WriteAsync(AtomicWrite write, CancellationToken cancellationToken) => EnqueueAsync(new PendingWrite(write), cancellationToken);

    /// <summary>Queues writes that must commit together, in a transaction of their own (through the same writer loops).</summary>
    public Task WriteGroupAsync(IReadOnlyList<AtomicWrite> writes, CancellationToken cancellationToken) =>
        _storeGroup is null
            ? throw new NotSupportedException("this batcher stores no groups")
            : EnqueueAsync(new PendingWrite(writes[0]) { Group = writes }, cancellationToken);

    private async Task EnqueueAsync(PendingWrite pending, CancellationToken cancellationToken)
    {
        if (!_queue.Writer.TryWrite(pending))
        {
            try
            {
                await _queue.Writer.WriteAsync(pending, cancellationToken).ConfigureAwait(false);
            }
            catch (ChannelClosedException)
            {
                throw new ObjectDisposedException(nameof(WriteBatcher), "the journal is stopped");
            }
        }

        await pending.Completion.Task.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        try
        {
            await Task.WhenAll(_loops).WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private async Task RunAsync()
    {
        var batch = new List<PendingWrite>(_maxBatch);
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            PendingWrite? group = null;
            while (batch.Count < _maxBatch && reader.TryRead(out var pending))
            {
                if (pending.Group is not null)
                {
                    group = pending; // stored alone, after the writes queued before it
                    break;
                }

                batch.Add(pending);
            }

            if (batch.Count > 0)
            {
                await StoreAsync(batch, () => _storeBatch(batch, _stopping.Token)).ConfigureAwait(false);
            }

            if (group is not null)
            {
                await StoreAsync([group], () => _storeGroup!(group, _stopping.Token)).ConfigureAwait(false);
            }
        }
    }

    private static async Task StoreAsync(IReadOnlyList<PendingWrite> writes, Func<Task> store)
    {
        try
        {
            await store().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // The store decides per write; anything escaping is a storage failure for the whole batch.
            foreach (var pending in writes)
            {
                pending.Completion.TrySetException(ex);
            }
        }
    }
}

/// <summary>A write waiting in the batcher and the caller's completion.</summary>
internal sealed class PendingWrite(AtomicWrite write)
{
    public AtomicWrite Write { get; } = write;

    /// <summary>For a group: every write of it (committed together, all or none).</summary>
    public IReadOnlyList<AtomicWrite>? Group { get; init; }

    public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
