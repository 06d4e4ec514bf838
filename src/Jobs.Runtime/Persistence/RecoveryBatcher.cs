using System.Threading.Channels;
using Jobs.Persistence.Journal;
using Jobs.Persistence.Snapshots;

namespace Jobs.Runtime.Persistence;

/// <summary>
/// Coalesces the recoveries of many persistent actors into shared reads: whatever asked while a read was under way
/// goes in the next one (at most <see cref="PersistenceOptions.RecoveryBatchSize"/> streams), which loads their
/// snapshots in one round trip and their events and highest sequence numbers in another. A lone recovery is not
/// delayed; a burst (a batch of new jobs, a drain of passivated ones) costs two queries per batch, not three per actor.
/// </summary>
internal sealed class RecoveryBatcher
{
    private readonly Channel<Request> _requests = Channel.CreateUnbounded<Request>(new UnboundedChannelOptions { SingleReader = false });
    private readonly IJournal _journal;
    private readonly ISnapshotStore _snapshots;
    private readonly int _batchSize;

    public RecoveryBatcher(IJournal journal, ISnapshotStore snapshots, int batchSize, int readers)
    {
        _journal = journal;
        _snapshots = snapshots;
        _batchSize = batchSize;
        for (var i = 0; i < readers; i++)
        {
            _ = Task.Run(ReadLoopAsync);
        }
    }

    /// <summary>The latest snapshot and the events after it of one stream, read together with whatever else is waiting.</summary>
    public Task<(SelectedSnapshot? Snapshot, RecoveredEvents Events)> RecoverAsync(string persistenceId)
    {
        var request = new Request(persistenceId);
        if (!_requests.Writer.TryWrite(request))
        {
            throw new InvalidOperationException("recovery is shut down");
        }

        return request.Result.Task;
    }

    private async Task ReadLoopAsync()
    {
        var batch = new List<Request>(_batchSize);
        while (await _requests.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < _batchSize && _requests.Reader.TryRead(out var request))
            {
                batch.Add(request);
            }

            if (batch.Count > 0)
            {
                await ReadAsync(batch).ConfigureAwait(false);
            }
        }
    }

    private async Task ReadAsync(List<Request> batch)
    {
        try
        {
            var ids = batch.Select(r => r.PersistenceId).Distinct(StringComparer.Ordinal).ToList();
            var snapshots = await _snapshots.LoadLatestManyAsync(ids, CancellationToken.None).ConfigureAwait(false);
            var events = await _journal.ReplayManyAsync(
                [.. ids.Select(id => (id, snapshots.TryGetValue(id, out var s) ? s.Metadata.SequenceNr + 1 : 1L))],
                CancellationToken.None).ConfigureAwait(false);
            foreach (var request in batch)
            {
                request.Result.TrySetResult((snapshots.GetValueOrDefault(request.PersistenceId), events[request.PersistenceId]));
            }
        }
        catch (Exception ex)
        {
            foreach (var request in batch)
            {
                request.Result.TrySetException(ex);
            }
        }
    }

    private sealed class Request(string persistenceId)
    {
        public string PersistenceId { get; } = persistenceId;

        public TaskCompletionSource<(SelectedSnapshot? Snapshot, RecoveredEvents Events)> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
